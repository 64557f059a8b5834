import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { tensorBoardCallback, TensorBoardCallback } from '../src/tensorboard/fit_callback.js';
import { readEventFile, scalarsOf } from './helpers/tfevents_reader.js';

await useTestBackend();

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-tbcb-'));

function runScalars(dir: string): Array<[string, number, number]> {
  const files = fs.readdirSync(dir).filter((f) => f.includes('tfevents'));
  assert.equal(files.length, 1, `one event file in ${dir}`);
  return scalarsOf(readEventFile(path.join(dir, files[0])));
}

function tinyModel(): tf.Sequential {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'zeros' })] });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError', metrics: ['mse'] });
  return model;
}

test("updateFreq 'batch': every batch's metrics at the global step, epoch metrics per run, val_ in validation", async () => {
  const logdir = tmp();
  const model = tinyModel();
  const x = tf.tensor2d([
    [1, 0],
    [0, 1],
    [1, 1],
    [0, 0],
    [2, 1],
    [1, 2],
  ]);
  const y = tf.tensor2d([[1], [2], [3], [0], [4], [5]]);
  const history = await model.fit(x, y, {
    epochs: 2,
    batchSize: 2,
    validationData: [x, y],
    callbacks: [tensorBoardCallback(logdir, { updateFreq: 'batch', writerOptions: { flushIntervalMs: 0 } })],
    verbose: 0,
  });
  tf.dispose([x, y]);
  model.dispose();

  const train = runScalars(path.join(logdir, 'train'));
  const batchLoss = train.filter(([tag]) => tag === 'batch_loss');
  assert.deepEqual(
    batchLoss.map(([, step]) => step),
    [0, 1, 2, 3, 4, 5],
    '3 batches x 2 epochs, global steps',
  );
  assert.ok(batchLoss.every(([, , v]) => Number.isFinite(v) && v >= 0));
  assert.equal(train.filter(([tag]) => tag === 'batch_mse').length, 6);
  assert.ok(!train.some(([tag]) => tag === 'batch_batch' || tag === 'batch_size'), 'bookkeeping keys are not metrics');

  const epochLoss = train.filter(([tag]) => tag === 'epoch_loss');
  assert.deepEqual(
    epochLoss.map(([, step, v]) => [step, v]),
    (history.history.loss as number[]).map((v, i) => [i, Math.fround(v)]),
  );

  const validation = runScalars(path.join(logdir, 'validation'));
  const valLoss = validation.filter(([tag]) => tag === 'epoch_loss');
  assert.deepEqual(
    valLoss.map(([, step, v]) => [step, v]),
    (history.history.val_loss as number[]).map((v, i) => [i, Math.fround(v)]),
  );
  assert.ok(validation.some(([tag]) => tag === 'epoch_mse'));
});

test("updateFreq 'epoch' (default): no batch scalars, no validation run without validation data", async () => {
  const logdir = tmp();
  const model = tinyModel();
  const x = tf.ones([4, 2]);
  const y = tf.ones([4, 1]);
  const callback = new TensorBoardCallback(logdir, { initialStep: 10 });
  await model.fit(x, y, { epochs: 3, batchSize: 2, callbacks: [callback], verbose: 0 });
  tf.dispose([x, y]);
  model.dispose();
  const train = runScalars(path.join(logdir, 'train'));
  assert.deepEqual(
    train.map(([tag, step]) => [tag, step]),
    [0, 1, 2].flatMap((e) => [
      ['epoch_loss', e],
      ['epoch_mse', e],
    ]),
  );
  assert.equal(fs.existsSync(path.join(logdir, 'validation')), false);
  assert.equal(callback.step, 10 + 6, 'the global step still counts batches');
});

test('bad arguments are refused', () => {
  assert.throws(() => tensorBoardCallback(tmp(), { updateFreq: 'step' as 'batch' }), /updateFreq must be 'batch' or 'epoch', got 'step'/);
  assert.throws(() => tensorBoardCallback(tmp(), { initialStep: 0.5 }), /initialStep must be an integer/);
});
