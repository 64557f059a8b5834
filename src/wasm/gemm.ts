/**
 * Matrix products on the wasm heap with catvae's SIMD kernels
 * (gemm_kernels.ts), split by columns across the calling thread and the
 * kernel pool's workers. Every output element is summed by one thread in
 * the same order whatever the thread count, so results do not depend on it.
 */
import { GEMM_TILE, gemmName, type GemmKind } from './gemm_kernels.js';
import { kernelCall, kernelThreads, runShares, type KernelCall } from './kernel_pool.js';
import type { EmscriptenMemoryHolder } from './simd_kernels.js';

/** C = act(op(A) op(B) + bias): byte offsets on the heap; m, n, k in elements. */
export interface GemmProblem {
  kind: GemmKind;
  a: number;
  b: number;
  c: number;
  /** 0: no bias. */
  bias: number;
  m: number;
  n: number;
  k: number;
  relu: boolean;
  /** Row stride of A in bytes when A is part of a larger matrix (default: A's own width). */
  lda?: number;
}

/** Below this many multiply-adds a product runs on one thread: a hand-off costs more than it saves. */
const MIN_PARALLEL_MACS = 100_000;

/** Whether the kernels can compute this product (columns in whole vectors; nt: k too). */
export function gemmSupports(kind: GemmKind, m: number, n: number, k: number): boolean {
  return m >= 1 && k >= 1 && n >= 4 && n % 4 === 0 && (kind !== 'nt' || k % 4 === 0) && m * n * k < 2 ** 31;
}

/** Row-major strides in bytes: A and B as stored. */
function strides(p: GemmProblem): { lda: number; ldb: number; ldc: number } {
  const lda = p.lda ?? 4 * (p.kind === 'tn' ? p.m : p.k);
  const ldb = 4 * (p.kind === 'nt' ? p.k : p.n);
  return { lda, ldb, ldc: 4 * p.n };
}

/** The kernel calls that compute columns [j0, j1) of C, all rows. */
export function gemmCalls(p: GemmProblem, j0: number, j1: number): KernelCall[] {
  const { mr, nv } = GEMM_TILE[p.kind];
  const { lda, ldb, ldc } = strides(p);
  const flags = (p.relu ? 1 : 0) | (p.bias ? 2 : 0);
  const blocks = Math.floor(p.m / mr);
  const rest = p.m - blocks * mr;
  const width = 4 * nv;
  const split = j0 + Math.floor((j1 - j0) / width) * width;
  const calls: KernelCall[] = [];
  const rows = (from: number, to: number, vectors: number) => {
    if (to <= from) return;
    if (blocks > 0)
      calls.push(kernelCall(gemmName(p.kind, mr, vectors), p.a, p.b, p.c, p.bias, blocks, from, to, p.k, lda, ldb, ldc, flags));
    if (rest > 0) {
      const first = blocks * mr;
      const a = p.a + (p.kind === 'tn' ? 4 * first : first * lda);
      calls.push(kernelCall(gemmName(p.kind, rest, vectors), a, p.b, p.c + first * ldc, p.bias, 1, from, to, p.k, lda, ldb, ldc, flags));
    }
  };
  rows(j0, split, nv);
  rows(split, j1, 1);
  return calls;
}

/** Column ranges for `threads` threads, in whole tiles; fewer ranges when there are fewer tiles. */
export function columnShares(p: GemmProblem, threads: number): Array<[number, number]> {
  const width = 4 * GEMM_TILE[p.kind].nv;
  const tiles = Math.ceil(p.n / width);
  const t = p.m * p.n * p.k < MIN_PARALLEL_MACS ? 1 : Math.max(1, Math.min(threads, tiles));
  const shares: Array<[number, number]> = [];
  for (let i = 0; i < t; i++) {
    const from = Math.min(p.n, Math.floor((i * tiles) / t) * width);
    const to = Math.min(p.n, Math.floor(((i + 1) * tiles) / t) * width);
    if (to > from) shares.push([from, to]);
  }
  return shares;
}

/**
 * Bytes of A a block of rows may span: the kernels walk all of a block's A
 * once per 8 columns of C, so it should stay in L2. Evaluation's decoder
 * products (10,000 rows) ran 2.7x slower than XNNPACK's unblocked.
 */
const A_BLOCK_BYTES = 64 * 1024;

/** Above this size of A, products go by blocks of rows (training's batches of 100 stay whole). */
const BLOCK_ABOVE_BYTES = 1024 * 1024;

/** Rows of C per block: all of them when A is small, else as many as fit A_BLOCK_BYTES. */
export function rowBlock(p: GemmProblem): number {
  const rows = Math.max(8, Math.floor(A_BLOCK_BYTES / (4 * p.k) / 8) * 8);
  return p.m * p.k * 4 <= BLOCK_ABOVE_BYTES ? p.m : rows;
}

/** Computes the product; false when the kernels cannot (no SIMD wasm, or a shape they do not cover). */
export function runGemm(holder: EmscriptenMemoryHolder, p: GemmProblem): boolean {
  if (!gemmSupports(p.kind, p.m, p.n, p.k)) return false;
  const threads = kernelThreads(holder);
  const { lda, ldc } = strides(p);
  const block = rowBlock(p);
  for (let first = 0; first < p.m; first += block) {
    // Rows first.. of C: rows of A (nn, nt) or columns of A (tn).
    const a = p.a + (p.kind === 'tn' ? 4 * first : first * lda);
    const part: GemmProblem = { ...p, a, c: p.c + first * ldc, m: Math.min(block, p.m - first), lda };
    if (
      !runShares(
        holder,
        columnShares(part, threads).map(([from, to]) => gemmCalls(part, from, to)),
      )
    )
      return false;
  }
  return true;
}
