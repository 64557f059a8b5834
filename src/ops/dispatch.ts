/**
 * How a catvae op picks its implementation, as tfjs's own ops do: a named
 * kernel where the current backend has one registered (a plug-in such as
 * src/wasm registers them), else the op's plain-tfjs composition, which runs
 * on every backend. The op never asks which plug-in is loaded: a kernel that
 * cannot run somewhere (e.g. wasm without SIMD) handles that itself.
 */
import * as tf from '@tensorflow/tfjs';

/** Whether the current backend has a kernel registered under `kernelName`. */
export function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) != null;
}

/** Runs the kernel `kernelName` where the current backend has one, else `fallback()` (tidied). */
export function runOp<T extends tf.Tensor | tf.Tensor[]>(
  kernelName: string,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap,
  fallback: () => T,
): T {
  if (hasKernel(kernelName)) return tf.engine().runKernel(kernelName, inputs, attrs) as T;
  return tf.tidy(fallback);
}
