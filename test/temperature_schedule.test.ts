import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { annealedTemperature, TemperatureSchedule, temperatureAnnealer } from '../src/layers/temperature_schedule.js';
import { gumbelSoftmax, findGumbelSoftmaxLayers } from '../src/layers/gumbel_softmax.js';

await useTestBackend();

test('schedule: tau = max(tauMin, tau0 * exp(-rate * step)), updated every interval steps', () => {
  const config = { tau0: 1, tauMin: 0.5, rate: 3e-5, interval: 1000 };
  assert.equal(annealedTemperature(0, config), 1);
  assert.equal(annealedTemperature(999, config), 1, 'held until the next update');
  assert.equal(annealedTemperature(1000, config), Math.exp(-0.03));
  assert.equal(annealedTemperature(12345, config), Math.exp(-3e-5 * 12000));
  assert.equal(annealedTemperature(50000, config), 0.5, 'floored at tauMin (exp(-1.5) = 0.22)');
  const every = { ...config, interval: 1 };
  assert.equal(annealedTemperature(777, every), Math.exp(-3e-5 * 777));
});

test('schedule: defaults are the notebook values, bad configs are rejected', () => {
  const s = new TemperatureSchedule();
  assert.deepEqual({ ...s.config }, { tau0: 1, tauMin: 0.5, rate: 3e-5, interval: 1000 });
  assert.throws(() => new TemperatureSchedule({ tau0: 0.4, tauMin: 0.5 }), /tauMin \(0.5\) must not exceed tau0 \(0.4\)/);
  assert.throws(() => new TemperatureSchedule({ tau0: -1 }), /tau0 must be a finite number > 0/);
  assert.throws(() => new TemperatureSchedule({ rate: -1 }), /rate must be a finite number >= 0/);
  assert.throws(() => new TemperatureSchedule({ interval: 0 }), /interval must be an integer >= 1/);
});

test('reuse: a classifier with a hard GumbelSoftmax bottleneck learns with model.fit and the annealer', async () => {
  // Toy task: the label is which of 4 input blocks carries the signal; the
  // network must route it through a 2 x 4 discrete code.
  const n = 512;
  const xs = tf.tidy(() => {
    const labels = tf.randomUniform([n], 0, 4, 'int32', 3);
    const signal = tf.oneHot(labels, 4).cast('float32');
    const noise = tf.randomNormal([n, 16], 0, 0.3, 'float32', 4);
    return tf.concat([signal.tile([1, 4]), noise], 1);
  });
  const ys = tf.tidy(() => tf.oneHot(tf.argMax(xs.slice([0, 0], [n, 4]), 1), 4).cast('float32'));
  const input = tf.input({ shape: [32] });
  let h = tf.layers.dense({ units: 8 }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [2, 4] }).apply(h) as tf.SymbolicTensor;
  h = gumbelSoftmax({ hard: true, seed: 1 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const annealer = temperatureAnnealer({ tau0: 1, tauMin: 0.3, rate: 0.02, interval: 10 });
  const history = await model.fit(xs, ys, { epochs: 8, batchSize: 32, callbacks: [annealer], verbose: 0, shuffle: false });
  const loss = history.history.loss as number[];
  assert.ok(loss[loss.length - 1] < 0.5 * loss[0], `loss ${loss[0]} -> ${loss[loss.length - 1]}`);
  const steps = 8 * (n / 32);
  assert.equal(annealer.step, steps);
  const layer = findGumbelSoftmaxLayers(model)[0];
  const expected = annealer.schedule.at(steps - 1);
  assert.ok(Math.abs(layer.temperature - expected) < 1e-6, `tau ${layer.temperature} vs schedule ${expected}`);
  assert.ok(expected < 0.5, 'the schedule really moved');
  const accuracy = tf.tidy(
    () =>
      tf.metrics
        .categoricalAccuracy(ys, model.predict(xs) as tf.Tensor)
        .mean()
        .dataSync()[0],
  );
  assert.ok(accuracy > 0.9, `accuracy in argmax mode ${accuracy}`);
  tf.dispose([xs, ys]);
});
