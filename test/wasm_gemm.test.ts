/**
 * catvae's gemm kernels (src/wasm/gemm_kernels.ts, gemm.ts) against a
 * float64 product, on a plain memory (one thread) and on a shared memory with
 * a kernel worker (two threads, which must give the same bits), with and
 * without fused multiply-adds; and the kernel pool's hand-off itself.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { columnShares, gemmCalls, gemmSupports, rowBlock, runGemm, type GemmProblem } from '../src/wasm/gemm.js';
import type { GemmKind } from '../src/wasm/gemm_kernels.js';
import { kernelCall, kernelThreads, runShares, startKernelThreads } from '../src/wasm/kernel_pool.js';
import { enableRelaxedSimd } from '../src/wasm/relaxed_simd.js';
import { kernelModuleFor } from '../src/wasm/simd_kernels.js';
import { Rng } from '../src/random.js';

interface MemoryLike {
  buffer: ArrayBuffer;
}
const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => MemoryLike } }).WebAssembly;

/** A heap with a bump allocator, 16-byte aligned as tfjs's are not always: offsets step by 8. */
class Heap {
  readonly memory: MemoryLike;
  private top = 64;
  constructor(shared: boolean, pages = 256) {
    this.memory = new WA.Memory(shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages });
  }
  alloc(floats: number): number {
    const at = this.top;
    this.top += 4 * floats + 8; // 8, not 16: the kernels must not assume 16-byte alignment
    return at;
  }
  view(at: number, floats: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, floats);
  }
}

function fill(heap: Heap, floats: number, rng: Rng): number {
  const at = heap.alloc(floats);
  const view = heap.view(at, floats);
  for (let i = 0; i < floats; i++) view[i] = rng.nextOpen01() * 2 - 1;
  return at;
}

/** float64 act(op(A) op(B) + bias), and each element's sum of |terms| (the scale of float32 rounding). */
function reference(heap: Heap, p: GemmProblem): { out: Float64Array; scale: Float64Array } {
  const { m, n, k } = p;
  const a = heap.view(p.a, m * k);
  const b = heap.view(p.b, k * n);
  const bias = p.bias ? heap.view(p.bias, n) : null;
  const out = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j] : 0;
      let abs = Math.abs(s);
      for (let q = 0; q < k; q++) {
        const av = p.kind === 'tn' ? a[q * m + i] : a[i * k + q];
        const bv = p.kind === 'nt' ? b[j * k + q] : b[q * n + j];
        s += av * bv;
        abs += Math.abs(av * bv);
      }
      out[i * n + j] = p.relu ? Math.max(0, s) : s;
      scale[i * n + j] = abs;
    }
  }
  return { out, scale };
}

function problem(heap: Heap, kind: GemmKind, m: number, n: number, k: number, relu: boolean, bias: boolean, rng: Rng): GemmProblem {
  const a = fill(heap, m * k, rng);
  const b = fill(heap, k * n, rng);
  const c = heap.alloc(m * n);
  heap.view(c, m * n).fill(Number.NaN); // every output must be written
  return { kind, a, b, c, bias: bias ? fill(heap, n, rng) : 0, m, n, k, relu };
}

/**
 * Largest error in units of the float32 bound for a sum of k + 1 terms,
 * (k + 1) 2^-24 sum |terms|: at most 1 for any summation order, and far
 * above it for a wrong index or a missed term.
 */
function maxError(heap: Heap, p: GemmProblem): number {
  const { out, scale } = reference(heap, p);
  const got = heap.view(p.c, p.m * p.n);
  let err = 0;
  for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(got[i] - out[i]) / ((p.k + 1) * 2 ** -24 * scale[i] + 1e-30));
  return Number.isNaN(err) ? Infinity : err;
}

// Every tile edge: rows not a multiple of the tile (1-3 left), 4 columns left over, k = 1, tiny and VAE-sized.
const SHAPES: Array<[number, number, number]> = [
  [1, 4, 1],
  [3, 4, 4],
  [5, 12, 8],
  [7, 20, 13],
  [9, 36, 3],
  [100, 200, 256],
  [101, 68, 36],
  [50, 64, 784],
  [64, 100, 100],
  // A over 1 MB: computed by blocks of rows (rowBlock), the last one short.
  [703, 8, 400],
];

for (const fma of [false, true]) {
  test(`gemm kernels (${fma ? 'fused multiply-add' : 'multiply, add'}): nn, tn, nt with bias and ReLU equal a float64 product`, (t) => {
    if (fma && !enableRelaxedSimd()) return t.skip('no relaxed SIMD in this engine');
    const heap = new Heap(false, 1024);
    const holder = { wasmMemory: heap.memory };
    assert.ok(kernelModuleFor(holder, fma), 'the kernels compile');
    const rng = new Rng(5);
    let cases = 0;
    for (const [m, n, k] of SHAPES) {
      for (const kind of ['nn', 'tn', 'nt'] as const) {
        if (!gemmSupports(kind, m, n, k)) continue;
        for (const [relu, bias] of [
          [false, false],
          [true, true],
          [false, true],
        ] as const) {
          const p = problem(heap, kind, m, n, k, relu, bias, rng);
          assert.ok(runGemm(holder, p));
          const err = maxError(heap, p);
          assert.ok(err <= 1, `${kind} ${m}x${n}x${k} relu=${relu} bias=${bias}: error ${err}`);
          cases++;
        }
      }
    }
    assert.ok(cases > 60, `${cases} cases`);
  });
}

test('gemmSupports: columns in whole vectors, nt also k', () => {
  assert.ok(gemmSupports('nn', 3, 8, 5));
  assert.ok(!gemmSupports('nn', 3, 6, 5), 'n % 4 != 0');
  assert.ok(!gemmSupports('nt', 3, 8, 5), 'nt needs k % 4 == 0');
  assert.ok(gemmSupports('nt', 3, 8, 12));
  assert.ok(!gemmSupports('tn', 0, 8, 4), 'empty');
});

test('columnShares: whole tiles, covering every column once; small products stay on one thread', () => {
  const p: GemmProblem = { kind: 'nn', a: 0, b: 0, c: 0, bias: 0, m: 100, n: 196, k: 512, relu: false };
  const shares = columnShares(p, 2);
  assert.deepEqual(shares, [
    [0, 96],
    [96, 196],
  ]);
  assert.equal(columnShares({ ...p, m: 2, n: 8, k: 4 }, 2).length, 1);
  assert.equal(rowBlock(p), 100, "training's batches are one block");
  assert.equal(rowBlock({ ...p, m: 703, k: 400 }), 40, 'a large A goes by blocks of rows, a multiple of 8');
  // Each share's calls name full tiles and then the 4-wide rest.
  assert.equal(gemmCalls(p, 96, 196).length, 2);
});

test('two threads: the same bits as one, for every kind', async () => {
  const heap = new Heap(true, 512);
  const holder = { wasmMemory: heap.memory };
  assert.ok(await startKernelThreads(holder, 2));
  assert.equal(kernelThreads(holder), 2);
  const rng = new Rng(9);
  for (const kind of ['nn', 'tn', 'nt'] as const) {
    for (const [m, n, k] of [
      [100, 196, 512],
      [97, 260, 128],
    ] as const) {
      const p = problem(heap, kind, m, n, k, true, true, rng);
      assert.ok(runGemm(holder, p));
      const parallel = Float32Array.from(heap.view(p.c, m * n));
      assert.ok(columnShares(p, 2).length === 2, 'split across both threads');
      // The same product on the calling thread alone.
      runShares(holder, [columnShares(p, 1).flatMap(([from, to]) => gemmCalls(p, from, to))]);
      assert.deepEqual(Array.from(heap.view(p.c, m * n)), Array.from(parallel), `${kind} ${m}x${n}x${k}`);
      assert.ok(maxError(heap, p) <= 1);
    }
  }
});

test('the pool: thousands of hand-offs complete (no lost wake-up), and a failing kernel in a worker is an error', async () => {
  const heap = new Heap(true, 64);
  const holder = { wasmMemory: heap.memory };
  assert.ok(await startKernelThreads(holder, 2));
  const rng = new Rng(3);
  const p = problem(heap, 'nn', 8, 64, 16, false, false, rng);
  const calls = gemmCalls(p, 0, 32);
  const rest = gemmCalls(p, 32, 64);
  for (let i = 0; i < 5000; i++) runShares(holder, [calls, rest]);
  assert.ok(maxError(heap, p) <= 1);
  // An address past the end of memory traps in the worker.
  const outside = kernelCall('gemm_nn_4x2', 2 ** 31 - 64, p.b, p.c, 0, 1, 0, 8, 16, 64, 256, 256, 0);
  assert.throws(() => runShares(holder, [calls, [outside]]), /a wasm kernel failed in a worker thread/);
  // The pool still works afterwards.
  heap.view(p.c, 8 * 64).fill(Number.NaN);
  runShares(holder, [calls, rest]);
  assert.ok(maxError(heap, p) <= 1);
});
