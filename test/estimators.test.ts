import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import {
  argmax,
  gappedStraightThroughGradient64,
  gumbelMax64,
  gumbelRaoGradient64,
  reinmaxGradient64,
} from './helpers/estimator_reference.js';
import { GumbelSoftmax, gumbelSoftmax, findGumbelSoftmaxLayers } from '../src/layers/gumbel_softmax.js';
import { conditionalGumbelLogits, ESTIMATORS, gapShift, gumbelMax, type Estimator } from '../src/layers/estimators.js';
import { sampleGumbel } from '../src/layers/gumbel_noise.js';
import { temperatureAnnealer } from '../src/layers/temperature_schedule.js';
import { Rng } from '../src/random.js';

await useTestBackend();

const K = 5;
const ROWS = 4;
const uniformValues = (n: number, seed: number, scale = 2) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => scale * (2 * rng.nextOpen01() - 1));
};

/** The layer's training output and the gradient of sum(w * output), from noise state `calls`, plus the noise it drew. */
function layerForwardAndGradient(layer: GumbelSoftmax, logits: tf.Tensor2D, w: tf.Tensor2D, calls = 0) {
  const seed = layer.noiseState.seed;
  layer.noiseState = { seed, calls };
  const noise = layer.drawEstimatorNoise(logits.shape);
  layer.noiseState = { seed, calls };
  let value: number[] = [];
  const grad = tf.grad((x: tf.Tensor) => {
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    value = Array.from(y.dataSync());
    return tf.sum(tf.mul(y, w));
  })(logits);
  const out = {
    value,
    grad: Array.from(grad.dataSync()),
    gumbel: Array.from(noise.gumbel.dataSync()),
    raoNoise: noise.raoNoise ? Array.from(noise.raoNoise.dataSync()) : [],
  };
  tf.dispose([grad, noise.gumbel, ...(noise.raoNoise ? [noise.raoNoise] : [])]);
  return out;
}

function assertClose(got: number[], want: number[], relTol: number, what: string): void {
  const scale = Math.max(...want.map(Math.abs));
  assert.ok(scale > 1e-3, `${what}: reference gradient is trivially zero`);
  const err = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
  assert.ok(err <= relTol * scale, `${what}: off by ${err} (scale ${scale})`);
}

for (const tau of [1, 2.5]) {
  test(`reinmax (tau ${tau}): one-hot draw forward, 2 J(pi1) g - J(pi0) g / 2 backward, against float64`, () => {
    const logitsValues = uniformValues(ROWS * K, 1);
    const wValues = uniformValues(ROWS * K, 2, 1);
    const [logits, w] = [tf.tensor2d(logitsValues, [ROWS, K]), tf.tensor2d(wValues, [ROWS, K])];
    const l32 = Array.from(logits.dataSync());
    const layer = gumbelSoftmax({ estimator: 'reinmax', temperature: tau, seed: 21 });
    const got = layerForwardAndGradient(layer, logits, w);
    assert.deepEqual(got.value, gumbelMax64(l32, got.gumbel, K), 'forward: one_hot(argmax(logits + g))');
    assertClose(got.grad, reinmaxGradient64(l32, got.gumbel, Array.from(w.dataSync()), tau, K), 1e-5, 'reinmax gradient');
    tf.dispose([logits, w]);
  });
}

test('gumbel-rao: one-hot forward, mean of conditional ST Gumbel-Softmax gradients, against float64', () => {
  const logitsValues = uniformValues(ROWS * K, 3);
  const wValues = uniformValues(ROWS * K, 4, 1);
  const [logits, w] = [tf.tensor2d(logitsValues, [ROWS, K]), tf.tensor2d(wValues, [ROWS, K])];
  const l32 = Array.from(logits.dataSync());
  for (const [samples, tau] of [
    [1, 0.5],
    [7, 0.8],
  ]) {
    const layer = gumbelSoftmax({ estimator: 'gumbel-rao', raoSamples: samples, temperature: tau, seed: 5 });
    const got = layerForwardAndGradient(layer, logits, w, 3);
    assert.equal(got.raoNoise.length, samples * ROWS * K, 'raoSamples Gumbel draws per value');
    assert.deepEqual(got.value, gumbelMax64(l32, got.gumbel, K), 'forward: one_hot(argmax(logits + g))');
    const want = gumbelRaoGradient64(l32, got.gumbel, got.raoNoise, Array.from(w.dataSync()), tau, K, samples);
    assertClose(got.grad, want, 1e-4, `gumbel-rao gradient (k ${samples}, tau ${tau})`);
  }
  tf.dispose([logits, w]);
});

for (const [tau, gap] of [
  [0.5, 1],
  [1.5, 0.3],
]) {
  test(`gapped straight-through (tau ${tau}, gap ${gap}): one-hot draw forward, J(y) g / tau of the gapped surrogate backward, against float64`, () => {
    const logitsValues = uniformValues(ROWS * K, 7);
    const wValues = uniformValues(ROWS * K, 8, 1);
    const [logits, w] = [tf.tensor2d(logitsValues, [ROWS, K]), tf.tensor2d(wValues, [ROWS, K])];
    const l32 = Array.from(logits.dataSync());
    const layer = gumbelSoftmax({ estimator: 'gapped-straight-through', temperature: tau, gap, seed: 4 });
    const got = layerForwardAndGradient(layer, logits, w);
    assert.deepEqual(got.value, gumbelMax64(l32, got.gumbel, K), 'forward: one_hot(argmax(logits + g))');
    const want = gappedStraightThroughGradient64(l32, got.gumbel, Array.from(w.dataSync()), tau, gap, K);
    assertClose(got.grad, want, 1e-5, 'gapped straight-through gradient');
    tf.dispose([logits, w]);
  });
}

test('gapShift: the sampled class leads every other by at least the gap; classes already below keep their logit; masked classes stay put', () => {
  const rows = 200;
  const logits = tf.tensor2d(uniformValues(rows * K, 9, 3), [rows, K]);
  const sample = gumbelMax(logits, sampleGumbel([rows, K], new Rng(10)));
  const [l, d, m] = [logits, sample, gapShift(logits, sample, 0.7)].map((t) => t.arraySync() as number[][]);
  for (let r = 0; r < rows; r++) {
    const i = d[r].indexOf(1);
    const moved = l[r].map((v, j) => v + m[r][j]);
    const max = Math.max(...l[r]);
    assert.ok(Math.abs(moved[i] - max) < 1e-5, `row ${r}: the sampled class at the maximum`);
    for (let j = 0; j < K; j++) {
      if (j === i) continue;
      assert.ok(moved[i] - moved[j] >= 0.7 - 1e-5, `row ${r}: class ${j} within the gap`);
      if (l[r][j] <= max - 0.7) assert.ok(m[r][j] === 0, `row ${r}: class ${j} already below the gap moved by ${m[r][j]}`);
    }
  }
  const masked = tf.tensor2d([[0, -Infinity, 2, 1.5]]);
  const shift = gapShift(masked, tf.tensor2d([[1, 0, 0, 0]]), 1).arraySync() as number[][];
  assert.deepEqual(
    shift[0].map((v) => v + 0),
    [2, 0, -1, -0.5],
  );
  tf.dispose([logits, sample, masked]);
});

test('the estimators are resumable: the same noise state gives the same sample and gradient, the next call another', () => {
  const logits = tf.randomNormal([16, 6], 0, 1, 'float32', 7) as tf.Tensor2D;
  const w = tf.randomNormal([16, 6], 0, 1, 'float32', 8) as tf.Tensor2D;
  for (const estimator of ESTIMATORS) {
    const layer = gumbelSoftmax({ estimator, temperature: 1, seed: 9 });
    const a = layerForwardAndGradient(layer, logits, w, 4);
    const b = layerForwardAndGradient(layer, logits, w, 4);
    const c = layerForwardAndGradient(layer, logits, w, 5);
    assert.deepEqual(b.value, a.value, `${estimator}: same sample`);
    assert.deepEqual(b.grad, a.grad, `${estimator}: same gradient`);
    assert.notDeepEqual(c.grad, a.grad, `${estimator}: the next call draws new noise`);
  }
  tf.dispose([logits, w]);
});

/** Kolmogorov-Smirnov distance of a sample from Gumbel(0, 1), F(x) = exp(-exp(-x)). */
function ksGumbel(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const n = sorted.length;
  let d = 0;
  sorted.forEach((x, i) => {
    const f = Math.exp(-Math.exp(-x));
    d = Math.max(d, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
  });
  return d;
}

test('conditional Gumbel draws: argmax is always D, and over D ~ softmax(logits) they are Gumbel(0, 1) (KS test)', () => {
  const n = 20000;
  const probs = [0.5, 0.3, 0.15, 0.04, 0.01];
  const row = probs.map(Math.log);
  const logits = tf.tile(tf.tensor2d([row]), [n, 1]);
  const d = gumbelMax(logits, sampleGumbel([n, 5], new Rng(31)));
  const perturbed = conditionalGumbelLogits(logits, d, sampleGumbel([2, n, 5], new Rng(32)));
  const dValues = d.dataSync();
  const pValues = perturbed.dataSync();
  for (let s = 0; s < 2; s++) {
    for (let r = 0; r < n; r++) {
      const values = Array.from(pValues.slice((s * n + r) * 5, (s * n + r + 1) * 5));
      assert.equal(dValues[r * 5 + argmax(values)], 1, `draw ${s} of row ${r}: argmax ${argmax(values)} is not D`);
    }
  }
  // The noise g = (logits + g) - logits of the first draw, per class, pooled over D. KS critical
  // value at alpha = 0.001: 1.95 / sqrt(n) = 0.0138 (five classes: family-wise alpha 0.005).
  const critical = 1.95 / Math.sqrt(n);
  for (let j = 0; j < 5; j++) {
    const g = Array.from({ length: n }, (_, r) => pValues[r * 5 + j] - row[j]);
    const ks = ksGumbel(g);
    assert.ok(ks < critical, `class ${j}: KS distance ${ks.toFixed(4)} >= ${critical.toFixed(4)}`);
  }
  // Power: given D = class 0 alone, the noise of class 0 is not Gumbel (it won), and the KS test sees it.
  const won = Array.from({ length: n }, (_, r) => r).filter((r) => dValues[r * 5] === 1);
  assert.ok(ksGumbel(won.map((r) => pValues[r * 5] - row[0])) > 10 * critical, 'the test has power');
  tf.dispose([logits, d, perturbed]);
});

test('conditional draws keep masked classes at -Infinity and stay finite for logits of +-1e4', () => {
  const logits = tf.tensor2d([
    [0, -Infinity, 2, -1],
    [1e4, -1e4, 0, 3],
  ]);
  const d = gumbelMax(logits, sampleGumbel([2, 4], new Rng(1)));
  const p = conditionalGumbelLogits(logits, d, sampleGumbel([3, 2, 4], new Rng(2))).arraySync() as number[][][];
  for (const draw of p) {
    assert.equal(draw[0][1], -Infinity);
    assert.ok([draw[0][0], draw[0][2], draw[0][3], ...draw[1]].every(Number.isFinite), JSON.stringify(draw));
    assert.equal(argmax(draw[1]), 0);
  }
  tf.dispose([logits, d]);
});

test("serialization: estimator, raoSamples and gap round-trip through model save/load; 'hard: true' still loads as straight-through", async () => {
  for (const estimator of ESTIMATORS) {
    const input = tf.input({ shape: [6] });
    const grouped = tf.layers.reshape({ targetShape: [2, 3] }).apply(tf.layers.dense({ units: 6 }).apply(input)) as tf.SymbolicTensor;
    const codes = gumbelSoftmax({ estimator, raoSamples: 3, gap: 0.25, temperature: 1.5, seed: 4 }).apply(grouped) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: codes });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
    );
    const loaded = findGumbelSoftmaxLayers(await tf.loadLayersModel(tf.io.fromMemory(artifacts!)))[0];
    assert.equal(loaded.estimator, estimator);
    assert.equal(loaded.raoSamples, 3);
    assert.equal(loaded.gap, 0.25);
    assert.equal(loaded.hard, estimator === 'straight-through');
    assert.ok(Math.abs(loaded.temperature - 1.5) < 1e-6);
  }
  // A config saved before the option existed.
  const old = GumbelSoftmax.fromConfig(GumbelSoftmax, {
    temperature: 1,
    hard: true,
    axis: -1,
    inferenceMode: 'argmax',
    learnTemperature: false,
  });
  assert.equal((old as GumbelSoftmax).estimator, 'straight-through');
  assert.equal((old as GumbelSoftmax).gap, 1, 'the default gap');
  assert.equal(gumbelSoftmax({ estimator: 'gumbel-softmax', hard: true }).estimator, 'straight-through');
});

test('bad estimator options fail at construction with one clear line', () => {
  assert.throws(
    () => gumbelSoftmax({ estimator: 'rebar' as Estimator }),
    /unknown estimator 'rebar': use one of gumbel-softmax, straight-through, reinmax, gumbel-rao/,
  );
  assert.throws(() => gumbelSoftmax({ estimator: 'reinmax', hard: true }), /hard: true means estimator 'straight-through', not 'reinmax'/);
  assert.throws(() => gumbelSoftmax({ estimator: 'gumbel-rao', raoSamples: 0 }), /raoSamples must be an integer in \[1, 1000\], got 0/);
  assert.throws(() => gumbelSoftmax({ estimator: 'gapped-straight-through', gap: -1 }), /gap must be a finite number >= 0, got -1/);
  assert.throws(
    () => gumbelSoftmax({ estimator: 'reinmax', learnTemperature: true }),
    /learnTemperature works with estimators gumbel-softmax and straight-through/,
  );
});

test('reinmax and gumbel-rao along a non-last axis: one-hot along that axis', () => {
  for (const estimator of ['reinmax', 'gumbel-rao'] as const) {
    const y = gumbelSoftmax({ estimator, axis: 1, seed: 2 }).apply(tf.randomNormal([3, 5, 2], 0, 1, 'float32', 1), {
      training: true,
    }) as tf.Tensor;
    assert.deepEqual(Array.from(tf.tidy(() => y.sum(1).dataSync())), [1, 1, 1, 1, 1, 1]);
    assert.ok(y.dataSync().every((v) => v === 0 || v === 1));
    y.dispose();
  }
});

test('each estimator trains in model.fit with the annealer: the gradient reaches the layers before it', async () => {
  const x = tf.randomNormal([64, 8], 0, 1, 'float32', 3);
  const labels = tf.oneHot(tf.cast(tf.greater(x.slice([0, 0], [64, 1]).reshape([64]), 0), 'int32'), 2);
  for (const estimator of ESTIMATORS) {
    const encoder = tf.layers.dense({ units: 12, inputShape: [8], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) });
    const model = tf.sequential({
      layers: [
        encoder,
        tf.layers.reshape({ targetShape: [3, 4] }),
        gumbelSoftmax({ estimator, raoSamples: 4, seed: 6 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    const before = encoder.getWeights()[0].dataSync().slice();
    const annealer = temperatureAnnealer({ tau0: 2, tauMin: 1.2, rate: 0.1, interval: 1 });
    const history = await model.fit(x, labels, { epochs: 2, batchSize: 16, callbacks: [annealer], verbose: 0 });
    const losses = history.history.loss as number[];
    assert.ok(losses.every(Number.isFinite), `${estimator}: losses ${losses}`);
    const after = encoder.getWeights()[0].dataSync();
    const moved = Math.max(...Array.from(after, (v, i) => Math.abs(v - before[i])));
    assert.ok(moved > 1e-3, `${estimator}: the encoder did not move (${moved})`);
    assert.ok(Math.abs(findGumbelSoftmaxLayers(model)[0].temperature - annealer.schedule.at(7)) < 1e-5, `${estimator}: tau annealed`);
    model.dispose();
  }
  tf.dispose([x, labels]);
});

test('NaN logits give a NaN row in every mode, not a clean one-hot; an all -Infinity row gives a NaN row', () => {
  const rows = (t: tf.Tensor) => t.arraySync() as number[][];
  const nanIn = tf.tensor2d([
    [0, Number.NaN, 1],
    [0, 1, 5],
    [-Infinity, -Infinity, -Infinity],
    [0, -Infinity, 30],
  ]);
  const layers: Array<[string, GumbelSoftmax, boolean]> = [
    ['argmax', gumbelSoftmax(), false],
    ['sample', gumbelSoftmax({ inferenceMode: 'sample', seed: 1 }), false],
    ['softmax', gumbelSoftmax({ inferenceMode: 'softmax' }), false],
    ...ESTIMATORS.map((e): [string, GumbelSoftmax, boolean] => [`training ${e}`, gumbelSoftmax({ estimator: e, seed: 1 }), true]),
  ];
  for (const [what, layer, training] of layers) {
    const y = rows(layer.apply(nanIn, { training }) as tf.Tensor);
    assert.ok(y[0].every(Number.isNaN), `${what}: NaN logits gave ${y[0]}`);
    assert.ok(y[2].every(Number.isNaN), `${what}: an all -Infinity row gave ${y[2]}`);
    assert.ok(y[1].every(Number.isFinite) && y[3].every(Number.isFinite), `${what}: good rows stay finite`);
    assert.equal(y[3][1], 0, `${what}: a masked class got mass`);
  }
  nanIn.dispose();
});
