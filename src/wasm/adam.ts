/**
 * The wasm kernel of catvae's fused Adam op (src/ops/adam.ts): a SIMD loop
 * (simd_kernels.ts) over the heap, split across the kernel threads.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_KERNEL, adamUpdate, type AdamAttrs, type AdamInputs } from '../ops/adam.js';
import type { WasmBackendLike } from './backend_like.js';
import { kernelCall, kernelThreads, runShares, type KernelCall } from './kernel_pool.js';
import { simdKernelsFor } from './simd_kernels.js';

/** Below this many weights one thread updates them all: a hand-off would cost more. */
const MIN_PARALLEL = 16_384;

/**
 * wasm: the SIMD loop of simd_kernels.ts over the heap, 4 weights at a time; the
 * last n % 4 (and everything, where wasm SIMD is missing) by the JS loop.
 * Outputs are allocated first, since an allocation may move the heap views.
 */
function adamWasm({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { value, gradient, m, v } = inputs as AdamInputs;
  const b = backend as unknown as WasmBackendLike;
  const a = attrs as unknown as AdamAttrs;
  const out = [b.makeOutput(value.shape, 'float32'), b.makeOutput(m.shape, 'float32'), b.makeOutput(v.shape, 'float32')];
  const all = [value, gradient, m, v, ...out];
  const n = tf.util.sizeFromShape(value.shape);
  const simd = simdKernelsFor(b.wasm)?.adam;
  const head = simd ? n & ~3 : 0;
  if (simd && head > 0) {
    const offsets = all.map((t) => b.dataIdMap.get(t.dataId).memoryOffset);
    const root2 = Math.sqrt(a.biasCorrection2);
    const step = (a.learningRate * root2) / a.biasCorrection1;
    const constants = [a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, step, a.epsilon * root2];
    // Element-wise: split into equal runs of whole vectors, one per kernel thread.
    const threads = head >= MIN_PARALLEL ? kernelThreads(b.wasm) : 1;
    const shares: KernelCall[][] = [];
    for (let t = 0; t < threads; t++) {
      const from = Math.floor((t * head) / threads / 4) * 4;
      const to = Math.floor(((t + 1) * head) / threads / 4) * 4;
      if (to > from) shares.push([kernelCall('adam', ...offsets.map((o) => o + 4 * from), 4 * (to - from), ...constants)]);
    }
    runShares(b.wasm, shares);
  }
  if (head < n) {
    const [p0, g0, m0, v0, p1, m1, v1] = all.map((t) => b.typedArrayFromHeap(t).subarray(head));
    adamUpdate(p0, g0, m0, v0, p1, m1, v1, a);
  }
  return out;
}

/** Registers the wasm kernel (idempotent). */
export function registerAdamKernels(): void {
  if (!tf.getKernel(ADAM_KERNEL, 'wasm')) tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: 'wasm', kernelFunc: adamWasm });
}
