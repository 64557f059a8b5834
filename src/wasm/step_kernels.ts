/**
 * wasm kernels for the fused ops of the hand-written step (src/ops/step_ops.ts)
 * and for the Gumbel noise op (src/ops/gumbel_noise.ts), each replacing the
 * several tfjs kernels of the op's plain composition.
 *
 * Their exp and log are SIMD loops (elementwise_kernels.ts) rather than a
 * libm call per float, and the row sums and maxima of the latent block wasm
 * row loops (latent_kernels.ts). Where the engine has no SIMD wasm the
 * kernels run JS loops over the heap (the element-wise tails, and
 * latent_fallback.ts for the row kernels), so the ops need not know.
 */
import * as tf from '@tensorflow/tfjs';
import { GUMBEL_NOISE_KERNEL } from '../ops/gumbel_noise.js';
import { BERNOULLI_GRADIENT_KERNEL, LATENT_GRADIENT_KERNEL, RELAXED_SOFTMAX_KERNEL, RELU_GRADIENT_KERNEL } from '../ops/step_ops.js';
import { heapOffset as offset, type KernelArgs, type WasmBackendLike } from './backend_like.js';
import { ELEMENTWISE_UNROLL } from './elementwise_kernels.js';
import { kernelCall, runShares, type KernelCall } from './kernel_pool.js';
import { latentGradientRows, relaxedSoftmaxRows } from './latent_fallback.js';
import { simdKernelsFor } from './simd_kernels.js';

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

/** Views of the tensors on the heap (taken after every allocation, which may grow it). */
function heap<T extends tf.TensorInfo[]>(b: WasmBackendLike, ...tensors: T): { [I in keyof T]: Float32Array } {
  return tensors.map((t) => b.typedArrayFromHeap(t)) as { [I in keyof T]: Float32Array };
}

/**
 * The row loops on the calling thread (the block is ~20k floats: a hand-off
 * would cost more): `shifted` writes s - max_row(s) into a scratch padded to
 * whole SIMD turns, then e = exp of it, then `finish(e)` (scratch offset).
 * Without SIMD wasm, `withoutSimd` computes the same on the host.
 */
function rowPasses(
  b: WasmBackendLike,
  size: number,
  shifted: (scratch: number) => KernelCall,
  finish: (scratch: number) => KernelCall,
  withoutSimd: () => void,
): void {
  if (!simdKernelsFor(b.wasm)) return withoutSimd();
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
    () => relaxedSoftmaxRows(...heap(b, logits, noise, out), k, 1 / tau),
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
    () => latentGradientRows(...heap(b, dy, y, logits, out), k, 1 / tau, klWeight),
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
