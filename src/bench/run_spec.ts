/** What one benchmark run measures, and what it reports (shared by parent and child). */

/**
 * How a tfjs run is set up. 'catvae' is what `npm run train` uses; the others
 * rebuild the path from tfjs as shipped, one speed-up at a time (--variants).
 */
export const VARIANTS = {
  catvae:
    'what npm run train uses: installWasmSpeedups (kernel fixes, threads, custom kernels), FusedAdamOptimizer, the hand-written step (src/model/fast_step.ts)',
  stock: 'tfjs as shipped: 1 thread, tf.train.adam, the tape step',
  'matmul-fix': 'stock + the BatchMatMul/_FusedMatMul and Transpose overrides (XNNPACK products, transposes made explicit)',
  'fix+threads': 'stock + the overrides + threads (XNNPACK pool)',
  xnnpack: "catvae with the products on XNNPACK (its pool on all threads) instead of catvae's gemm kernels",
  tape: 'catvae with the tape step (tf.variableGrads) instead of the hand-written one',
} as const;
export type Variant = keyof typeof VARIANTS;

export interface RunSpec {
  /** Backend as src/backend.ts names it (wasm, cpu, tensorflow, ...). */
  backend: string;
  variant: Variant;
  batch: number;
  latentVars: number;
  categories: number;
  /** Measure for at least this long after warm-up. */
  seconds: number;
  /** Warm-up: at least this many steps and this many seconds. */
  warmupSteps: number;
  warmupSeconds: number;
  /** Threads for wasm (catvae variants). */
  threads: number;
  /** Read the loss back every this many steps (as the trainer does). */
  logEvery: number;
  /** MNIST train images (IDX); random binary images when null. */
  images: string | null;
}

export interface RunResult {
  impl: 'catvae' | 'pytorch';
  label: string;
  backend: string;
  variant?: Variant;
  detail: string;
  batch: number;
  steps: number;
  seconds: number;
  /** Median of per-step times after warm-up. */
  msPerStep: number;
  /** Images over total measured time. */
  imagesPerSecond: number;
  peakRssMiB: number;
  /** numTensors after the measured steps minus before them. */
  tensorDrift?: number;
  finalLoss?: number;
  blas?: { library: string; coretype: string | null; threads: number | null; OPENBLAS_CORETYPE: string | null };
  flushDenormal?: boolean;
  error?: string;
}
