/**
 * WGSL programs for tfjs-backend-webgpu: the fused operations of catvae's
 * training step (src/wasm/step_ops.ts names them), the Gumbel noise transform
 * and Adam. Each is one dispatch where the plain tfjs ops take 3 to 20, each
 * with its own uniform upload and intermediate buffer.
 *
 * tfjs generates the bindings (inputs by `variableNames`, output `result`,
 * `uniforms.size` and the fields listed in `uniforms`) and calls `main(index)`
 * once per invocation of a flat dispatch.
 */

/** The fields of a tfjs WebGPUProgram that catvae's programs set. */
export interface FlatProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: true;
  uniforms?: string;
  getUserCode(): string;
}

const WORKGROUP = 64;

/** A program over `invocations` threads writing a tensor of `outputShape`; `body` runs for index < `bound`. */
function flatProgram(
  key: string,
  variableNames: string[],
  outputShape: number[],
  invocations: number,
  uniforms: string,
  body: string,
  bound = 'uniforms.size',
  helpers = '',
): FlatProgram {
  return {
    variableNames,
    outputShape,
    shaderKey: `catvae_${key}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(invocations / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    ...(uniforms ? { uniforms } : {}),
    getUserCode: () => `
      ${helpers}
      fn main(index : i32) {
        if (index < ${bound}) {
          ${body}
        }
      }`,
  };
}

/** dy where x > 0, else 0. */
export const reluGradientProgram = (shape: number[]) =>
  flatProgram('relu_grad', ['dy', 'x'], shape, size(shape), '', 'result[index] = select(0.0, dy[index], x[index] > 0.0);');

/** (sigmoid(z) - x) * scale; exp(-z) may overflow to +Inf for z < -88, which gives 0 as it should. */
export const bernoulliGradientProgram = (shape: number[]) =>
  flatProgram(
    'bernoulli_grad',
    ['z', 'x'],
    shape,
    size(shape),
    'scale : f32,',
    'result[index] = (1.0 / (1.0 + exp(-z[index])) - x[index]) * uniforms.scale;',
  );

/**
 * g = -log(-log(u)) for u in the open (0, 1). Near u = 1 a shader's log(u) is
 * off by up to 2^-21 absolute, which is most of -log(u) itself (g then errs by
 * 0.5 at u = 1 - 2^-24): there -log(u) = -log1p(-t), t = 1 - u (exact), is
 * taken from its series, t + t^2/2 + ... + t^5/5, good to float32 for t < 0.05.
 */
export const gumbelNoiseProgram = (shape: number[]) =>
  flatProgram(
    'gumbel',
    ['u'],
    shape,
    size(shape),
    '',
    `let x = u[index];
          let t = 1.0 - x;
          let series = t * (1.0 + t * (0.5 + t * (0.33333334 + t * (0.25 + t * 0.2))));
          result[index] = -log(select(-log(x), series, t < 0.05));`,
  );

/** y = softmax((logits + g) / tau) over rows of k: one invocation per row (k is small: 10 in the paper's model). */
export const relaxedSoftmaxProgram = (shape: number[], k: number) =>
  flatProgram(
    'relaxed_softmax',
    ['logits', 'noise'],
    shape,
    size(shape) / k,
    'invTau : f32, k : i32,',
    `let k = uniforms.k;
          let row = index * k;
          var m = (logits[row] + noise[row]) * uniforms.invTau;
          for (var j = 1; j < k; j++) { m = max(m, (logits[row + j] + noise[row + j]) * uniforms.invTau); }
          var total = 0.0;
          for (var j = 0; j < k; j++) { total += exp((logits[row + j] + noise[row + j]) * uniforms.invTau - m); }
          let inv = 1.0 / total;
          for (var j = 0; j < k; j++) { result[row + j] = exp((logits[row + j] + noise[row + j]) * uniforms.invTau - m) * inv; }`,
    'uniforms.size / uniforms.k',
  );

/**
 * d/dlogits through the relaxed sample, y (dy - sum_k dy y) / tau, plus
 * klWeight q (log q - sum_k q log q) with q = softmax(logits): one invocation per row.
 */
export const latentGradientProgram = (shape: number[], k: number) =>
  flatProgram(
    'latent_grad',
    ['dy', 'y', 'logits'],
    shape,
    size(shape) / k,
    'invTau : f32, klWeight : f32, k : i32,',
    `let k = uniforms.k;
          let row = index * k;
          var dyy = 0.0;
          var m = logits[row];
          for (var j = 0; j < k; j++) { dyy += dy[row + j] * y[row + j]; m = max(m, logits[row + j]); }
          var total = 0.0;
          for (var j = 0; j < k; j++) { total += exp(logits[row + j] - m); }
          let logZ = m + log(total);
          var qLogQ = 0.0;
          for (var j = 0; j < k; j++) { let lq = logits[row + j] - logZ; qLogQ += exp(lq) * lq; }
          for (var j = 0; j < k; j++) {
            let lq = logits[row + j] - logZ;
            let sample = y[row + j] * (dy[row + j] - dyy) * uniforms.invTau;
            result[row + j] = sample + uniforms.klWeight * exp(lq) * (lq - qLogQ);
          }`,
    'uniforms.size / uniforms.k',
  );

/** Which of Adam's three results a program writes. */
export type AdamOutput = 'value' | 'm' | 'v';

/**
 * One of Adam's results (the same arithmetic as src/wasm/adam.ts: subnormal
 * moments flushed to zero, one division and one square root). tfjs programs
 * have one output, so the update is three dispatches reading the same inputs.
 */
export const adamProgram = (shape: number[], output: AdamOutput) =>
  flatProgram(
    `adam_${output}`,
    ['value', 'gradient', 'm', 'v'],
    shape,
    size(shape),
    'beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32, step : f32, epsHat : f32,',
    // Every input is bound whichever result is written: an unused binding would leave tfjs's bind group
    // out of step with the pipeline's layout (the phony assignment counts as a use).
    `_ = value[index];
          let g = gradient[index];
          let mi = flushed(uniforms.beta1 * m[index] + uniforms.oneMinusBeta1 * g);
          let vi = flushed(uniforms.beta2 * v[index] + uniforms.oneMinusBeta2 * g * g);
          result[index] = ${output === 'm' ? 'mi' : output === 'v' ? 'vi' : 'value[index] - uniforms.step * mi / (sqrt(vi) + uniforms.epsHat)'};`,
    'uniforms.size',
    'fn flushed(x : f32) -> f32 { return select(x, 0.0, abs(x) < 1.1754943508222875e-38); }',
  );

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
