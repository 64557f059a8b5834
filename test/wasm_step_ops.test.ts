/**
 * The fused ops of the hand-written step (src/ops/step_ops.ts, kernels in
 * src/wasm/step_kernels.ts): their SIMD
 * and row loops (elementwise_kernels.ts, latent_kernels.ts, simd_math.ts)
 * against float64 on a plain memory, then each op on the wasm backend
 * against the tfjs ops it replaces, with lengths that leave a scalar tail.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { sampleGumbel } from '../src/layers/gumbel_noise.js';
import { Rng } from '../src/random.js';
import { latentGradientRows, relaxedSoftmaxRows } from '../src/wasm/latent_fallback.js';
import { simdModuleBytes, type SimdKernels } from '../src/wasm/simd_kernels.js';
import { bernoulliGradient, latentGradient, relaxedSoftmax, reluGradient } from '../src/ops/step_ops.js';

await useTestBackend();

interface WasmApi {
  Memory: new (d: object) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: SimdKernels };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The kernel module on a plain memory, with a bump allocator that steps by 8 bytes (tfjs's alignment). */
function kernels() {
  const memory = new WA.Memory({ initial: 256 });
  const k = new WA.Instance(new WA.Module(simdModuleBytes(false, false)), { env: { memory } }).exports;
  let top = 64;
  const alloc = (values: ArrayLike<number>) => {
    const at = top;
    top += 4 * values.length + 8;
    new Float32Array(memory.buffer, at, values.length).set(values);
    return at;
  };
  const read = (at: number, n: number) => new Float32Array(memory.buffer, at, n);
  return { k, alloc, read };
}

const ULP = 2 ** -23;
/** Largest |got - want| in units of want's float32 spacing, with `floor` as the least magnitude counted. */
function worstUlps(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (Math.max(Math.abs(want[i]), floor) * ULP));
  return worst;
}

test('expNonPositive: e^t within 2 ulp for t in [-87.3, 0]; 0 below, NaN kept', () => {
  const { k, alloc, read } = kernels();
  const rng = new Rng(1);
  const t = Float32Array.from({ length: 4096 }, () => -87.3 * rng.nextOpen01());
  t.set([0, -0, NaN, -87.29, -87.31, -1e-30, -Infinity, -1000]);
  const src = alloc(t);
  const dst = alloc(t);
  k.expNonPositive(src, dst, 4 * t.length);
  const got = read(dst, t.length);
  const kind = (x: number) => (Number.isNaN(x) ? 'NaN' : x === 0 || x === 1 ? x : x > 0 ? 'positive' : 'negative');
  assert.deepEqual(Array.from(got.subarray(0, 8), kind), [1, 1, 'NaN', 'positive', 0, 1, 0, 0]);
  const want = Array.from(t, (x) => (x < -87.3 ? 0 : Math.exp(x)));
  assert.ok(worstUlps(got.subarray(8), want.slice(8), 1e-37) <= 2, `worst ${worstUlps(got.subarray(8), want.slice(8), 1e-37)} ulp`);
});

test('gumbel: -log(-log u) within 3 ulp (absolute 2^-24 near 0) over the uniforms the sampler draws', () => {
  const { k, alloc, read } = kernels();
  const rng = new Rng(2);
  // The sampler's uniforms are (2m + 1) / 2^24; the extremes and e^-1 (where g crosses 0) included.
  const u = Float32Array.from({ length: 8192 }, () => ((rng.nextUint32() >>> 9) * 2 + 1) / 2 ** 24);
  u.set([2 ** -24, 1 - 2 ** -24, Math.exp(-1), 0.5, Math.SQRT1_2, 1 / Math.SQRT2 + 1e-7]);
  const src = alloc(u);
  const dst = alloc(u);
  k.gumbel(src, dst, 4 * u.length);
  const want = Array.from(u, (x) => -Math.log(-Math.log(x)));
  const worst = worstUlps(read(dst, u.length), want, 0.5);
  assert.ok(worst <= 3, `worst ${worst} ulp`);
});

test('bernoulliGrad: (sigmoid(z) - x) * scale to float32 rounding, at any z (below FLT_MIN: 0)', () => {
  const { k, alloc, read } = kernels();
  const rng = new Rng(3);
  const z = Float32Array.from({ length: 4096 }, () => (rng.nextOpen01() - 0.5) * 60);
  z.set([0, -0, 100, -100, Infinity, -Infinity, NaN, 88.5, -88.5, 1e-8, -1e-8]);
  const x = Float32Array.from(z, (_, i) => (i % 3 === 0 ? 1 : 0));
  const [zs, xs, dst] = [alloc(z), alloc(x), alloc(z)];
  k.bernoulliGrad(zs, xs, dst, 4 * z.length, 0.25);
  const got = read(dst, z.length);
  assert.ok(Number.isNaN(got[6]), 'NaN in, NaN out');
  let worst = 0;
  z.forEach((zi, i) => {
    if (Number.isNaN(zi)) return;
    const s = 1 / (1 + Math.exp(-zi));
    // sigmoid near 0 is relative-accurate; the difference with x is then rounded once: 4 ulp of the
    // larger. Where sigmoid(z) < FLT_MIN (z < -87.3) it is flushed to 0, as exp's tail is.
    const err = Math.abs(got[i] - (s - x[i]) * 0.25);
    worst = Math.max(worst, err <= 0.25 * 1.2e-38 ? 0 : err / (Math.max(Math.abs(s - x[i]), s) * 0.25 * ULP));
  });
  assert.ok(worst <= 4, `worst ${worst} ulp`);
});

test('reluGrad: dy where x > 0, exactly', () => {
  const { k, alloc, read } = kernels();
  const x = Float32Array.from([1, -1, 0, -0, NaN, 2, -3, 1e-40, 5, -5, 0.5, -0.5, 3, 3, -3, -3]);
  const dy = Float32Array.from(x, (_, i) => i + 1);
  const dst = alloc(x);
  k.reluGrad(alloc(dy), alloc(x), dst, 4 * x.length);
  assert.deepEqual(
    Array.from(read(dst, x.length)),
    Array.from(x, (xi, i) => (xi > 0 ? i + 1 : 0)),
  );
});

/** float64 reference of the latent block over rows of k. */
function latentReference(logits: Float32Array, noise: Float32Array, dy: Float32Array, k: number, tau: number, w: number) {
  const y = new Float64Array(logits.length);
  const grad = new Float64Array(logits.length);
  for (let base = 0; base < logits.length; base += k) {
    const row = (a: ArrayLike<number>) => Array.from({ length: k }, (_, j) => a[base + j]);
    const softmax = (v: number[]) => {
      const m = Math.max(...v);
      const e = v.map((x) => Math.exp(x - m));
      const s = e.reduce((p, q) => p + q, 0);
      return e.map((x) => x / s);
    };
    const ys = softmax(row(logits).map((l, j) => (l + noise[base + j]) / tau));
    const q = softmax(row(logits));
    const logQ = q.map(Math.log);
    const h = q.reduce((p, qj, j) => p + qj * logQ[j], 0);
    const dyy = ys.reduce((p, yj, j) => p + yj * dy[base + j], 0);
    for (let j = 0; j < k; j++) {
      y[base + j] = ys[j];
      grad[base + j] = (ys[j] * (dy[base + j] - dyy)) / tau + w * q[j] * (logQ[j] - h);
    }
  }
  return { y, grad };
}

for (const k of [10, 3]) {
  test(`row kernels: relaxed softmax and the latent gradient against float64 (k = ${k})`, () => {
    const { k: kern, alloc, read } = kernels();
    const rng = new Rng(4 + k);
    const rows = 37;
    const size = rows * k;
    const padded = Math.ceil(size / 8) * 8;
    const randn = (scale: number) => Float32Array.from({ length: size }, () => (rng.nextOpen01() - 0.5) * scale);
    const [logits, noise, dy] = [randn(8), randn(4), randn(2)];
    const ref = latentReference(logits, noise, dy, k, 0.6, 0.01);
    const [l, g, d] = [alloc(logits), alloc(noise), alloc(dy)];
    const scratch = alloc(new Float32Array(padded));
    const [y, out] = [alloc(new Float32Array(size)), alloc(new Float32Array(size))];
    kern.rowShift(l, g, scratch, rows, k, 1 / 0.6);
    kern.expNonPositive(scratch, scratch, 4 * padded);
    kern.rowNormalize(scratch, y, rows, k);
    const ys = read(y, size);
    // The softmax's arguments (l + g) / tau, up to ~20 here, are float32: exp turns their rounding
    // (|a| 2^-24) into a relative error of that size, ~10 ulp, in the float64 reference's terms too.
    assert.ok(worstUlps(ys, ref.y, 1e-6) < 32, `y: ${worstUlps(ys, ref.y, 1e-6)} ulp`);
    kern.rowShift(l, 0, scratch, rows, k, 1);
    kern.expNonPositive(scratch, scratch, 4 * padded);
    kern.latentGrad(scratch, d, y, l, out, rows, k, 1 / 0.6, 0.01);
    // Sums of a few terms of mixed signs: an absolute bound on the scale of the terms.
    const got = read(out, size);
    const worst = Math.max(...Array.from(got, (x, i) => Math.abs(x - ref.grad[i])));
    assert.ok(worst < 1e-6, `gradient off by ${worst}`);
  });

  test(`row kernels without SIMD wasm (JS loops): the same against float64 (k = ${k})`, () => {
    const rng = new Rng(14 + k);
    const size = 37 * k;
    const randn = (scale: number) => Float32Array.from({ length: size }, () => (rng.nextOpen01() - 0.5) * scale);
    const [logits, noise, dy] = [randn(8), randn(4), randn(2)];
    const ref = latentReference(logits, noise, dy, k, 0.6, 0.01);
    const [y, out] = [new Float32Array(size), new Float32Array(size)];
    relaxedSoftmaxRows(logits, noise, y, k, 1 / 0.6);
    assert.ok(worstUlps(y, ref.y, 1e-6) < 32, `y: ${worstUlps(y, ref.y, 1e-6)} ulp`);
    latentGradientRows(dy, y, logits, out, k, 1 / 0.6, 0.01);
    const worst = Math.max(...Array.from(out, (x, i) => Math.abs(x - ref.grad[i])));
    assert.ok(worst < 1e-6, `gradient off by ${worst}`);
  });
}

/** The op on the wasm backend and the tfjs ops it replaces, on the same inputs. */
function closeTo(got: tf.Tensor, want: tf.Tensor, tolerance: number, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const [a, b] = [got.dataSync(), want.dataSync()];
  let worst = 0;
  a.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b[i]))));
  assert.ok(worst <= tolerance, `${what}: off by ${worst}`);
}

const onWasm = { skip: tf.getBackend() === 'wasm' ? false : 'the fused kernels are wasm kernels' };

test('the fused ops equal the tfjs ops they replace (odd sizes: scalar tails)', onWasm, () => {
  const [b, n, k] = [7, 3, 5];
  const logits = tf.randomNormal([b, n * k], 0, 3, 'float32', 1);
  const noise = sampleGumbel([b, n, k], new Rng(5));
  const tau = 0.7;
  const y = relaxedSoftmax(logits, noise, tau, k);
  const yRef = tf.tidy(() =>
    tf.reshape(tf.softmax(tf.reshape(tf.div(tf.add(logits, tf.reshape(noise, logits.shape)), tau), [-1, k])), logits.shape),
  );
  closeTo(y, yRef, 1e-6, 'relaxedSoftmax');
  const dy = tf.randomNormal([b, n * k], 0, 1, 'float32', 2);
  const grad = latentGradient(dy, y, logits, tau, k, 1 / b);
  const gradRef = tf.tidy(() => {
    const g = tf.grad((l: tf.Tensor) => {
      const ys = tf.reshape(tf.softmax(tf.reshape(tf.div(tf.add(l, tf.reshape(noise, l.shape)), tau), [-1, k])), l.shape);
      const logQ = tf.logSoftmax(tf.reshape(l, [-1, k]));
      const kl = tf.sum(tf.mul(tf.exp(logQ), logQ));
      return tf.add(tf.sum(tf.mul(ys, dy)), tf.mul(kl, 1 / b));
    });
    return g(logits);
  });
  closeTo(grad, gradRef, 2e-6, 'latentGradient');
  const h = tf.relu(tf.randomNormal([b, 13], 0, 1, 'float32', 3));
  const d = tf.randomNormal([b, 13], 0, 1, 'float32', 4);
  closeTo(
    reluGradient(d, h),
    tf.tidy(() => tf.mul(d, tf.step(h))),
    0,
    'reluGradient',
  );
  const z = tf.randomNormal([b, 13], 0, 5, 'float32', 5);
  const x = tf.tidy(() => tf.randomUniform([b, 13], 0, 1, 'float32', 6).less(0.3).cast('float32'));
  closeTo(
    bernoulliGradient(z, x, 0.5),
    tf.tidy(() => tf.mul(tf.sub(tf.sigmoid(z), x), 0.5)),
    1e-7,
    'bernoulliGradient',
  );
  tf.dispose([logits, noise, y, yRef, dy, grad, gradRef, h, d, z, x]);
});

test("sampleGumbel on wasm: the two logs of the stream's uniforms, to float32 rounding", onWasm, () => {
  const g = sampleGumbel([3, 333], new Rng(6, 1));
  const u = (() => {
    const rng = new Rng(6, 1);
    return Array.from({ length: 999 }, () => ((rng.nextUint32() >>> 9) * 2 + 1) / 16777216);
  })();
  const worst = worstUlps(
    g.dataSync(),
    u.map((x) => -Math.log(-Math.log(x))),
    0.5,
  );
  assert.ok(worst <= 3, `worst ${worst} ulp`);
  g.dispose();
});

test('the fused kernels refuse inputs of different sizes with a one-line error', onWasm, () => {
  const a = tf.zeros([4, 10]);
  const b = tf.zeros([4, 9]);
  assert.throws(
    () => relaxedSoftmax(a, b, 1, 10),
    /CatvaeRelaxedSoftmax: inputs of \[4, 10\], \[4, 9\] do not hold the same number of values, in rows of 10/,
  );
  assert.throws(() => reluGradient(a, b), /CatvaeReluGradient: inputs of/);
  assert.throws(() => relaxedSoftmax(a, a, 1, 3), /in rows of 3/);
  tf.dispose([a, b]);
});
