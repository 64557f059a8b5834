/**
 * The parts of tfjs's wasm backend (BackendWasm, not exported as a type by
 * @tensorflow/tfjs-backend-wasm's public entry) that catvae's kernels use.
 */
import type * as tf from '@tensorflow/tfjs';

export interface WasmBackendLike {
  /** The Emscripten module: its memory is where the kernels read and write. */
  wasm: object;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/** A kernel function's arguments. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Where a tensor's data starts on the wasm heap (bytes). */
export function heapOffset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}
