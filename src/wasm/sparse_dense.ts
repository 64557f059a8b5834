/**
 * wasm kernels of the sparse-input dense ops (src/ops/sparse_dense.ts): a
 * dense layer whose input is mostly zeros, such as binarised MNIST (about
 * 13% ones), y = act(x W + b) and its weight gradient x^T dy, adding rows of
 * W (of dy) only where x is non-zero. For the VAE's first layer that is ~8x
 * fewer operations than the dense product, which is a third of the model's
 * arithmetic. Kernels for wasm: the SIMD loop sparseScan of simd_kernels.ts
 * gathers the non-zeros of each row of x (each column, for the gradient) and
 * sums those rows of W (of dy); elsewhere, the ordinary dense ops. On a
 * dense input the result is the same, at up to ~2x the dense product's time.
 */
import * as tf from '@tensorflow/tfjs';
import { SPARSE_DENSE_GRAD_KERNEL, SPARSE_DENSE_KERNEL } from '../ops/sparse_dense.js';
import type { KernelArgs, WasmBackendLike } from './backend_like.js';
import { kernelCall, kernelThreads, runShares, type KernelCall } from './kernel_pool.js';
import { SPARSE_SLICE, simdKernelsFor } from './simd_kernels.js';

/** Below this many multiply-adds one thread does the layer: a hand-off would cost more. */
const MIN_PARALLEL_MACS = 100_000;

/**
 * out [lists, n] = act(init + sparse x mat) on the wasm heap, the lists being
 * x's rows (the layer) or its columns (x^T dy), or null without SIMD wasm or
 * when n is not a multiple of SPARSE_SLICE. The lists are split evenly across
 * the kernel threads, each with its own scratch for the gathered non-zeros.
 */
function sparseProduct(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  byColumn: boolean,
  mat: tf.TensorInfo,
  bias: tf.TensorInfo | null,
  relu: boolean,
): tf.TensorInfo | null {
  const [rows, cols] = x.shape;
  const n = mat.shape[1];
  if (!simdKernelsFor(backend.wasm) || x.dtype !== 'float32' || n % SPARSE_SLICE !== 0) return null;
  const [lists, len] = byColumn ? [cols, rows] : [rows, cols];
  const [listStride, elemStride] = byColumn ? [4, 4 * cols] : [4 * cols, 4];
  const out = backend.makeOutput([lists, n], 'float32');
  const threads = Math.max(1, Math.min(lists, rows * cols * n >= MIN_PARALLEL_MACS ? kernelThreads(backend.wasm) : 1));
  // Per thread: len row offsets and len values.
  const scratch = backend.makeOutput([threads * 2 * len], 'float32');
  const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const flags = (relu ? 1 : 0) | (bias ? 2 : 0);
  const shares: KernelCall[][] = [];
  for (let t = 0; t < threads; t++) {
    const [first, last] = [Math.floor((t * lists) / threads), Math.floor(((t + 1) * lists) / threads)];
    if (last === first) continue;
    const args = [
      at(x) + first * listStride,
      listStride,
      elemStride,
      len,
      last - first,
      at(mat),
      bias ? at(bias) : 0,
      at(out) + 4 * n * first,
      n,
      flags,
    ];
    shares.push([kernelCall('sparseScan', ...args, at(scratch) + t * 8 * len)]);
  }
  runShares(backend.wasm, shares);
  backend.disposeData(scratch.dataId);
  return out;
}

function runKernel(name: string, args: KernelArgs, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
  return tf.getKernel(name, 'wasm')!.kernelFunc({ ...args, inputs, attrs }) as tf.TensorInfo;
}

function sparseDenseWasm(args: KernelArgs): tf.TensorInfo {
  const { x, w, bias } = args.inputs as { x: tf.TensorInfo; w: tf.TensorInfo; bias: tf.TensorInfo };
  const activation = (args.attrs as { activation: 'relu' | 'linear' }).activation;
  const backend = args.backend as unknown as WasmBackendLike;
  const sparse = sparseProduct(backend, x, false, w, bias, activation === 'relu');
  if (sparse) return sparse;
  const [rows, k] = x.shape;
  const n = w.shape[1];
  const a = { dataId: x.dataId, shape: [1, rows, k], dtype: x.dtype };
  const b = { dataId: w.dataId, shape: [1, k, n], dtype: w.dtype };
  const out = runKernel(tf._FusedMatMul, args, { a, b, bias }, { transposeA: false, transposeB: false, activation });
  return { ...out, shape: [rows, n] };
}

function sparseDenseGradWasm(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const backend = args.backend as unknown as WasmBackendLike;
  return (
    sparseProduct(backend, x, true, dy, null, false) ??
    runKernel(tf.BatchMatMul, args, { a: x, b: dy }, { transposeA: true, transposeB: false })
  );
}

/** Registers the wasm kernels (idempotent). */
export function registerSparseDenseKernels(): void {
  if (!tf.getKernel(SPARSE_DENSE_KERNEL, 'wasm'))
    tf.registerKernel({ kernelName: SPARSE_DENSE_KERNEL, backendName: 'wasm', kernelFunc: sparseDenseWasm });
  if (!tf.getKernel(SPARSE_DENSE_GRAD_KERNEL, 'wasm'))
    tf.registerKernel({ kernelName: SPARSE_DENSE_GRAD_KERNEL, backendName: 'wasm', kernelFunc: sparseDenseGradWasm });
}
