/**
 * Faster training on tfjs's wasm backend: one call for the backend loader.
 *
 * - matmul.ts: transposed products (every dense backward) on XNNPACK.
 * - transpose.ts: matrix transposes by SIMD blocks (simd_kernels.ts).
 * - threads.ts: the threaded build in Node (tfjs ships it but leaves it off).
 * - adam.ts: Adam as one kernel per variable (FusedAdamOptimizer).
 * - sparse_dense.ts: a dense layer on mostly-zero inputs (binarised images).
 *
 * Nothing here changes another backend's kernels or tfjs's global state
 * beyond the 'wasm' backend's registration and kernels.
 */
import { availableParallelism } from 'node:os';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerAdamKernels } from './adam.js';
import { installMatMulFix } from './matmul.js';
import { registerSparseDenseKernels } from './sparse_dense.js';
import { installTransposeFix } from './transpose.js';
import { useThreadedWasm } from './threads.js';

export { installMatMulFix, uninstallMatMulFix, isMatMulFixInstalled } from './matmul.js';
export { installTransposeFix, uninstallTransposeFix } from './transpose.js';
export { useThreadedWasm } from './threads.js';
export type { ThreadedWasmOptions } from './threads.js';
export { FusedAdamOptimizer, fusedAdam, registerAdamKernels, adamUpdate, ADAM_KERNEL } from './adam.js';
export type { AdamAttrs } from './adam.js';
export { sparseInputDense, sparseInputKernelGrad, registerSparseDenseKernels } from './sparse_dense.js';

/** tfjs-backend-wasm pre-creates 8 workers: its pool can use no more. */
const MAX_THREADS = 8;

export interface WasmSpeedupOptions {
  /** XNNPACK threads (default: the cores Node may use, at most 8; 1 = tfjs's single-threaded build). */
  threads?: number;
  /** Where the one-line fallback warning goes (default console.warn). */
  warn?: (message: string) => void;
}

/** The thread count used when none is asked for. */
export function defaultWasmThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}

/**
 * Installs the wasm speed-ups. Call after `import('@tensorflow/tfjs-backend-wasm')`
 * and before the backend starts (`tf.setBackend('wasm')`). Returns the thread
 * count asked for; `wasmThreadsInUse()` tells, once the backend runs, what it got.
 */
export function installWasmSpeedups(options: WasmSpeedupOptions = {}): number {
  const threads = options.threads ?? defaultWasmThreads();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`wasm threads must be a positive integer, got ${String(options.threads)}`);
  }
  installTransposeFix();
  installMatMulFix();
  registerAdamKernels();
  registerSparseDenseKernels();
  if (threads > 1) useThreadedWasm({ threads: Math.min(threads, MAX_THREADS), warn: options.warn });
  return threads;
}

/** Threads in the running wasm backend's pool (1 when single-threaded). */
export function wasmThreadsInUse(): number {
  return Math.max(1, getThreadsCount());
}
