/**
 * Fused ops of the hand-written training step (model/fast_step.ts), with
 * wasm kernels that replace ~40 small tfjs kernels a step:
 *
 * - relaxedSoftmax(logits, g, tau): y = softmax((logits + g) / tau) per
 *   variable (rows of K), the relaxed one-hot sample;
 * - latentGradient(dy, y, logits, tau, klWeight): d/dlogits of the loss,
 *   through the relaxed sample, y (dy - sum_k dy y) / tau, plus klWeight times
 *   that of KL(q || uniform), q (log q - sum_k q log q), q = softmax(logits);
 * - reluGradient(dy, x): dy where x > 0, else 0 (x the ReLU's output);
 * - bernoulliGradient(z, x, scale): (sigmoid(z) - x) scale, the reconstruction
 *   term's gradient with respect to the decoder's logits.
 *
 * On [B*N, K] = [2000, 10] each tfjs op costs more in dispatch and allocation
 * than in arithmetic, and its exp and log are libm calls per float. The wasm
 * kernels run the row sums and maxima as wasm row loops (latent_kernels.ts)
 * and the exponentials as SIMD loops (elementwise_kernels.ts). Also here:
 * the wasm kernel of the Gumbel noise op (layers/gumbel_noise.ts).
 * Elsewhere each op is the tfjs ops it replaces.
 */
import * as tf from '@tensorflow/tfjs';
import { GUMBEL_NOISE_KERNEL } from '../layers/gumbel_noise.js';
import { ELEMENTWISE_UNROLL } from './elementwise_kernels.js';
import { kernelCall, runShares, type KernelCall } from './kernel_pool.js';
import { simdKernelsFor } from './simd_kernels.js';

export const RELAXED_SOFTMAX_KERNEL = 'CatvaeRelaxedSoftmax';
export const LATENT_GRADIENT_KERNEL = 'CatvaeLatentGradient';
export const RELU_GRADIENT_KERNEL = 'CatvaeReluGradient';
export const BERNOULLI_GRADIENT_KERNEL = 'CatvaeBernoulliGradient';

interface WasmBackendLike {
  wasm: object;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}
type KernelArgs = Parameters<tf.KernelFunc>[0];

const offset = (b: WasmBackendLike, t: tf.TensorInfo) => b.dataIdMap.get(t.dataId).memoryOffset;

/**
 * Runs the element-wise SIMD loop `name` on the whole turns of `size` floats
 * (sources, then dst); returns how many floats it did: 0 without SIMD wasm.
 */
function simdHead(backend: WasmBackendLike, name: string, tensors: tf.TensorInfo[], size: number, ...scalars: number[]): number {
  const width = 4 * ELEMENTWISE_UNROLL;
  const head = simdKernelsFor(backend.wasm) ? size - (size % width) : 0;
  if (head > 0) runShares(backend.wasm, [[kernelCall(name, ...tensors.map((t) => offset(backend, t)), 4 * head, ...scalars)]]);
  return head;
}

/** float32 inputs of one size (a multiple of `rowLength`): the kernels read them as flat arrays. */
function checkInputs(name: string, tensors: tf.TensorInfo[], rowLength = 1): void {
  if (tensors.some((t) => t.dtype !== 'float32'))
    throw new Error(`${name}: float32 inputs expected, got ${tensors.map((t) => t.dtype).join(', ')}`);
  const sizes = tensors.map((t) => tf.util.sizeFromShape(t.shape));
  if (sizes.some((n) => n !== sizes[0]) || sizes[0] % rowLength !== 0) {
    const shapes = tensors.map((t) => `[${t.shape.join(', ')}]`).join(', ');
    throw new Error(
      `${name}: inputs of ${shapes} do not hold the same number of values${rowLength > 1 ? `, in rows of ${rowLength}` : ''}`,
    );
  }
}

/**
 * The row loops on the calling thread (the block is ~20k floats: a hand-off
 * would cost more): `shifted` writes s - max_row(s) into a scratch padded to
 * whole SIMD turns, then e = exp of it, then `finish(e)` (scratch offset).
 */
function rowPasses(
  b: WasmBackendLike,
  size: number,
  shifted: (scratch: number) => KernelCall,
  finish: (scratch: number) => KernelCall,
): void {
  if (!simdKernelsFor(b.wasm))
    throw new Error('the latent block kernels need SIMD wasm: call relaxedSoftmax and latentGradient, which fall back to tfjs ops');
  const width = 4 * ELEMENTWISE_UNROLL;
  const padded = Math.ceil(size / width) * width;
  const scratch = b.makeOutput([padded], 'float32');
  const at = offset(b, scratch);
  runShares(b.wasm, [[shifted(at), kernelCall('expNonPositive', at, at, 4 * padded), finish(at)]]);
  b.disposeData(scratch.dataId);
}

function relaxedSoftmaxWasm({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { logits, noise } = inputs as { logits: tf.TensorInfo; noise: tf.TensorInfo };
  const { tau, categories: k } = attrs as { tau: number; categories: number };
  checkInputs(RELAXED_SOFTMAX_KERNEL, [logits, noise], k);
  const b = backend as unknown as WasmBackendLike;
  const size = tf.util.sizeFromShape(logits.shape);
  const rows = size / k;
  const out = b.makeOutput(logits.shape, 'float32');
  const [l, g, y] = [logits, noise, out].map((t) => offset(b, t));
  rowPasses(
    b,
    size,
    (s) => kernelCall('rowShift', l, g, s, rows, k, 1 / tau),
    (s) => kernelCall('rowNormalize', s, y, rows, k),
  );
  return out;
}

function latentGradientWasm({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { dy, y, logits } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo; logits: tf.TensorInfo };
  const { tau, categories: k, klWeight } = attrs as { tau: number; categories: number; klWeight: number };
  checkInputs(LATENT_GRADIENT_KERNEL, [dy, y, logits], k);
  const b = backend as unknown as WasmBackendLike;
  const size = tf.util.sizeFromShape(logits.shape);
  const rows = size / k;
  const out = b.makeOutput(logits.shape, 'float32');
  const [d, s, l, o] = [dy, y, logits, out].map((t) => offset(b, t));
  rowPasses(
    b,
    size,
    (e) => kernelCall('rowShift', l, 0, e, rows, k, 1),
    (e) => kernelCall('latentGrad', e, d, s, l, o, rows, k, 1 / tau, klWeight),
  );
  return out;
}

/**
 * A kernel running the element-wise SIMD loop `loop` over its inputs (named
 * `inputNames`, in the loop's order) and the attributes `scalars`; `tail`
 * computes one value for the floats after the last whole SIMD turn.
 */
function elementwiseKernel(
  kernelName: string,
  loop: string,
  inputNames: string[],
  tail: (values: number[], scalars: number[]) => number,
  scalars: string[] = [],
): tf.KernelFunc {
  return ({ inputs, attrs, backend }: KernelArgs) => {
    const tensors = inputNames.map((name) => inputs[name] as tf.TensorInfo);
    const values = scalars.map((name) => (attrs as Record<string, number>)[name]);
    checkInputs(kernelName, tensors);
    const b = backend as unknown as WasmBackendLike;
    const out = b.makeOutput(tensors[0].shape, 'float32');
    const size = tf.util.sizeFromShape(out.shape);
    const head = simdHead(b, loop, [...tensors, out], size, ...values);
    // Views after the allocation, which may have grown the heap.
    const [o, ...sources] = [out, ...tensors].map((t) => b.typedArrayFromHeap(t));
    for (let i = head; i < size; i++)
      o[i] = tail(
        sources.map((src) => src[i]),
        values,
      );
    return out;
  };
}

const reluGradientWasm = elementwiseKernel(RELU_GRADIENT_KERNEL, 'reluGrad', ['dy', 'x'], ([dy, x]) => (x > 0 ? dy : 0));
const bernoulliGradientWasm = elementwiseKernel(
  BERNOULLI_GRADIENT_KERNEL,
  'bernoulliGrad',
  ['z', 'x'],
  ([z, x], [scale]) => (1 / (1 + Math.exp(-z)) - x) * scale,
  ['scale'],
);
const gumbelNoiseWasm = elementwiseKernel(GUMBEL_NOISE_KERNEL, 'gumbel', ['u'], ([u]) => -Math.log(-Math.log(u)));

const KERNELS: Record<string, tf.KernelFunc> = {
  [RELAXED_SOFTMAX_KERNEL]: relaxedSoftmaxWasm,
  [LATENT_GRADIENT_KERNEL]: latentGradientWasm,
  [RELU_GRADIENT_KERNEL]: reluGradientWasm,
  [BERNOULLI_GRADIENT_KERNEL]: bernoulliGradientWasm,
  [GUMBEL_NOISE_KERNEL]: gumbelNoiseWasm,
};

/** Registers the wasm kernels (idempotent). */
export function registerStepKernels(): void {
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

/** Whether the current backend runs the kernel `name` (the wasm row kernels also need SIMD wasm). */
function hasKernel(name: string, needsSimd = false): boolean {
  if (tf.getKernel(name, tf.getBackend()) == null) return false;
  const wasm = (tf.backend() as unknown as { wasm?: object }).wasm;
  // The SIMD condition is wasm's; another backend's registered kernel (webgpu's WGSL) always runs.
  return !needsSimd || wasm == null || simdKernelsFor(wasm) != null;
}

/** y = softmax((logits + g) / tau) over rows of `categories`, for logits and noise of the same shape. */
export function relaxedSoftmax(logits: tf.Tensor, noise: tf.Tensor, tau: number, categories: number): tf.Tensor {
  if (hasKernel(RELAXED_SOFTMAX_KERNEL, true))
    return tf.engine().runKernel(RELAXED_SOFTMAX_KERNEL, { logits, noise }, { tau, categories }) as tf.Tensor;
  return tf.tidy(() =>
    tf.reshape(tf.softmax(tf.reshape(tf.mul(tf.add(logits, tf.reshape(noise, logits.shape)), 1 / tau), [-1, categories])), logits.shape),
  );
}

/**
 * d/dlogits of L(y) + klWeight * KL(softmax(logits) || uniform), given dy =
 * dL/dy for y = relaxedSoftmax(logits, g, tau): rows of `categories`.
 */
export function latentGradient(
  dy: tf.Tensor,
  y: tf.Tensor,
  logits: tf.Tensor,
  tau: number,
  categories: number,
  klWeight: number,
): tf.Tensor {
  if (hasKernel(LATENT_GRADIENT_KERNEL, true))
    return tf.engine().runKernel(LATENT_GRADIENT_KERNEL, { dy, y, logits }, { tau, categories, klWeight }) as tf.Tensor;
  return tf.tidy(() => {
    const flat = [-1, categories];
    const [dyFlat, yFlat] = [tf.reshape(dy, flat), tf.reshape(y, flat)];
    // y = softmax(u / tau): du = y * (dy - sum_k dy * y) / tau
    const dyy = tf.mul(dyFlat, yFlat);
    const dSample = tf.mul(tf.sub(dyy, tf.mul(yFlat, tf.sum(dyy, -1, true))), 1 / tau);
    // KL(q || U) = sum_k q log q + log K: dKL/dlogits = q * (log q - sum_k q log q)
    const logQ = tf.logSoftmax(tf.reshape(logits, flat));
    const q = tf.exp(logQ);
    const dKl = tf.mul(q, tf.sub(logQ, tf.sum(tf.mul(q, logQ), -1, true)));
    return tf.reshape(tf.add(dSample, tf.mul(dKl, klWeight)), logits.shape);
  });
}

/** dy where x > 0, else 0: the gradient through a ReLU whose output is x. */
export function reluGradient(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (hasKernel(RELU_GRADIENT_KERNEL)) return tf.engine().runKernel(RELU_GRADIENT_KERNEL, { dy, x }, {}) as tf.Tensor;
  return tf.tidy(() => tf.mul(dy, tf.step(x)));
}

/** (sigmoid(z) - x) * scale: the gradient of scale * sum BCE(logits z, targets x) with respect to z. */
export function bernoulliGradient(z: tf.Tensor, x: tf.Tensor, scale: number): tf.Tensor {
  if (hasKernel(BERNOULLI_GRADIENT_KERNEL)) return tf.engine().runKernel(BERNOULLI_GRADIENT_KERNEL, { z, x }, { scale }) as tf.Tensor;
  return tf.tidy(() => tf.mul(tf.sub(tf.sigmoid(z), x), scale));
}
