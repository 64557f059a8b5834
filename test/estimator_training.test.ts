import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { images, tapeGradients, worstRelativeGap } from './helpers/step_reference.js';
import { ESTIMATORS, type Estimator } from '../src/layers/estimators.js';
import { fastGradients } from '../src/model/fast_step.js';
import { trainStep, tapeTrainStep } from '../src/model/train_step.js';
import { buildVae } from '../src/model/vae.js';
import { DEFAULT_VAE_CONFIG, type VaeConfig } from '../src/model/config.js';
import { configFromArgs } from '../src/cli/train_options.js';

await useTestBackend();

const config = (estimator: Estimator): VaeConfig => ({
  ...DEFAULT_VAE_CONFIG,
  latentVars: 6,
  categories: 5,
  encoderUnits: [48, 32],
  decoderUnits: [32, 48],
  estimator,
  hard: estimator === 'straight-through',
  raoSamples: 4,
});

for (const estimator of ESTIMATORS) {
  test(`hand-written gradients equal the tape's (${estimator})`, () => {
    const model = buildVae(config(estimator), 3);
    assert.equal(model.sampler.estimator, estimator);
    const x = images(32, 1);
    const tau = estimator === 'reinmax' ? 1.5 : 0.7;
    const tape = tapeGradients(model, x, tau, 2);
    model.sampler.noiseState = { seed: 9, calls: 2 };
    const { gumbel, raoNoise } = model.sampler.drawEstimatorNoise([32, 6, 5]);
    const fast = fastGradients(model, x, gumbel, tau, true, raoNoise);
    assert.ok(Math.abs(fast.terms!.loss.dataSync()[0] - tape.loss) < 1e-4 * tape.loss, 'same loss');
    const worst = worstRelativeGap(model, tape.grads, fast.grads);
    assert.ok(worst < 1e-4, `largest relative difference ${worst}`);
    tf.dispose([x, gumbel, ...(raoNoise ? [raoNoise] : []), ...Object.values(tape.grads), ...Object.values(fast.grads)]);
  });
}

test('reinmax and gumbel-rao steps: fast and tape take the same step, one noise call per step, no leaks', () => {
  for (const estimator of ['reinmax', 'gumbel-rao'] as const) {
    const [a, b] = [buildVae(config(estimator), 5), buildVae(config(estimator), 5)];
    const x = images(16, 3);
    for (const m of [a, b]) {
      m.sampler.setTemperature(1.2);
      m.sampler.noiseState = { seed: 1, calls: 0 };
    }
    const [optA, optB] = [tf.train.sgd(0.5), tf.train.sgd(0.5)];
    tf.dispose(trainStep(a, optA, x, 1.2));
    tf.dispose(tapeTrainStep(b, optB, x));
    const [wa, wb] = [a.vae.getWeights(), b.vae.getWeights()];
    let diff = 0;
    wa.forEach((w, i) => {
      const other = wb[i].dataSync();
      w.dataSync().forEach((v, j) => (diff = Math.max(diff, Math.abs(v - other[j]))));
    });
    assert.ok(diff < 1e-5, `${estimator}: weights differ by ${diff}`);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(trainStep(a, optA, x, 1.2, { metrics: false }) ?? []);
    assert.equal(tf.memory().numTensors, before, `${estimator}: tensors leaked`);
    assert.equal(a.sampler.noiseState.calls, 4);
    x.dispose();
  }
});

test('reinmax and gumbel-rao resume exactly: 2 steps equal 1 step, a restored copy (weights, noise state), 1 step', () => {
  for (const estimator of ['reinmax', 'gumbel-rao'] as const) {
    const x = images(16, 4);
    const [a, b] = [buildVae(config(estimator), 6), buildVae(config(estimator), 6)];
    const opt = tf.train.sgd(0.3);
    for (let i = 0; i < 2; i++) tf.dispose(trainStep(a, opt, x, 1.1));
    tf.dispose(trainStep(b, opt, x, 1.1));
    // "Resume": a fresh model (other initial weights and noise seed) takes b's weights and noise state.
    const c = buildVae(config(estimator), 99);
    c.vae.setWeights(b.vae.getWeights());
    c.sampler.noiseState = b.sampler.noiseState;
    tf.dispose(trainStep(c, opt, x, 1.1));
    const [wa, wc] = [a.vae.getWeights(), c.vae.getWeights()];
    wa.forEach((w, i) => assert.deepEqual(Array.from(wc[i].dataSync()), Array.from(w.dataSync()), `${estimator}: weight ${i}`));
    x.dispose();
  }
});

test('training flags: --estimator and --rao-samples, per-estimator defaults, contradictions refused in one line', () => {
  const fresh = configFromArgs({ estimator: 'gumbel-rao', 'rao-samples': 3 });
  assert.equal(fresh.model.estimator, 'gumbel-rao');
  assert.equal(fresh.model.raoSamples, 3);
  assert.equal(configFromArgs({}).model.raoSamples, 10);
  assert.equal(configFromArgs({ hard: true }).model.estimator, 'straight-through');
  const reinmax = configFromArgs({ estimator: 'reinmax' });
  assert.deepEqual([reinmax.schedule.tau0, reinmax.schedule.tauMin], [1, 1], 'reinmax: tau fixed at 1');
  assert.equal(configFromArgs({}).schedule.tauMin, 0.5, 'the others: the notebook schedule');
  assert.throws(() => configFromArgs({ estimator: 'reinmax', 'tau-min': 0.5 }), /estimator reinmax needs tau >= 1/);
  assert.throws(() => configFromArgs({ 'rao-samples': 3 }), /--rao-samples applies to --estimator gumbel-rao only/);
  assert.throws(
    () => configFromArgs({ estimator: 'reinmax', hard: true }),
    /--hard is --estimator straight-through: it contradicts --estimator reinmax/,
  );
  assert.throws(() => configFromArgs({ estimator: 'gumbel-rao', 'rao-samples': 0 }), /raoSamples must be an integer in \[1, 1000\], got 0/);
  // Resume: the checkpoint's estimator is kept; another one is refused.
  assert.throws(
    () => configFromArgs({ estimator: 'reinmax' }, fresh),
    /--estimator "reinmax" contradicts the checkpoint \(trained with "gumbel-rao"\)/,
  );
  assert.throws(() => configFromArgs({ 'rao-samples': 5 }, fresh), /--rao-samples 5 contradicts the checkpoint \(trained with 3\)/);
  assert.equal(configFromArgs({ estimator: 'gumbel-rao' }, fresh).model.raoSamples, 3);
  // A checkpoint written before the option: only `hard`.
  const { estimator: _e, raoSamples: _r, ...old } = configFromArgs({ hard: true }).model;
  const legacy = { ...fresh, model: old as VaeConfig };
  assert.equal(configFromArgs({}, legacy).model.estimator, 'straight-through');
  assert.throws(
    () => configFromArgs({ estimator: 'gumbel-softmax' }, legacy),
    /contradicts the checkpoint \(trained with "straight-through"\)/,
  );
});

test('train --estimator gumbel-rao: stored in the checkpoint; a resume with another estimator is refused with one line', () => {
  const root = path.resolve(import.meta.dirname, '..');
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-est-')), 'run');
  const run = (args: string[]) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'scripts', 'train.ts'), ...args, '--backend', 'wasm', '--no-progress'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
  const tiny = [
    '--train-size',
    '100',
    '--validation-size',
    '50',
    '--test-size',
    '50',
    '--batch-size',
    '50',
    '--latent-vars',
    '4',
    '--categories',
    '3',
  ];
  const units = ['--encoder-units', '16', '--decoder-units', '16', '--epochs', '1', '--out', dir];
  const r = run([...tiny, ...units, '--estimator', 'gumbel-rao', '--rao-samples', '3']);
  assert.equal(r.status, 0, r.stderr);
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'latest', 'state.json'), 'utf8'));
  assert.equal(state.config.model.estimator, 'gumbel-rao');
  assert.equal(state.config.model.raoSamples, 3);
  const refused = run(['--resume', dir, '--estimator', 'reinmax']);
  assert.equal(refused.status, 2, refused.stderr);
  const lines = refused.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('backend:'));
  assert.equal(lines.length, 1, refused.stderr);
  assert.match(lines[0], /--estimator "reinmax" contradicts the checkpoint \(trained with "gumbel-rao"\)/);
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});
