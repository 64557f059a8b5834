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
 * The floor at 2^-24 (-log u at the largest u) guards the outer log all the same.
 */
const GUMBEL_OF_UNIFORM = `
  fn gumbelOfUniform(x : f32) -> f32 {
    let t = 1.0 - x;
    let series = t * (1.0 + t * (0.5 + t * (0.33333334 + t * (0.25 + t * 0.2))));
    return -log(max(select(-log(x), series, t < 0.05), 5.9604645e-8));
  }`;

export const gumbelNoiseProgram = (shape: number[]) =>
  flatProgram('gumbel', ['u'], shape, size(shape), '', 'result[index] = gumbelOfUniform(u[index]);', 'uniforms.size', GUMBEL_OF_UNIFORM);

/**
 * Philox4x32-10 in u32 arithmetic, as src/ops/philox.ts computes it on the
 * host: WGSL has no 32x32 -> 64 multiply, so the high word comes from 16-bit halves.
 */
const PHILOX = `
  fn mulhi32(a : u32, b : u32) -> u32 {
    let aLo = a & 0xffffu;
    let aHi = a >> 16u;
    let bLo = b & 0xffffu;
    let bHi = b >> 16u;
    let loHi = aLo * bHi;
    let hiLo = aHi * bLo;
    let carry = (((aLo * bLo) >> 16u) + (loHi & 0xffffu) + (hiLo & 0xffffu)) >> 16u;
    return aHi * bHi + (loHi >> 16u) + (hiLo >> 16u) + carry;
  }
  fn philox4x32(counter : vec4<u32>, key : vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var r = 0; r < 10; r++) {
      if (r > 0) { k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u); }
      let hi0 = mulhi32(0xd2511f53u, c.x);
      let lo0 = 0xd2511f53u * c.x;
      let hi1 = mulhi32(0xcd9e8d57u, c.z);
      let lo1 = 0xcd9e8d57u * c.z;
      c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
  }
  fn openUniform(word : u32) -> f32 {
    // (2m + 1) * 2^-24 with m < 2^23: exact in float32, the product by a power of two too.
    return f32((word >> 9u) * 2u + 1u) * 5.9604644775390625e-8;
  }`;

/**
 * Noise of the Philox stream (key0, key1): invocation b draws block b and
 * writes elements 4b .. 4b + 3 (uniforms, or their Gumbel transform). Nothing
 * is read: no upload, one dispatch.
 */
export const counterNoiseProgram = (shape: number[], uniform: boolean) =>
  flatProgram(
    uniform ? 'counter_uniform' : 'counter_gumbel',
    [],
    shape,
    Math.ceil(size(shape) / 4),
    'key0 : u32, key1 : u32,',
    `let words = philox4x32(vec4<u32>(u32(index), 0u, 0u, 0u), vec2<u32>(uniforms.key0, uniforms.key1));
          for (var w = 0; w < 4; w++) {
            let i = index * 4 + w;
            if (i < uniforms.size) { result[i] = ${uniform ? 'openUniform(words[w])' : 'gumbelOfUniform(openUniform(words[w]))'}; }
          }`,
    '(uniforms.size + 3) / 4',
    PHILOX + GUMBEL_OF_UNIFORM,
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
