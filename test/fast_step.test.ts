import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { images, tapeGradients, worstRelativeGap } from './helpers/step_reference.js';
import { fastGradients, supportsFastStep } from '../src/model/fast_step.js';
import { encode } from '../src/model/generate.js';
import { trainStep, tapeTrainStep } from '../src/model/train_step.js';
import { buildVae } from '../src/model/vae.js';
import { DEFAULT_VAE_CONFIG, type VaeConfig } from '../src/model/config.js';

await useTestBackend();

const config = (overrides: Partial<VaeConfig> = {}): VaeConfig => ({
  ...DEFAULT_VAE_CONFIG,
  latentVars: 6,
  categories: 5,
  encoderUnits: [48, 32],
  decoderUnits: [32, 48],
  ...overrides,
});

for (const hard of [false, true]) {
  test(`hand-written gradients equal the tape's (${hard ? 'straight-through' : 'relaxed'} samples)`, () => {
    const model = buildVae(config({ hard }), 3);
    const x = images(32, 1);
    const tau = 0.7;
    const tape = tapeGradients(model, x, tau, 0);
    model.sampler.noiseState = { seed: 9, calls: 0 };
    const noise = model.sampler.drawNoise([32, 6, 5]);
    const fast = fastGradients(model, x, noise, tau);
    assert.ok(Math.abs(fast.terms!.loss.dataSync()[0] - tape.loss) < 1e-4 * tape.loss, 'same loss');
    const worst = worstRelativeGap(model, tape.grads, fast.grads);
    assert.ok(worst < 1e-4, `largest relative difference ${worst}`);
    tf.dispose([x, noise, ...Object.values(tape.grads), ...Object.values(fast.grads)]);
  });
}

test('trainStep uses the fast path where it applies, draws one noise tensor per step and leaks nothing', () => {
  const model = buildVae(config(), 4);
  assert.equal(supportsFastStep(model), true);
  const optimizer = tf.train.adam(1e-3);
  const x = images(20, 2);
  tf.dispose(trainStep(model, optimizer, x, 0.9));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) tf.dispose(trainStep(model, optimizer, x, 0.9));
  assert.equal(tf.memory().numTensors, before);
  assert.equal(model.sampler.noiseState.calls, 6);
  assert.ok(Math.abs(model.sampler.temperature - 0.9) < 1e-6);
});

test('the two paths take the same optimisation step from the same state', () => {
  const a = buildVae(config(), 5);
  const b = buildVae(config(), 5);
  const x = images(16, 3);
  // SGD: Adam's first step is lr * sign(g), which would amplify float noise in gradients near 0.
  const optA = tf.train.sgd(0.5);
  const optB = tf.train.sgd(0.5);
  for (const m of [a, b]) {
    m.sampler.setTemperature(0.8);
    m.sampler.noiseState = { seed: 1, calls: 0 };
  }
  tf.dispose(trainStep(a, optA, x, 0.8));
  tf.dispose(tapeTrainStep(b, optB, x));
  const wa = a.vae.getWeights();
  const wb = b.vae.getWeights();
  let diff = 0;
  wa.forEach((w, i) => w.dataSync().forEach((v, j) => (diff = Math.max(diff, Math.abs(v - wb[i].dataSync()[j])))));
  assert.ok(diff < 1e-5, `weights differ by ${diff}`);
  const moved = wa[0].sub(buildVae(config(), 5).vae.getWeights()[0]).abs().max().dataSync()[0];
  assert.ok(moved > 1e-3, 'the step moved the weights');
});

test("encode (sparse first layer, no tape) gives the encoder model's logits, on binary and grey images", () => {
  const model = buildVae(config(), 6);
  const binary = images(9, 4);
  const grey = tf.tidy(
    () => tf.randomUniform([9, 784], 0, 1, 'float32', 5).mul(tf.randomUniform([9, 784], 0, 1, 'float32', 6).less(0.2)) as tf.Tensor2D,
  );
  for (const x of [binary, grey]) {
    const got = encode(model, x);
    const want = model.encoder.apply(x) as tf.Tensor;
    assert.deepEqual(got.shape, [9, 6, 5]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]);
    const scale = tf.tidy(() => tf.max(tf.abs(want)).dataSync()[0]);
    assert.ok(scale > 0.1 && diff < 1e-5 * scale, `off by ${diff} (scale ${scale})`);
    tf.dispose([got, want]);
  }
  const before = tf.memory().numTensors;
  tf.dispose(encode(model, binary));
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  tf.dispose([binary, grey]);
});
