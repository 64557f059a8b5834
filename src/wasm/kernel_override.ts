/**
 * Replacing one of the wasm backend's kernels with a wrapper that can fall
 * back to it, and putting it back: tfjs's registry refuses to overwrite a
 * kernel silently, so the original is unregistered first and kept.
 */
import * as tf from '@tensorflow/tfjs';

const BACKEND = 'wasm';

export interface KernelOverride {
  /** Wraps the wasm kernel (idempotent; needs '@tensorflow/tfjs-backend-wasm' imported). */
  install(): void;
  /** Puts tfjs's kernel back. */
  uninstall(): void;
}

/** An override of the wasm kernel `kernelName` by `wrap(original)`. */
export function kernelOverride(kernelName: string, wrap: (original: tf.KernelFunc) => tf.KernelFunc): KernelOverride {
  let original: tf.KernelConfig | null = null;
  return {
    install() {
      if (original) return;
      const config = tf.getKernel(kernelName, BACKEND);
      if (!config) throw new Error(`the wasm backend has no ${kernelName} kernel: import '@tensorflow/tfjs-backend-wasm' first`);
      original = config;
      tf.unregisterKernel(kernelName, BACKEND);
      tf.registerKernel({ ...config, kernelFunc: wrap(config.kernelFunc) });
    },
    uninstall() {
      if (!original) return;
      tf.unregisterKernel(kernelName, BACKEND);
      tf.registerKernel(original);
      original = null;
    },
  };
}
