import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { GumbelSoftmax, gumbelSoftmax, findGumbelSoftmaxLayers } from '../src/layers/gumbel_softmax.js';
import { relaxedOneHot, sampleGumbel, gumbelNoiseValues } from '../src/layers/gumbel_noise.js';
import { Rng } from '../src/random.js';
import { counterGumbel } from '../src/ops/gumbel_noise.js';
import { philoxKey } from '../src/ops/philox.js';

await useTestBackend();

/** Pearson's chi-square statistic of observed counts against probabilities. */
function chiSquare(counts: number[], probs: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((acc, c, i) => acc + (c - n * probs[i]) ** 2 / (n * probs[i]), 0);
}
const CHI2_3DOF_P001 = 16.27;

function classCounts(oneHot: Float32Array | Int32Array | Uint8Array, k: number): number[] {
  const counts = new Array(k).fill(0);
  for (let i = 0; i < oneHot.length; i++) if (oneHot[i] === 1) counts[i % k]++;
  return counts;
}

const PROBS = [0.5, 0.3, 0.15, 0.05];
const LOGITS = PROBS.map(Math.log);

test('hard samples follow softmax(logits): chi-square over 20,000 draws', () => {
  const n = 20000;
  const layer = gumbelSoftmax({ hard: true, seed: 7 });
  const y = tf.tidy(() => layer.apply(tf.tile(tf.tensor2d([LOGITS]), [n, 1]), { training: true }) as tf.Tensor);
  const values = y.dataSync() as Float32Array;
  y.dispose();
  const counts = classCounts(values, 4);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    n,
    'every row is exactly one-hot',
  );
  const stat = chiSquare(counts, PROBS);
  assert.ok(stat < CHI2_3DOF_P001, `chi-square ${stat.toFixed(2)} >= ${CHI2_3DOF_P001}; counts ${counts}`);
  // The same statistic rejects a wrong law on these counts, so the check has power.
  assert.ok(chiSquare(counts, [0.25, 0.25, 0.25, 0.25]) > 100 * CHI2_3DOF_P001);
});

test("inference mode 'sample' follows the same law; 'argmax' is the mode; 'softmax' the probabilities", () => {
  const n = 20000;
  const logits = tf.tile(tf.tensor2d([LOGITS]), [n, 1]);
  const sample = gumbelSoftmax({ inferenceMode: 'sample', seed: 3 }).apply(logits, { training: false }) as tf.Tensor;
  const counts = classCounts(sample.dataSync() as Float32Array, 4);
  assert.ok(chiSquare(counts, PROBS) < CHI2_3DOF_P001, `counts ${counts}`);
  const mode = gumbelSoftmax().apply(tf.tensor2d([LOGITS]), { training: false }) as tf.Tensor;
  assert.deepEqual(Array.from(mode.dataSync()), [1, 0, 0, 0]);
  const probs = gumbelSoftmax({ inferenceMode: 'softmax' }).apply(tf.tensor2d([LOGITS])) as tf.Tensor;
  Array.from(probs.dataSync()).forEach((p, i) => assert.ok(Math.abs(p - PROBS[i]) < 1e-6));
  tf.dispose([logits, sample, mode, probs]);
});

test('soft samples: near one-hot at tau 0.05, near uniform at tau 100', () => {
  const n = 2000;
  const logits = tf.tile(tf.tensor2d([LOGITS]), [n, 1]);
  const cold = gumbelSoftmax({ temperature: 0.05, seed: 1 }).apply(logits, { training: true }) as tf.Tensor;
  const meanMax = tf.tidy(() => cold.max(-1).mean().dataSync()[0]);
  assert.ok(meanMax > 0.95, `mean max at tau 0.05 is ${meanMax}`);
  const hot = gumbelSoftmax({ temperature: 100, seed: 1 }).apply(logits, { training: true }) as tf.Tensor;
  const maxDev = tf.tidy(() => hot.sub(0.25).abs().max().dataSync()[0]);
  assert.ok(maxDev < 0.05, `max |y - 1/K| at tau 100 is ${maxDev}`);
  tf.dispose([logits, cold, hot]);
});

test('Gumbel noise: finite, and mean and variance of Gumbel(0,1)', () => {
  const g = gumbelNoiseValues(200000, new Rng(11));
  let sum = 0;
  let sq = 0;
  for (const v of g) {
    assert.ok(Number.isFinite(v));
    sum += v;
    sq += v * v;
  }
  const mean = sum / g.length;
  const variance = sq / g.length - mean * mean;
  assert.ok(Math.abs(mean - 0.5772156649) < 0.01, `mean ${mean}`); // Euler-Mascheroni
  assert.ok(Math.abs(variance - Math.PI ** 2 / 6) < 0.03, `variance ${variance}`);
});

/** float64 reference of f(logits) = sum(w * softmax((logits + g) / tau)) over rows of k. */
function referenceObjective(logits: number[], noise: number[], w: number[], tau: number, k: number): number {
  let total = 0;
  for (let r = 0; r < logits.length / k; r++) {
    const z = Array.from({ length: k }, (_, j) => (logits[r * k + j] + noise[r * k + j]) / tau);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (total += (w[r * k + j] * v) / s));
  }
  return total;
}

test('soft-path gradient matches float64 central differences (noise held fixed)', () => {
  const k = 5;
  const rows = 3;
  const tau = 0.7;
  const rng = new Rng(5);
  const logits = Array.from({ length: rows * k }, () => 2 * rng.nextOpen01() - 1);
  const w = Array.from({ length: rows * k }, () => 2 * rng.nextOpen01() - 1);
  const noiseT = sampleGumbel([rows, k], new Rng(9));
  const noise = Array.from(noiseT.dataSync());
  const grad = tf.grad((x: tf.Tensor) =>
    relaxedOneHot(x, noiseT, tau)
      .mul(tf.tensor2d(w, [rows, k]))
      .sum(),
  );
  const analytic = grad(tf.tensor2d(logits, [rows, k])).dataSync();
  const h = 1e-5;
  let maxAbs = 0;
  let maxErr = 0;
  for (let i = 0; i < logits.length; i++) {
    const plus = logits.slice();
    const minus = logits.slice();
    plus[i] += h;
    minus[i] -= h;
    const fd = (referenceObjective(plus, noise, w, tau, k) - referenceObjective(minus, noise, w, tau, k)) / (2 * h);
    maxAbs = Math.max(maxAbs, Math.abs(fd));
    maxErr = Math.max(maxErr, Math.abs(fd - analytic[i]));
  }
  assert.ok(maxAbs > 0.01, 'the gradient is not trivially zero');
  assert.ok(maxErr / maxAbs < 1e-3, `relative error ${maxErr / maxAbs}`);
});

test('the layer uses that maths, and hard mode is one-hot forward with the soft gradient', () => {
  const k = 6;
  const logits = tf.randomNormal([4, k], 0, 1, 'float32', 2);
  const w = tf.randomNormal([4, k], 0, 1, 'float32', 3);
  const soft = gumbelSoftmax({ temperature: 0.6, seed: 21 });
  const hard = gumbelSoftmax({ temperature: 0.6, seed: 21, hard: true });
  const viaLayer = (layer: GumbelSoftmax) => {
    layer.noiseState = { seed: 21, calls: 0 };
    return layer.apply(logits, { training: true }) as tf.Tensor;
  };
  // The layer's first call uses the noise stream (seed, 0).
  const expected = relaxedOneHot(logits, counterGumbel([4, k], philoxKey(21, 0)), 0.6);
  const ySoft = viaLayer(soft);
  const diff = tf.tidy(() => ySoft.sub(expected).abs().max().dataSync()[0]);
  assert.ok(diff < 1e-6, `layer output differs from relaxedOneHot by ${diff}`);

  const yHard = viaLayer(hard).dataSync();
  for (let r = 0; r < 4; r++) {
    const row = Array.from(yHard.slice(r * k, (r + 1) * k));
    assert.deepEqual(row.slice().sort(), [0, 0, 0, 0, 0, 1], 'exactly one-hot');
  }
  const gradOf = (layer: GumbelSoftmax) =>
    tf
      .grad((x: tf.Tensor) => {
        layer.noiseState = { seed: 21, calls: 0 };
        return (layer.apply(x, { training: true }) as tf.Tensor).mul(w).sum();
      })(logits)
      .dataSync();
  const gSoft = gradOf(soft);
  const gHard = gradOf(hard);
  assert.ok(gSoft.some((v) => Math.abs(v) > 1e-3));
  gSoft.forEach((v, i) => assert.ok(Math.abs(v - gHard[i]) < 1e-6, `gradient ${i}: ${v} vs ${gHard[i]}`));
  tf.dispose([logits, w, expected, ySoft]);
});

test('extreme inputs give finite outputs; a -Infinity class is never sampled', () => {
  const cases: Array<{ logits: number[][]; tau: number }> = [
    { logits: [[1e4, -1e4, 0]], tau: 0.01 },
    { logits: [[-1e4, -1e4]], tau: 0.01 },
    { logits: [[3]], tau: 0.01 },
    { logits: [[0.2, -0.2]], tau: 0.01 },
    { logits: [[1e4, 1e4, -1e4]], tau: 1 },
  ];
  for (const { logits, tau } of cases) {
    for (const hard of [false, true]) {
      const y = gumbelSoftmax({ temperature: tau, hard, seed: 4 }).apply(tf.tile(tf.tensor2d(logits), [1000, 1]), {
        training: true,
      }) as tf.Tensor;
      const v = y.dataSync();
      assert.ok(v.every(Number.isFinite), `non-finite output for ${JSON.stringify(logits)} tau ${tau} hard ${hard}`);
      const sums = tf.tidy(() => y.sum(-1).dataSync());
      sums.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-4));
      y.dispose();
    }
  }
  const n = 100000;
  const masked = tf.tile(tf.tensor2d([[0, -Infinity, 2, -1]]), [n, 1]);
  for (const hard of [false, true]) {
    const y = gumbelSoftmax({ temperature: 0.01, hard, seed: 8 }).apply(masked, { training: true }) as tf.Tensor;
    const column = tf.tidy(() => y.slice([0, 1], [n, 1]).max().dataSync()[0]);
    assert.equal(column, 0, 'the masked class got probability mass');
    assert.ok(y.dataSync().every(Number.isFinite));
    y.dispose();
  }
  masked.dispose();
});

test('the same seed gives the same samples; another seed does not', () => {
  const logits = tf.zeros([8, 10]);
  const draw = (seed: number) => Array.from((gumbelSoftmax({ seed }).apply(logits, { training: true }) as tf.Tensor).dataSync());
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  const layer = gumbelSoftmax({ seed: 42 });
  const first = Array.from((layer.apply(logits, { training: true }) as tf.Tensor).dataSync());
  const second = Array.from((layer.apply(logits, { training: true }) as tf.Tensor).dataSync());
  assert.notDeepEqual(first, second, 'successive calls draw fresh noise');
});

test('bad config fails at construction with a clear message', () => {
  assert.throws(() => gumbelSoftmax({ temperature: 0 }), /temperature must be a finite number > 0/);
  assert.throws(() => gumbelSoftmax({ temperature: Number.NaN }), /temperature must be a finite number > 0/);
  assert.throws(() => gumbelSoftmax({ temperature: Infinity }), /temperature/);
  assert.throws(() => gumbelSoftmax({ inferenceMode: 'mean' as 'argmax' }), /unknown inferenceMode 'mean'/);
  assert.throws(() => gumbelSoftmax({ axis: 2, inputShape: [4] }), /axis 2 is out of range for input of rank 2/);
  assert.throws(() => gumbelSoftmax({ axis: 0.5 }), /axis must be an integer/);
  assert.throws(() => gumbelSoftmax().setTemperature(-1), /temperature must be a finite number > 0/);
});

test('a non-last axis works: samples are one-hot along that axis', () => {
  const y = gumbelSoftmax({ axis: 1, hard: true, seed: 2 }).apply(tf.zeros([3, 5, 2]), { training: true }) as tf.Tensor;
  const sums = tf.tidy(() => y.sum(1).dataSync());
  sums.forEach((s) => assert.equal(s, 1));
  y.dispose();
});

test('temperature is a weight: saved with the model and restored by tf.loadLayersModel', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-layer-'));
  try {
    const input = tf.input({ shape: [12] });
    const logits = tf.layers.dense({ units: 12, kernelInitializer: 'glorotNormal' }).apply(input) as tf.SymbolicTensor;
    const grouped = tf.layers.reshape({ targetShape: [3, 4] }).apply(logits) as tf.SymbolicTensor;
    const codes = gumbelSoftmax({ temperature: 1, seed: 5 }).apply(grouped) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: codes });
    const layer = findGumbelSoftmaxLayers(model)[0];
    layer.setTemperature(0.37);
    assert.ok(Math.abs(layer.temperature - 0.37) < 1e-6);
    await model.save(`file://${dir}`);
    const loaded = await tf.loadLayersModel(`file://${path.join(dir, 'model.json')}`);
    const restored = findGumbelSoftmaxLayers(loaded)[0];
    assert.ok(restored instanceof GumbelSoftmax);
    assert.ok(Math.abs(restored.temperature - 0.37) < 1e-6, `restored tau ${restored.temperature}`);
    const x = tf.randomNormal([16, 12], 0, 1, 'float32', 1);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.ok(a.some((v) => v === 1));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('learnTemperature makes tau trainable and keeps it positive', () => {
  const layer = gumbelSoftmax({ learnTemperature: true, temperature: 0.8, seed: 1 });
  layer.apply(tf.zeros([2, 3]), { training: true });
  assert.equal(layer.trainableWeights.length, 1);
  const opt = tf.train.sgd(10);
  const logits = tf.tensor2d([[2, 0, -1]]);
  for (let i = 0; i < 20; i++) {
    // Pushing tau hard downwards must not take it to zero or below.
    opt.minimize(() => (layer.apply(logits, { training: true }) as tf.Tensor).max().neg() as tf.Scalar, false, [
      layer.trainableWeights[0].read() as tf.Variable,
    ]);
  }
  assert.ok(layer.temperature > 0 && Number.isFinite(layer.temperature), `tau ${layer.temperature}`);
  // ...and the gradient really reached it: sharper samples have a larger max, so tau fell.
  assert.ok(layer.temperature < 0.5, `tau ${layer.temperature} did not fall from 0.8`);
  const frozen = gumbelSoftmax();
  frozen.apply(tf.zeros([2, 3]));
  assert.equal(frozen.trainableWeights.length, 0);
  assert.equal(frozen.nonTrainableWeights.length, 1);
});

test('no tensor leaks over 100 training calls', () => {
  const layer = gumbelSoftmax({ hard: true, seed: 1 });
  const logits = tf.randomNormal([32, 20, 10]);
  layer.apply(logits, { training: true }); // builds the layer (its weight stays)
  const before = tf.memory().numTensors;
  for (let i = 0; i < 100; i++) {
    const y = layer.apply(logits, { training: true }) as tf.Tensor;
    y.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  logits.dispose();
});
