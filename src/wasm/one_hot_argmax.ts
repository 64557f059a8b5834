/**
 * The wasm kernel of the op oneHotArgmaxLast (src/ops/one_hot_argmax.ts): one
 * pass over the rows on the host, in place of the plain composition's dozen
 * kernels. Rows are short (K classes), so a JS loop over the heap is enough.
 */
import * as tf from '@tensorflow/tfjs';
import { ONE_HOT_ARGMAX_KERNEL } from '../ops/one_hot_argmax.js';
import type { KernelArgs, WasmBackendLike } from './backend_like.js';

/**
 * out = one_hot(argmax(x)) per row of k (the first of tied maxima); a row
 * holding NaN or only -Infinity becomes a row of NaN.
 */
export function oneHotArgmaxRows(x: ArrayLike<number>, out: Float32Array, k: number): void {
  for (let base = 0; base < x.length; base += k) {
    let best = -1;
    let max = -Infinity;
    let bad = false;
    for (let j = 0; j < k; j++) {
      const v = x[base + j];
      if (v !== v)
        bad = true; // NaN
      else if (v > max) {
        best = j;
        max = v;
      }
    }
    // best stays -1 when every class is -Infinity.
    const fill = bad || best < 0 ? Number.NaN : 0;
    for (let j = 0; j < k; j++) out[base + j] = fill;
    if (fill === 0) out[base + best] = 1;
  }
}

function oneHotArgmaxWasm({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput(x.shape, 'float32');
  const k = x.shape[x.shape.length - 1];
  // Views after the allocation, which may have grown the heap; the input's in its own dtype.
  if (k > 0) oneHotArgmaxRows(b.typedArrayFromHeap(x), b.typedArrayFromHeap(out), k);
  return out;
}

/** Registers the kernel (idempotent). */
export function registerOneHotArgmaxKernel(): void {
  if (!tf.getKernel(ONE_HOT_ARGMAX_KERNEL, 'wasm')) {
    tf.registerKernel({ kernelName: ONE_HOT_ARGMAX_KERNEL, backendName: 'wasm', kernelFunc: oneHotArgmaxWasm });
  }
}
