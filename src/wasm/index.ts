/**
 * Faster training on tfjs's wasm backend: one call for the backend loader.
 *
 * - gemm.ts: matrix products on catvae's own SIMD kernels (gemm_kernels.ts),
 *   which read both operands in place (no packing, no transposes), on every
 *   thread (kernel_pool.ts); matmul.ts routes BatchMatMul and _FusedMatMul to
 *   them, and the shapes they do not cover to XNNPACK, transposes made explicit.
 * - transpose.ts: matrix transposes by SIMD blocks (simd_kernels.ts).
 * - softplus.ts: Softplus (the Bernoulli likelihood) by SIMD polynomials.
 * - threads.ts: the threaded build in Node (tfjs ships it but leaves it off).
 * - adam.ts, sparse_dense.ts, step_kernels.ts: kernels for catvae's named
 *   ops (src/ops): the fused Adam update, the dense layer on mostly-zero
 *   inputs (binarised images), the fused ops of the hand-written step (the
 *   latent block, the ReLU and Bernoulli gradients) and the Gumbel noise.
 * - gumbel_rao.ts: Gumbel-Rao's backward pass in one SIMD loop.
 * - one_hot_argmax.ts: one-hot argmax rows (the estimators' one-hot samples).
 * - counter_gumbel.ts: the counter-based (Philox) Gumbel noise drawn by a SIMD
 *   loop into the output tensor, nothing drawn on the host or uploaded.
 *
 * This folder is a plug-in: it registers kernels and is imported by nothing
 * in src/model, src/layers, src/ops or src/data (src/backend.ts loads it).
 * Nothing here changes another backend's kernels or tfjs's global state
 * beyond the 'wasm' backend's registration and kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerAdamKernels } from './adam.js';
import { registerGumbelRaoKernel } from './gumbel_rao.js';
import { registerOneHotArgmaxKernel } from './one_hot_argmax.js';
import { registerCounterGumbelKernel } from './counter_gumbel.js';
import { kernelThreads } from './kernel_pool.js';
import { registerStepKernels } from './step_kernels.js';
import { registerMatMulKernels, setGemmKernels } from './matmul.js';
import { enableRelaxedSimd } from './relaxed_simd.js';
import { registerSparseDenseKernels } from './sparse_dense.js';
import { registerSoftplusKernel } from './softplus.js';
import { registerTransposeKernel } from './transpose.js';
import { useThreadedWasm } from './threads.js';

export { registerMatMulKernels, unregisterMatMulKernels, matMulKernelsRegistered, setGemmKernels } from './matmul.js';
export { runGemm, gemmSupports } from './gemm.js';
export { kernelThreads } from './kernel_pool.js';
export type { GemmProblem } from './gemm.js';
export { registerTransposeKernel, unregisterTransposeKernel } from './transpose.js';
export { registerSoftplusKernel, unregisterSoftplusKernel } from './softplus.js';
export { useThreadedWasm } from './threads.js';
export type { ThreadedWasmOptions } from './threads.js';
export { registerAdamKernels } from './adam.js';
export { registerSparseDenseKernels } from './sparse_dense.js';
export { registerStepKernels } from './step_kernels.js';
export { registerGumbelRaoKernel } from './gumbel_rao.js';
export { registerOneHotArgmaxKernel } from './one_hot_argmax.js';
export { registerCounterGumbelKernel, unregisterCounterGumbelKernel } from './counter_gumbel.js';
export type { WasmBackendLike } from './backend_like.js';

/** tfjs-backend-wasm pre-creates 8 workers: its pool can use no more. */
const MAX_THREADS = 8;

export interface WasmSpeedupOptions {
  /** Threads (default: the cores Node may use, at most 8; 1 = tfjs's single-threaded build). */
  threads?: number;
  /**
   * Matrix products on catvae's kernels (default true). They take the threads,
   * and XNNPACK's pool keeps one: its workers spin after every op they share,
   * and on a busy core that slows everything else. false: XNNPACK runs the
   * products on all the threads (the path before these kernels, for comparison).
   */
  gemmKernels?: boolean;
  /**
   * Fused multiply-adds in the gemm kernels (default true): relaxed SIMD,
   * which Node 20 has behind a V8 flag that this sets (relaxed_simd.ts).
   */
  relaxedSimd?: boolean;
  /** Where the one-line fallback warning goes (default console.warn). */
  warn?: (message: string) => void;
}

/** The thread count used when none is asked for. */
export function defaultWasmThreads(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
}

/**
 * Registers the wasm speed-ups (kernels). Call after `import('@tensorflow/tfjs-backend-wasm')`
 * and before the backend starts (`tf.setBackend('wasm')`). Returns the thread
 * count asked for; `wasmThreadsInUse()` tells, once the backend runs, what it got.
 */
export function installWasmSpeedups(options: WasmSpeedupOptions = {}): number {
  const threads = options.threads ?? defaultWasmThreads();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`wasm threads must be a positive integer, got ${String(options.threads)}`);
  }
  const gemm = options.gemmKernels ?? true;
  if (gemm && (options.relaxedSimd ?? true)) enableRelaxedSimd();
  registerTransposeKernel();
  registerSoftplusKernel();
  registerMatMulKernels();
  setGemmKernels(gemm);
  registerAdamKernels();
  registerSparseDenseKernels();
  registerStepKernels();
  registerGumbelRaoKernel();
  registerOneHotArgmaxKernel();
  registerCounterGumbelKernel();
  const n = Math.min(threads, MAX_THREADS);
  if (n > 1) useThreadedWasm({ threads: n, xnnpackThreads: gemm ? 1 : n, kernelThreads: gemm ? n : 1, warn: options.warn });
  return threads;
}

/** Threads the running wasm backend computes on: XNNPACK's pool or catvae's kernel threads (1 when single-threaded). */
export function wasmThreadsInUse(): number {
  const backend = tf.findBackend('wasm') as unknown as { wasm?: object } | null;
  return Math.max(1, getThreadsCount(), backend?.wasm ? kernelThreads(backend.wasm) : 1);
}
