/**
 * A faster wasm Transpose for float32 matrices.
 *
 * tfjs-backend-wasm 4.22 transposes one float at a time with strided loads;
 * the matmul override (matmul.ts) transposes on every dense layer's forward
 * and backward, so this override swaps the two axes of a float32 matrix (or
 * of each matrix in a batch) with the 4x4 SIMD blocks of simd_kernels.ts.
 * Other permutations, dtypes, and backends without wasm SIMD keep tfjs's
 * kernel. The result is bit-identical: it only moves values.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './backend_like.js';
import { kernelOverride } from './kernel_override.js';
import { simdKernelsFor } from './simd_kernels.js';

/**
 * The transpose as `batch` independent [rows, cols] -> [cols, rows] swaps,
 * or null when the permutation is not of that form. Axes of size 1 are
 * ignored (they do not move data), as tfjs's own kernel does.
 */
export function asMatrixSwap(shape: number[], perm: number[]): { batch: number; rows: number; cols: number } | null {
  const kept = perm.filter((axis) => shape[axis] !== 1);
  // Renumber the kept axes 0..n-1 in their input order.
  const order = [...kept].sort((a, b) => a - b);
  const p = kept.map((axis) => order.indexOf(axis));
  const n = p.length;
  const inputSize = (from: number, to: number) => order.slice(from, to).reduce((s, axis) => s * shape[axis], 1);
  // Leading axes that stay put form the batch; the rest must be a rotation [k..m-1, 0..k-1] of what remains.
  let lead = 0;
  while (lead < n && p[lead] === lead) lead++;
  if (lead === n) return null; // the identity: nothing to swap
  const rest = p.slice(lead).map((axis) => axis - lead);
  const m = rest.length;
  const k = rest[0];
  for (let i = 0; i < m; i++) if (rest[i] !== (k + i) % m) return null;
  return { batch: inputSize(0, lead), rows: inputSize(lead, lead + k), cols: inputSize(lead + k, n) };
}

function swapEdges(src: Float32Array, dst: Float32Array, rows: number, cols: number, rows4: number, cols4: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = r < rows4 ? cols4 : 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  }
}

function transposeKernel(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = (args.attrs as { perm: number[] }).perm;
    const backend = args.backend as unknown as WasmBackendLike;
    const swap = x.dtype === 'float32' ? asMatrixSwap(x.shape, perm) : null;
    const simd = swap ? simdKernelsFor(backend.wasm) : null;
    if (!swap || !simd) return original(args);
    const out = backend.makeOutput(
      perm.map((axis) => x.shape[axis]),
      'float32',
    );
    const { batch, rows, cols } = swap;
    const [rows4, cols4] = [rows & ~3, cols & ~3];
    const src = backend.dataIdMap.get(x.dataId).memoryOffset;
    const dst = backend.dataIdMap.get(out.dataId).memoryOffset;
    const bytes = rows * cols * 4;
    for (let b = 0; b < batch; b++) {
      simd.transpose(src + b * bytes, dst + b * bytes, rows, cols, rows4, cols4);
      if (rows4 < rows || cols4 < cols) {
        const size = rows * cols;
        const from = backend.typedArrayFromHeap(x).subarray(b * size, (b + 1) * size);
        const to = backend.typedArrayFromHeap(out).subarray(b * size, (b + 1) * size);
        swapEdges(from, to, rows, cols, rows4, cols4);
      }
    }
    return out;
  };
}

const override = kernelOverride(tf.Transpose, transposeKernel);

/** Replaces the wasm Transpose kernel (idempotent; needs the wasm package imported). */
export const registerTransposeKernel = override.install;

/** Puts tfjs's kernel back. */
export const unregisterTransposeKernel = override.uninstall;
