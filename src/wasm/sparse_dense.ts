/**
 * A dense layer whose input is mostly zeros, such as binarised MNIST (about
 * 13% ones): y = act(x W + b) and its weight gradient x^T dy, adding rows of
 * W (of dy) only where x is non-zero. For the VAE's first layer that is ~8x
 * fewer operations than the dense product, which is a third of the model's
 * arithmetic. Kernels for wasm: the non-zeros of x are listed on the host
 * (by row for the product, by column for the gradient) and the SIMD loop
 * sparseRows of simd_kernels.ts sums the rows; elsewhere, or when x is not
 * sparse enough to gain, the ordinary dense ops.
 */
import * as tf from '@tensorflow/tfjs';
import { kernelCall, kernelThreads, runShares, type KernelCall } from './kernel_pool.js';
import { SPARSE_SLICE, simdKernelsFor } from './simd_kernels.js';

export const SPARSE_DENSE_KERNEL = 'CatvaeSparseDense';
export const SPARSE_DENSE_GRAD_KERNEL = 'CatvaeSparseDenseGrad';
/** Above this share of non-zeros the dense XNNPACK product is faster. */
export const MAX_DENSITY = 0.3;
/** Below this many multiply-adds one thread does the layer: a hand-off would cost more. */
const MIN_PARALLEL_MACS = 100_000;

interface WasmBackendLike {
  wasm: object;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}
type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The non-zeros of a [rows, cols] matrix, listed by row or by column. */
export interface SparseLists {
  /** List l is entries starts[l] .. starts[l + 1] - 1. */
  starts: Int32Array;
  /** Column (lists by row) or row (lists by column) of each entry. */
  index: Int32Array;
  values: Float32Array;
}

/** Lists by row, in one pass (branch-free: a share of non-zeros near 13% mispredicts a branch often). */
export function rowLists(x: Float32Array, rows: number, cols: number): SparseLists {
  const starts = new Int32Array(rows + 1);
  const index = new Int32Array(x.length + 1);
  const values = new Float32Array(x.length + 1);
  let p = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const value = x[base + c];
      index[p] = c;
      values[p] = value;
      p += value !== 0 ? 1 : 0;
    }
    starts[r + 1] = p;
  }
  return { starts, index: index.subarray(0, p), values: values.subarray(0, p) };
}

/** Lists by column from lists by row: a counting sort of the entries. */
export function columnLists(byRow: SparseLists, rows: number, cols: number): SparseLists {
  const n = byRow.index.length;
  const starts = new Int32Array(cols + 1);
  for (let p = 0; p < n; p++) starts[byRow.index[p] + 1]++;
  for (let c = 0; c < cols; c++) starts[c + 1] += starts[c];
  const next = starts.slice(0, cols);
  const index = new Int32Array(n);
  const values = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    for (let p = byRow.starts[r]; p < byRow.starts[r + 1]; p++) {
      const q = next[byRow.index[p]]++;
      index[q] = r;
      values[q] = byRow.values[p];
    }
  }
  return { starts, index, values };
}

/** Lists by row of each input seen by the forward kernel, for its gradient kernel. */
const listsOf = new WeakMap<object, SparseLists>();

/**
 * out [lists, n] = act(init + sparse x mat) on the wasm heap, or null when
 * the dense product is the better choice (too many non-zeros, n not a
 * multiple of SPARSE_SLICE, no SIMD wasm).
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
  const simd = simdKernelsFor(backend.wasm);
  if (!simd || x.dtype !== 'float32' || n % SPARSE_SLICE !== 0) return null;
  let byRow = listsOf.get(x.dataId);
  if (!byRow) {
    byRow = rowLists(backend.typedArrayFromHeap(x), rows, cols);
    listsOf.set(x.dataId, byRow);
  }
  if (byRow.index.length > MAX_DENSITY * rows * cols) return null;
  const lists = byColumn ? columnLists(byRow, rows, cols) : byRow;
  // The kernel takes each entry as the byte offset of its row of `mat`.
  const offsets = lists.index.map((i) => i * n * 4);
  const listCount = lists.starts.length - 1;
  // Heap buffers for the lists (at least one element each: a tensor of size 0 has no memory).
  const starts = backend.makeOutput([lists.starts.length], 'int32');
  const index = backend.makeOutput([Math.max(1, lists.index.length)], 'int32');
  const values = backend.makeOutput([Math.max(1, lists.values.length)], 'float32');
  const out = backend.makeOutput([listCount, n], 'float32');
  // After the last allocation: an allocation may move the heap views.
  (backend.typedArrayFromHeap(starts) as unknown as Int32Array).set(lists.starts);
  (backend.typedArrayFromHeap(index) as unknown as Int32Array).set(offsets);
  backend.typedArrayFromHeap(values).set(lists.values);
  const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const unit = lists.values.every((value) => value === 1);
  const flags = (relu ? 1 : 0) | (bias ? 2 : 0) | (unit ? 4 : 0);
  // One share of the lists per kernel thread, with equal numbers of non-zeros (the work), not of lists.
  const threads = lists.index.length * n >= MIN_PARALLEL_MACS ? kernelThreads(backend.wasm) : 1;
  const shares: KernelCall[][] = [];
  let first = 0;
  for (let t = 1; t <= threads; t++) {
    let last = first;
    const target = (t * lists.index.length) / threads;
    while (last < listCount && (t === threads || lists.starts[last + 1] <= target)) last++;
    if (last > first) {
      shares.push([kernelCall('sparseRows', at(starts) + 4 * first, at(index), at(values), at(mat), bias ? at(bias) : 0, at(out) + 4 * n * first, last - first, n, flags)]);
    }
    first = last;
  }
  runShares(backend.wasm, shares);
  for (const t of [starts, index, values]) backend.disposeData(t.dataId);
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
  return sparseProduct(backend, x, true, dy, null, false) ?? runKernel(tf.BatchMatMul, args, { a: x, b: dy }, { transposeA: true, transposeB: false });
}

/** Registers the wasm kernels (idempotent). */
export function registerSparseDenseKernels(): void {
  if (!tf.getKernel(SPARSE_DENSE_KERNEL, 'wasm')) tf.registerKernel({ kernelName: SPARSE_DENSE_KERNEL, backendName: 'wasm', kernelFunc: sparseDenseWasm });
  if (!tf.getKernel(SPARSE_DENSE_GRAD_KERNEL, 'wasm')) tf.registerKernel({ kernelName: SPARSE_DENSE_GRAD_KERNEL, backendName: 'wasm', kernelFunc: sparseDenseGradWasm });
}

const hasKernel = (name: string) => tf.getKernel(name, tf.getBackend()) != null;

/** act(x W + bias) for x [rows, k] with mostly zero entries. */
export function sparseInputDense(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D, activation: 'relu' | 'linear'): tf.Tensor2D {
  if (!hasKernel(SPARSE_DENSE_KERNEL)) return tf.fused.matMul({ a: x, b: w, bias, activation }) as tf.Tensor2D;
  return tf.engine().runKernel(SPARSE_DENSE_KERNEL, { x, w, bias }, { activation }) as tf.Tensor2D;
}

/** x^T dy (the weight gradient of sparseInputDense). */
export function sparseInputKernelGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  if (!hasKernel(SPARSE_DENSE_GRAD_KERNEL)) return tf.matMul(x, dy, true, false);
  return tf.engine().runKernel(SPARSE_DENSE_GRAD_KERNEL, { x, dy }, {}) as tf.Tensor2D;
}
