/**
 * The wasm speed-ups give the same numbers as tfjs's own kernels: the matmul
 * overrides against the originals (and the cpu backend), the fused Adam
 * against tf.train.adam.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
// The kernels under test are the wasm ones, whatever backend the tests run on.
import '@tensorflow/tfjs-backend-wasm';
import { useTestBackend } from './helpers/backend.js';
import { registerMatMulKernels, unregisterMatMulKernels, matMulKernelsRegistered, setGemmKernels } from '../src/wasm/matmul.js';
import { asMatrixSwap, registerTransposeKernel, unregisterTransposeKernel } from '../src/wasm/transpose.js';
import { registerSoftplusKernel, unregisterSoftplusKernel } from '../src/wasm/softplus.js';
import { FusedAdamOptimizer, adamUpdate, ADAM_KERNEL, type AdamAttrs } from '../src/ops/adam.js';
import { simdModuleBytes } from '../src/wasm/simd_kernels.js';
import { registerSparseDenseKernels } from '../src/wasm/sparse_dense.js';
import { sparseInputDense, sparseInputKernelGrad } from '../src/ops/sparse_dense.js';
import { Rng } from '../src/random.js';

await useTestBackend();
const backend = tf.getBackend();

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => rng.nextOpen01() * 2 - 1),
    shape,
  );
}

/** Largest |a - b| relative to the largest |b|. */
function relError(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.equal(x.length, y.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return err / scale;
}

/** Runs f with tfjs's original kernels, then with the fix. */
function beforeAfter(f: () => tf.Tensor): [tf.Tensor, tf.Tensor] {
  const was = matMulKernelsRegistered();
  unregisterMatMulKernels();
  const before = f();
  registerMatMulKernels();
  const after = f();
  if (!was) unregisterMatMulKernels();
  return [before, after];
}

// Shapes of the VAE's products: x W, dy W^T (large B: rewritten as (W dy^T)^T),
// x^T dy, a small B (kept as A B^T), and a batched product (left alone).
const CASES: Array<{ name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
  { name: 'a b', a: [100, 784], b: [784, 512], ta: false, tb: false },
  { name: 'a b^T, large b', a: [100, 512], b: [784, 512], ta: false, tb: true },
  { name: 'a^T b', a: [100, 784], b: [100, 512], ta: true, tb: false },
  { name: 'a b^T, small b', a: [300, 64], b: [20, 64], ta: false, tb: true },
  { name: 'a^T b^T', a: [64, 30], b: [20, 64], ta: true, tb: true },
  { name: 'batched a b^T', a: [3, 17, 9], b: [3, 11, 9], ta: false, tb: true },
];

for (const [c, gemm] of CASES.flatMap(
  (c) =>
    [
      [c, true],
      [c, false],
    ] as const,
)) {
  test(`BatchMatMul ${c.name} (${gemm ? "catvae's gemm kernels" : 'XNNPACK, transposes explicit'}): same as tfjs's kernel and a float64 product`, () => {
    const a = randomTensor(c.a, 1);
    const b = randomTensor(c.b, 2);
    setGemmKernels(gemm);
    const [before, after] = beforeAfter(() => tf.matMul(a, b, c.ta, c.tb));
    setGemmKernels(true);
    assert.deepEqual(after.shape, before.shape);
    assert.ok(relError(after, before) < 1e-5, `relative error against tfjs's kernel ${relError(after, before)}`);
    const cpu = tf.tensor(
      matMulReference(a.arraySync() as number[][] | number[][][], b.arraySync() as number[][] | number[][][], c.ta, c.tb),
    );
    assert.ok(relError(after, cpu) < 1e-5, `relative error against a float64 reference ${relError(after, cpu)}`);
    tf.dispose([a, b, before, after, cpu]);
  });
}

/** A float64 matrix product, batched over a leading axis when rank 3. */
function matMulReference(a: number[][] | number[][][], b: number[][] | number[][][], ta: boolean, tb: boolean): number[][] | number[][][] {
  if (Array.isArray(a[0][0])) {
    return (a as number[][][]).map((ai, i) => matMulReference(ai, (b as number[][][])[i], ta, tb) as number[][]);
  }
  const A = ta ? transpose(a as number[][]) : (a as number[][]);
  const B = tb ? transpose(b as number[][]) : (b as number[][]);
  return A.map((row) => B[0].map((_, j) => row.reduce((s, v, k) => s + v * B[k][j], 0)));
}
function transpose(m: number[][]): number[][] {
  return m[0].map((_, j) => m.map((row) => row[j]));
}

test('tf.fused.matMul with bias and relu, transposed: same as matMul + add + relu', () => {
  const a = randomTensor([40, 64], 3);
  const b = randomTensor([96, 64], 4);
  const bias = randomTensor([96], 5);
  registerMatMulKernels();
  const fused = tf.fused.matMul({ a, b, transposeB: true, bias, activation: 'relu' });
  const composed = tf.tidy(() => tf.relu(tf.add(tf.matMul(a, b, false, true), bias)));
  // Not compared with tfjs's own kernel: with a transpose and a bias, the
  // wasm kernel of tfjs 4.22 adds the bias once per 48-wide block of the
  // shared dimension (twice here), a bug the override routes around.
  assert.ok(relError(fused, composed) < 1e-5, `relative error ${relError(fused, composed)}`);
  tf.dispose([a, b, bias, fused, composed]);
});

test('fused dense forward on XNNPACK: a new weight (reversed product) and the same weight again (direct) agree', () => {
  registerMatMulKernels();
  setGemmKernels(false);
  const x = randomTensor([100, 784], 14);
  const bias = randomTensor([512], 15);
  const w = randomTensor([784, 512], 16); // never used before: the override reverses the product
  const tensors = tf.memory().numTensors;
  const first = tf.fused.matMul({ a: x, b: w, bias, activation: 'relu' });
  assert.equal(tf.memory().numTensors, tensors + 1, 'temporaries are freed');
  const second = tf.fused.matMul({ a: x, b: w, bias, activation: 'relu' }); // seen: direct, packed by XNNPACK
  const w2 = randomTensor([784, 512], 16);
  const linear = tf.fused.matMul({ a: x, b: w2, bias });
  setGemmKernels(true);
  unregisterMatMulKernels();
  const reference = tf.tidy(() => tf.relu(tf.add(tf.matMul(x, w), bias)));
  assert.ok(relError(first, reference) < 1e-5, `reversed: ${relError(first, reference)}`);
  assert.ok(relError(second, reference) < 1e-5, `direct: ${relError(second, reference)}`);
  const linearRef = tf.tidy(() => tf.add(tf.matMul(x, w), bias));
  assert.ok(relError(linear, linearRef) < 1e-5, `reversed, linear: ${relError(linear, linearRef)}`);
  tf.dispose([x, bias, w, w2, first, second, linear, reference, linearRef]);
});

test('dense-layer gradients are the same with the fix, and no tensor leaks', () => {
  const x = randomTensor([100, 784], 6);
  const w = randomTensor([784, 512], 7);
  const dy = randomTensor([100, 512], 8);
  const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.relu(tf.matMul(xx, ww)), dy)));
  const grads = () => tf.tidy(() => tf.concat(g([x, w]).map((t) => t.flatten())));
  registerMatMulKernels();
  grads().dispose();
  const tensors = tf.memory().numTensors;
  const after = grads();
  assert.equal(tf.memory().numTensors, tensors + 1, 'only the result is new');
  unregisterMatMulKernels();
  const before = grads();
  assert.ok(relError(after, before) < 1e-5, `relative error ${relError(after, before)}`);
  tf.dispose([x, w, dy, before, after]);
});

test('installing twice wraps once; uninstall restores the originals', () => {
  unregisterMatMulKernels();
  const original = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
  registerMatMulKernels();
  const wrapped = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
  registerMatMulKernels();
  assert.equal(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc, wrapped);
  if (backend === 'wasm') assert.notEqual(wrapped, original);
  unregisterMatMulKernels();
  assert.equal(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc, original);
});

test('asMatrixSwap: which permutations are batches of matrix transposes', () => {
  assert.deepEqual(asMatrixSwap([3, 4], [1, 0]), { batch: 1, rows: 3, cols: 4 });
  assert.deepEqual(asMatrixSwap([2, 3, 4], [0, 2, 1]), { batch: 2, rows: 3, cols: 4 });
  assert.deepEqual(asMatrixSwap([2, 3, 4], [1, 2, 0]), { batch: 1, rows: 2, cols: 12 });
  assert.deepEqual(asMatrixSwap([1, 5, 1, 6], [3, 2, 1, 0]), { batch: 1, rows: 5, cols: 6 });
  assert.equal(asMatrixSwap([2, 3, 4], [2, 1, 0]), null);
  assert.equal(asMatrixSwap([2, 3], [0, 1]), null);
});

test("Transpose: the SIMD override moves exactly what tfjs's kernel moves", () => {
  const cases: Array<[number[], number[]]> = [
    [
      [100, 784],
      [1, 0],
    ],
    [
      [7, 13],
      [1, 0],
    ],
    [
      [4, 4],
      [1, 0],
    ],
    [
      [45, 70],
      [1, 0],
    ],
    [
      [512, 784],
      [1, 0],
    ],
    [
      [3, 9, 6],
      [0, 2, 1],
    ],
    [
      [1, 37, 1, 11],
      [0, 3, 2, 1],
    ],
    [
      [2, 3, 5],
      [2, 0, 1],
    ],
    [
      [2, 3, 5],
      [1, 0, 2],
    ],
  ];
  for (const [shape, perm] of cases) {
    const x = randomTensor(shape, 13);
    unregisterTransposeKernel();
    const before = tf.transpose(x, perm);
    registerTransposeKernel();
    const after = tf.transpose(x, perm);
    unregisterTransposeKernel();
    assert.deepEqual(after.shape, before.shape);
    assert.deepEqual(Array.from(after.dataSync()), Array.from(before.dataSync()), `shape ${shape} perm ${perm}`);
    tf.dispose([x, before, after]);
  }
});

test('sparseInputDense and its weight gradient equal the dense ops, sparse and dense inputs', () => {
  registerSparseDenseKernels();
  // Binary and real-valued sparse inputs, and a dense one (the same kernel: slower than the dense product, but right).
  for (const [density, binary] of [
    [0.13, true],
    [0.13, false],
    [0.6, true],
  ] as const) {
    const rng = new Rng(17);
    const value = () => (binary ? 1 : rng.nextOpen01() * 2 - 1);
    const x = tf.tensor2d(
      Float32Array.from({ length: 50 * 784 }, () => (rng.nextOpen01() < density ? value() : 0)),
      [50, 784],
    );
    const w = randomTensor([784, 64], 18) as tf.Tensor2D;
    const bias = randomTensor([64], 19) as tf.Tensor1D;
    const dy = randomTensor([50, 64], 20) as tf.Tensor2D;
    for (const activation of ['relu', 'linear'] as const) {
      const y = sparseInputDense(x, w, bias, activation);
      const expected = tf.tidy(() => tf.fused.matMul({ a: x, b: w, bias, activation }));
      assert.ok(relError(y, expected) < 1e-5, `density ${density}, binary ${binary}, ${activation}: ${relError(y, expected)}`);
      tf.dispose([y, expected]);
    }
    const dw = sparseInputKernelGrad(x, dy);
    const expected = tf.tidy(() => tf.matMul(x, dy, true, false));
    assert.deepEqual(dw.shape, [784, 64]);
    assert.ok(relError(dw, expected) < 1e-5, `density ${density}, binary ${binary}, gradient: ${relError(dw, expected)}`);
    tf.dispose([x, w, bias, dy, dw, expected]);
  }
});

test('adamUpdate: one step by hand, and subnormal moments flushed to zero', () => {
  const attrs = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, biasCorrection1: 0.1, biasCorrection2: 0.001 };
  const value = Float32Array.of(1, 2, 3);
  const gradient = Float32Array.of(0.5, 0, -2);
  const m = Float32Array.of(0, 1e-38, 0);
  const v = Float32Array.of(0, 1e-39, 0);
  const out = [new Float32Array(3), new Float32Array(3), new Float32Array(3)];
  adamUpdate(value, gradient, m, v, out[0], out[1], out[2], attrs);
  // Step 1 of Adam moves each weight with a gradient by -lr * sign(g).
  assert.ok(Math.abs(out[0][0] - 0.9) < 1e-6, `value ${out[0][0]}`);
  assert.ok(Math.abs(out[0][2] - 3.1) < 1e-6, `value ${out[0][2]}`);
  assert.equal(out[1][1], 0, '0.9 * 1e-38 is subnormal: flushed');
  assert.equal(out[2][1], 0, 'subnormal v flushed');
  assert.ok(Math.abs(out[1][2] - -0.2) < 1e-7, `m ${out[1][2]}`);
});

interface WasmApi {
  Memory: new (descriptor: object) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { adam(...args: number[]): void } };
}

test("the SIMD Adam module gives the JS loop's results, flushing subnormals, on shared and plain memory", () => {
  const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const n = 64;
  const attrs: AdamAttrs = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, biasCorrection1: 0.19, biasCorrection2: 0.002 };
  for (const shared of [false, true]) {
    const memory = shared ? new api.Memory({ initial: 1, maximum: 16, shared: true }) : new api.Memory({ initial: 1 });
    const { adam } = new api.Instance(new api.Module(simdModuleBytes(shared)), { env: { memory } }).exports;
    const rng = new Rng(12);
    const view = (k: number) => new Float32Array(memory.buffer, 16 + k * n * 4, n);
    for (let i = 0; i < n; i++) {
      view(0)[i] = rng.nextOpen01();
      view(1)[i] = i % 9 === 0 ? 0 : rng.nextOpen01() - 0.5;
      // Moments that decay below FLT_MIN this step where the gradient is 0.
      view(2)[i] = i % 9 === 0 ? 1.2e-38 : (rng.nextOpen01() - 0.5) * 1e-3;
      view(3)[i] = i % 9 === 0 ? 1.176e-38 : rng.nextOpen01() * 1e-6;
    }
    const root2 = Math.sqrt(attrs.biasCorrection2);
    const offsets = [0, 1, 2, 3, 4, 5, 6].map((k) => 16 + k * n * 4);
    adam(...offsets, n * 4, 0.9, 1 - 0.9, 0.999, 1 - 0.999, (attrs.learningRate * root2) / attrs.biasCorrection1, attrs.epsilon * root2);
    const expected = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    adamUpdate(view(0), view(1), view(2), view(3), expected[0], expected[1], expected[2], attrs);
    for (let k = 0; k < 3; k++) {
      const got = view(4 + k);
      for (let i = 0; i < n; i++) {
        // float32 arithmetic against float64: a few ulps.
        assert.ok(
          Math.abs(got[i] - expected[k][i]) <= 1e-6 * Math.abs(expected[k][i]),
          `shared=${shared} output ${k}[${i}]: ${got[i]} vs ${expected[k][i]}`,
        );
      }
    }
    for (let i = 0; i < n; i += 9) assert.ok(view(5)[i] === 0 && view(6)[i] === 0, `moments at ${i} flushed to 0`);
  }
});

test('FusedAdamOptimizer trains like tf.train.adam and saves the same weights', async () => {
  // 630 and 21 weights: not multiples of 4, so the SIMD loop and its JS tail both run.
  const init = [randomTensor([30, 21], 9), randomTensor([21], 10)];
  const x = randomTensor([16, 30], 11);
  const run = (optimizer: tf.Optimizer) => {
    const vars = init.map((t) => tf.tidy(() => tf.variable(t.clone())));
    const loss = () => tf.tidy(() => tf.mean(tf.square(tf.relu(tf.add(tf.matMul(x, vars[0]), vars[1])).sub(0.3))) as tf.Scalar);
    for (let i = 0; i < 25; i++) optimizer.minimize(loss, false, vars)?.dispose();
    return vars;
  };
  const stock = tf.train.adam(0.01);
  const fused = new FusedAdamOptimizer(0.01);
  const a = run(stock);
  const kernelsBefore = tf.getKernel(ADAM_KERNEL, backend) != null;
  const b = run(fused);
  assert.ok(kernelsBefore || tf.getKernel(ADAM_KERNEL, backend) != null, `the kernel is registered for ${backend}`);
  for (let i = 0; i < a.length; i++) assert.ok(relError(b[i], a[i]) < 1e-4, `variable ${i}: ${relError(b[i], a[i])}`);
  const [wa, wb] = [await stock.getWeights(), await fused.getWeights()];
  assert.deepEqual(
    wb.map((w) => w.name.replace(/^.*\//, '')),
    wa.map((w) => w.name.replace(/^.*\//, '')),
  );
  for (let i = 0; i < wa.length; i++) assert.ok(relError(wb[i].tensor, wa[i].tensor) < 1e-4, `optimizer weight ${wa[i].name}`);
  assert.equal(fused.iterations, 25);
  const tensors = tf.memory().numTensors;
  run(fused).forEach((v) => v.dispose());
  assert.equal(tf.memory().numTensors, tensors, 'steps leave no tensors behind');
  tf.dispose([...init, x, ...a, ...b]);
  stock.dispose();
  fused.dispose();
});

test('Softplus: the SIMD override against float64, edge values and lengths that leave a tail', () => {
  const edges = [
    Number.NEGATIVE_INFINITY,
    -1e30,
    -200,
    -87.2,
    -60,
    -20,
    -5,
    -1,
    -1e-8,
    0,
    1e-8,
    0.5,
    1,
    5,
    15,
    20,
    40,
    88,
    1e30,
    Number.POSITIVE_INFINITY,
  ];
  const rng = new Rng(31);
  const random = Array.from({ length: 100_001 }, () => (rng.nextOpen01() - 0.5) * 60);
  registerSoftplusKernel();
  for (const values of [edges, ...[1, 2, 3, 5, 7].map((k) => edges.slice(k)), random, [Number.NaN, 1, 2, 3, Number.NaN, 4, 5, 6, 7]]) {
    const x = tf.tensor1d(values);
    const got = tf.softplus(x).dataSync();
    values.forEach((z64, i) => {
      const z = Math.fround(z64); // what the float32 tensor holds
      if (Number.isNaN(z)) return assert.ok(Number.isNaN(got[i]), `softplus(NaN) = ${got[i]}`);
      const expected = Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
      if (!Number.isFinite(expected)) return assert.equal(got[i], expected, `softplus(${z})`);
      // ~3 ulp of float32; below FLT_MIN the value is flushed to 0.
      const tolerance = expected < 1.2e-38 ? 1.2e-38 : 4e-7 * expected;
      assert.ok(Math.abs(got[i] - expected) <= tolerance, `softplus(${z}) = ${got[i]}, expected ${expected}`);
    });
    x.dispose();
  }
  unregisterSoftplusKernel();
});
