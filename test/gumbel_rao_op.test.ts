/**
 * The op gumbelRaoGradient (src/ops/gumbel_rao.ts) and its wasm kernel
 * (src/wasm/gumbel_rao.ts, SIMD loop in gumbel_rao_kernel.ts): against an
 * independent float64 implementation of Paulus et al.'s formula (explicit
 * K x K Jacobians, the paper's plain conditional draw), and against the op's
 * plain tfjs composition, on shapes that leave rows for the host's tail and
 * classes that are not a multiple of 4; masked classes, NaN rows, no leaks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { conditionalGumbelRow64, gumbelMax64, matVec, softmax64, softmaxJacobian } from './helpers/estimator_reference.js';
import { gumbelRaoBackward, gumbelRaoGradient, gumbelRaoRelaxed, GUMBEL_RAO_GRADIENT_KERNEL } from '../src/ops/gumbel_rao.js';
import { klGradient } from '../src/ops/step_ops.js';
import { Rng } from '../src/random.js';
import { simdModuleBytes, type SimdKernels } from '../src/wasm/simd_kernels.js';

await useTestBackend();

/** Gumbel(0, 1) draws in float64, rounded to float32 as a tensor holds them. */
const gumbels = (n: number, rng: Rng) => Array.from(Float32Array.from({ length: n }, () => -Math.log(-Math.log(rng.nextOpen01()))));
const normals = (n: number, rng: Rng, scale: number) =>
  Array.from(
    Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(rng.nextOpen01())) * Math.cos(2 * Math.PI * rng.nextOpen01())),
  );

/**
 * d logits in float64: (1/k) sum_s J(y_s) dy / tau over conditional draws
 * y_s (the paper's form), plus klWeight q (log q - sum q log q).
 */
function reference64(logits: number[], d: number[], g: number[], dy: number[], tau: number, k: number, klWeight: number): number[] {
  const [size, samples] = [logits.length, g.length / logits.length];
  const out: number[] = [];
  for (let r = 0; r < size / k; r++) {
    const row = (a: number[], s = 0) => a.slice(s * size + r * k, s * size + (r + 1) * k);
    const [l, dr] = [row(logits), row(dy)];
    const winner = row(d).indexOf(1);
    const total = new Array<number>(k).fill(0);
    for (let s = 0; s < samples; s++) {
      const y = softmax64(conditionalGumbelRow64(l, winner, row(g, s)).map((v) => v / tau));
      matVec(softmaxJacobian(y), dr).forEach((v, j) => (total[j] += v / tau / samples));
    }
    const q = softmax64(l);
    const entropy = q.reduce((acc, p) => acc + p * Math.log(p), 0);
    out.push(...total.map((v, j) => v + klWeight * q[j] * (Math.log(q[j]) - entropy)));
  }
  return out;
}

/** Largest |got - want| relative to want's largest entry. */
function relativeGap(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let [err, scale] = [0, 0];
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / scale;
}

interface Case {
  rows: number;
  k: number;
  samples: number;
  tau: number;
  klWeight: number;
}
// 2000 x 10: the default VAE's block; 21 and 7 rows leave a tail for the host (the loop takes 8 rows at a time).
const CASES: Case[] = [
  { rows: 2000, k: 10, samples: 10, tau: 0.7, klWeight: 0.01 },
  { rows: 21, k: 5, samples: 3, tau: 1.3, klWeight: 0 },
  { rows: 7, k: 3, samples: 2, tau: 0.5, klWeight: 0.2 },
];

function inputs({ rows, k, samples }: Case, seed: number) {
  const rng = new Rng(seed);
  const logits = normals(rows * k, rng, 2);
  const d = gumbelMax64(logits, gumbels(rows * k, rng), k);
  return { logits, d, g: gumbels(samples * rows * k, rng), dy: normals(rows * k, rng, 1) };
}

for (const c of CASES) {
  test(`${GUMBEL_RAO_GRADIENT_KERNEL} (${c.rows} x ${c.k}, k ${c.samples}, tau ${c.tau}, klWeight ${c.klWeight}): float64 and the plain composition agree`, () => {
    const { logits, d, g, dy } = inputs(c, c.rows);
    const t = {
      logits: tf.tensor2d(logits, [c.rows, c.k]),
      d: tf.tensor2d(d, [c.rows, c.k]),
      g: tf.tensor3d(g, [c.samples, c.rows, c.k]),
      dy: tf.tensor2d(dy, [c.rows, c.k]),
    };
    const before = tf.memory().numTensors;
    const op = gumbelRaoGradient(t.dy, t.logits, t.d, t.g, c.tau, c.k, c.klWeight);
    assert.equal(tf.memory().numTensors, before + 1, 'the op leaves only its result');
    const got = op.dataSync();
    const plain = tf.tidy(() => {
      const grad = gumbelRaoBackward(t.dy, gumbelRaoRelaxed(t.logits, t.d, t.g, c.tau), c.tau);
      return c.klWeight === 0 ? grad : tf.add(grad, klGradient(t.logits, c.k, c.klWeight));
    });
    const want = reference64(logits, d, g, dy, c.tau, c.k, c.klWeight);
    assert.ok(relativeGap(got, want) < 2e-5, `op against float64: ${relativeGap(got, want)}`);
    assert.ok(relativeGap(got, plain.dataSync()) < 2e-5, `op against the plain composition: ${relativeGap(got, plain.dataSync())}`);
    tf.dispose([op, plain, ...Object.values(t)]);
  });
}

interface WasmApi {
  Memory: new (d: object) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: SimdKernels };
}

test('the SIMD loop alone, on a plain memory, against float64 (rows r0..r1 only, the others untouched)', () => {
  const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const memory = new WA.Memory({ initial: 64 });
  const kernels = new WA.Instance(new WA.Module(simdModuleBytes(false, false)), { env: { memory } }).exports;
  const c: Case = { rows: 40, k: 6, samples: 4, tau: 0.8, klWeight: 0.5 };
  const { logits, d, g, dy } = inputs(c, 11);
  let top = 64;
  const alloc = (values: number[]) => {
    const at = top;
    top += 4 * values.length + 8; // tfjs's buffers are 8-byte aligned, not 16
    new Float32Array(memory.buffer, at, values.length).set(values);
    return at;
  };
  const at = [logits, d, dy, g, new Array<number>(logits.length).fill(-7)].map(alloc);
  const scratch = alloc(new Array<number>(1024).fill(0));
  const [r0, r1] = [8, 32];
  kernels.gumbelRao(
    ...(at as [number, number, number, number, number]),
    scratch,
    c.rows,
    c.k,
    c.samples,
    r0,
    r1,
    1 / c.tau,
    1 / (c.samples * c.tau),
    c.klWeight,
  );
  const out = Array.from(new Float32Array(memory.buffer, at[4], logits.length));
  const want = reference64(logits, d, g, dy, c.tau, c.k, c.klWeight).slice(r0 * c.k, r1 * c.k);
  assert.ok(
    relativeGap(out.slice(r0 * c.k, r1 * c.k), want) < 2e-5,
    `loop against float64: ${relativeGap(out.slice(r0 * c.k, r1 * c.k), want)}`,
  );
  assert.ok(
    [...out.slice(0, r0 * c.k), ...out.slice(r1 * c.k)].every((v) => v === -7),
    'rows outside r0..r1 untouched',
  );
});

test('masked classes (-Infinity) get 0 and the rest stays finite; a NaN row stays NaN; logits of +-1e4 stay finite', () => {
  // 9 rows: 8 for the SIMD loop, 1 for the host's tail; each special row appears in both.
  const k = 4;
  const base = [
    [0, -Infinity, 2, -1],
    [1e4, -1e4, 0, 3],
    [0, Number.NaN, 1, 2],
  ];
  const rows = [...base, ...base, [0.5, 0, -0.5, 1], [0, 0, 0, 0], ...base.slice(0, 1)];
  const d = rows.map((r, i) => (r.some(Number.isNaN) ? r.map(() => Number.NaN) : r.map((_, j) => (j === [2, 0][i % 3] ? 1 : 0))));
  d[6] = [0, 0, 0, 1];
  d[7] = [1, 0, 0, 0];
  d[8] = [0, 0, 1, 0];
  const rng = new Rng(5);
  const t = [rows.flat(), d.flat(), gumbels(3 * rows.length * k, rng), normals(rows.length * k, rng, 1)];
  const [l, s, g, dy] = [
    tf.tensor2d(t[0], [rows.length, k]),
    tf.tensor2d(t[1], [rows.length, k]),
    tf.tensor3d(t[2], [3, rows.length, k]),
    tf.tensor2d(t[3], [rows.length, k]),
  ];
  const out = gumbelRaoGradient(dy, l, s, g, 0.5, k);
  const got = out.arraySync() as number[][];
  for (const i of [0, 3, 8]) {
    assert.equal(got[i][1], 0, `row ${i}: the masked class gets no gradient`);
    assert.ok(got[i].every(Number.isFinite), `row ${i}: ${got[i]}`);
  }
  for (const i of [1, 4, 6, 7]) assert.ok(got[i].every(Number.isFinite), `row ${i}: ${got[i]}`);
  for (const i of [2, 5]) assert.ok(got[i].every(Number.isNaN), `NaN row ${i}: ${got[i]}`);
  tf.dispose([l, s, g, dy, out]);
});

test('shapes that do not fit are refused with one line naming them', () => {
  const [a, b, c] = [tf.zeros([4, 5]), tf.zeros([3, 4, 4]), tf.zeros([4, 4])];
  assert.throws(() => gumbelRaoGradient(a, a, a, b, 1, 5), /^Error: gumbelRaoGradient: .*gumbels \[3, 4, 4\]/);
  assert.throws(() => gumbelRaoGradient(a, a, c, b, 1, 5), /^Error: gumbelRaoGradient: .*sample \[4, 4\]/);
  tf.dispose([a, b, c]);
});
