import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { loadDataset, binarizeSet, epochBatches } from '../src/data/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/model/config.js';
import { train } from '../src/model/trainer.js';
import { trainStep } from '../src/model/train_step.js';
import { buildVae, trainableVariables } from '../src/model/vae.js';
import { loadCheckpoint, resolveCheckpointDir, CheckpointError } from '../src/model/checkpoint.js';
import { evaluateVae } from '../src/model/evaluate.js';
import { configFromArgs } from '../src/cli/train_options.js';

await useTestBackend();

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-train-'));
const small = (overrides: Parameters<typeof makeTrainConfig>[0] = {}): TrainConfig =>
  makeTrainConfig({
    batchSize: 50,
    logEvery: 10,
    ...overrides,
    model: { latentVars: 10, categories: 10, encoderUnits: [64], decoderUnits: [64], ...overrides.model },
  });

async function weightsOf(dir: string): Promise<Float32Array[]> {
  const { model } = await loadCheckpoint(dir);
  return model.vae.getWeights().map((w) => w.dataSync() as Float32Array);
}

test('the encoder logits have no activation; the hidden layers are ReLU', () => {
  const model = buildVae(small().model, 1);
  const activation = (name: string) => (model.vae.getLayer(name).getConfig() as { activation: string }).activation;
  assert.equal(activation('encoder_logits'), 'linear');
  assert.equal(activation('decoder_logits'), 'linear');
  assert.equal(activation('encoder_hidden_1'), 'relu');
  const logits = model.encoder.predict(tf.randomUniform([8, 784], 0, 1, 'float32', 1)) as tf.Tensor;
  assert.deepEqual(logits.shape, [8, 10, 10]);
  assert.ok(logits.min().dataSync()[0] < 0, 'logits can be negative');
});

test('a short real training run: the -ELBO falls clearly and no tensor leaks across steps', async () => {
  const data = await loadDataset({ trainSize: 1000, validationSize: 200 });
  const config = small({ epochs: 10 });
  const model = buildVae(config.model, config.seed);
  const optimizer = tf.train.adam(config.learningRate);
  const losses: number[] = [];
  let tensorsAfterFirst = -1;
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    for (const batch of epochBatches(data.train, { batchSize: 50, seed: 1, epoch, binarization: 'dynamic', dropLast: true })) {
      const terms = trainStep(model, optimizer, batch.x, 1);
      losses.push(terms.loss.dataSync()[0]);
      tf.dispose([batch.x, terms.loss, terms.recon, terms.kl]);
      if (tensorsAfterFirst < 0) tensorsAfterFirst = tf.memory().numTensors;
    }
  }
  assert.equal(tf.memory().numTensors, tensorsAfterFirst, 'tensors leaked across steps');
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const first = mean(losses.slice(0, 10));
  const last = mean(losses.slice(-20));
  assert.equal(losses.length, 200);
  assert.ok(last < 0.5 * first && last < 230, `-ELBO ${first.toFixed(1)} -> ${last.toFixed(1)}`);
  optimizer.dispose();
});

test('checkpoints: saved and loaded back with the same outputs, temperature, noise state and Adam state', async () => {
  const dir = tmp();
  try {
    const data = await loadDataset({ trainSize: 200, validationSize: 100 });
    const config = small({ epochs: 1, schedule: { tau0: 1, tauMin: 0.2, rate: 0.1, interval: 1 } });
    const result = await train({ config, runDir: dir, data, backend: 'test' });
    assert.equal(result.status, 'completed');
    const loaded = await loadCheckpoint(dir);
    assert.equal(loaded.state.step, 4);
    assert.ok(Math.abs(loaded.model.sampler.temperature - result.model.sampler.temperature) < 1e-6);
    assert.ok(loaded.model.sampler.temperature < 0.9, 'tau was annealed and saved');
    assert.deepEqual(loaded.model.sampler.noiseState, result.model.sampler.noiseState);
    const x = tf.tensor2d(binarizeSet(data.test, 'fixed', 1).subarray(0, 10 * 784), [10, 784]);
    const a = (result.model.vae.predict(x) as tf.Tensor[])[0].dataSync();
    const b = (loaded.model.vae.predict(x) as tf.Tensor[])[0].dataSync();
    let diff = 0;
    a.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - b[i]))));
    // The same weights; the wasm matmul may order a product's sums differently on a weight's first use.
    assert.ok(diff < 1e-4, `outputs differ by ${diff}`);
    assert.deepEqual(
      loaded.model.vae.getWeights().map((w) => Array.from(w.dataSync())),
      result.model.vae.getWeights().map((w) => Array.from(w.dataSync())),
    );
    // Adam: iterations, then one first and one second moment per variable, in the variables' order.
    const vars = trainableVariables(loaded.model);
    assert.equal(loaded.optimizerWeights!.length, 1 + 2 * vars.length);
    assert.equal(loaded.optimizerWeights![0].tensor.dataSync()[0], 4);
    assert.deepEqual(loaded.optimizerWeights![1].tensor.shape, vars[0].shape);
    assert.ok(fs.existsSync(path.join(dir, 'best', 'state.json')));
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('.tmp') || f.includes('.prev')),
      [],
      'no temporary directory is left behind',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('resume is exact: 2 epochs straight == 1 epoch + resume + 1 epoch (weights and tau)', async () => {
  const straight = tmp();
  const split = tmp();
  try {
    const data = await loadDataset({ trainSize: 200, validationSize: 100 });
    const overrides = { schedule: { tau0: 1, tauMin: 0.3, rate: 0.05, interval: 1 }, lrDecay: { factor: 0.5, every: 3 }, logEvery: 3 };
    await train({ config: small({ epochs: 2, ...overrides }), runDir: straight, data, backend: 'test' });
    await train({ config: small({ epochs: 1, ...overrides }), runDir: split, data, backend: 'test' });
    const resume = await loadCheckpoint(split);
    const afterOneEpoch = resume.model.vae.getWeights().map((w) => w.dataSync().slice());
    const resumedConfig = configFromArgs({ epochs: 2 }, resume.state.config);
    const result = await train({ config: resumedConfig, runDir: split, data, backend: 'test', resume });
    assert.equal(result.state.step, 8);
    const a = await weightsOf(path.join(straight, 'latest'));
    const b = await weightsOf(path.join(split, 'latest'));
    let maxDiff = 0;
    a.forEach((w, i) => w.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - b[i][j])))));
    assert.ok(maxDiff < 1e-6, `max |diff| ${maxDiff}`);
    const tauA = (await loadCheckpoint(straight)).state.tau;
    assert.equal((await loadCheckpoint(split)).state.tau, tauA);
    // The weights did move during the second epoch, so the check is not vacuous.
    assert.ok(afterOneEpoch[0].some((v, j) => Math.abs(v - a[0][j]) > 1e-4));
  } finally {
    fs.rmSync(straight, { recursive: true, force: true });
    fs.rmSync(split, { recursive: true, force: true });
  }
});

test("a stop on an epoch's last batch ends that epoch (validated, saved) and the resumed run matches a straight one", async () => {
  const straight = tmp();
  const split = tmp();
  try {
    const data = await loadDataset({ trainSize: 200, validationSize: 100 });
    await train({ config: small({ epochs: 2 }), runDir: straight, data, backend: 'test' });
    let steps = 0;
    // 4 batches of 50 per epoch: ask to stop right after the 4th.
    const stopped = await train({ config: small({ epochs: 2 }), runDir: split, data, backend: 'test', shouldStop: () => ++steps === 4 });
    assert.equal(stopped.status, 'interrupted');
    assert.equal(stopped.state.history.length, 1, 'the epoch was validated and recorded');
    assert.deepEqual([stopped.state.epoch, stopped.state.batchInEpoch], [1, 0]);
    const resume = await loadCheckpoint(split);
    const result = await train({ config: configFromArgs({}, resume.state.config), runDir: split, data, backend: 'test', resume });
    assert.equal(result.status, 'completed');
    assert.equal(result.state.step, 8);
    assert.equal(result.state.history.length, 2);
    const a = await weightsOf(path.join(straight, 'latest'));
    const b = await weightsOf(path.join(split, 'latest'));
    a.forEach((w, i) =>
      assert.ok(
        w.every((v, j) => Math.abs(v - b[i][j]) < 1e-6),
        `tensor ${i} differs`,
      ),
    );
  } finally {
    fs.rmSync(straight, { recursive: true, force: true });
    fs.rmSync(split, { recursive: true, force: true });
  }
});

test('resuming with a contradicting config fails with a clear line', () => {
  const base = small();
  assert.throws(() => configFromArgs({ 'latent-vars': 30 }, base), /--latent-vars 30 contradicts the checkpoint \(trained with 10\)/);
  assert.throws(() => configFromArgs({ categories: 4 }, base), /--categories 4 contradicts the checkpoint/);
  assert.equal(configFromArgs({ epochs: 5 }, base).epochs, 5, 'extending the run is allowed');
});

test('a kill during a save leaves a loadable checkpoint; corrupt checkpoints fail with one clear line', async () => {
  const dir = tmp();
  try {
    const data = await loadDataset({ trainSize: 100, validationSize: 0 });
    await train({ config: small({ epochs: 1 }), runDir: dir, data, backend: 'test' });
    const latest = path.join(dir, 'latest');
    // A kill between the two renames of a save: only latest.prev (complete) and a partial tmp exist.
    fs.renameSync(latest, `${latest}.prev`);
    fs.mkdirSync(`${latest}.tmp-1234`);
    fs.writeFileSync(path.join(`${latest}.tmp-1234`, 'model.json'), '{"half');
    assert.equal(resolveCheckpointDir(dir), `${latest}.prev`);
    assert.equal((await loadCheckpoint(dir)).state.step, 2);
    fs.renameSync(`${latest}.prev`, latest);

    const weights = path.join(latest, 'weights.bin');
    const bytes = fs.readFileSync(weights);
    fs.writeFileSync(weights, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(
      loadCheckpoint(dir),
      (e: Error) => e instanceof CheckpointError && /weights\.bin: truncated/.test(e.message) && !e.message.includes('\n'),
    );
    // A NaN in the weights: refused, so no command decodes garbage from it (inspect may still look).
    const poisoned = Buffer.from(bytes);
    poisoned.writeFloatLE(NaN, poisoned.length - 4);
    fs.writeFileSync(weights, poisoned);
    await assert.rejects(
      loadCheckpoint(dir),
      /weights\.bin: NaN or infinite values in gumbel_softmax\/log_temperature; the checkpoint is corrupt/,
    );
    assert.equal((await loadCheckpoint(dir, 'latest', { allowNonFinite: true })).state.step, 2);
    fs.writeFileSync(weights, bytes);
    fs.writeFileSync(path.join(latest, 'model.json'), '{"modelTopology": ');
    await assert.rejects(loadCheckpoint(dir), /model\.json: not valid JSON/);
    fs.rmSync(path.join(latest, 'model.json'));
    await assert.rejects(loadCheckpoint(dir), /model\.json: no such file/);
    await assert.rejects(loadCheckpoint(path.join(dir, 'nothing')), /no such directory/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('weights that do not match the topology are reported, not loaded', async () => {
  const a = tmp();
  const b = tmp();
  try {
    const data = await loadDataset({ trainSize: 100, validationSize: 0 });
    await train({ config: small({ epochs: 1 }), runDir: a, data, backend: 'test' });
    await train({ config: small({ epochs: 1, model: { latentVars: 5 } }), runDir: b, data, backend: 'test' });
    fs.copyFileSync(path.join(b, 'latest', 'weights.bin'), path.join(a, 'latest', 'weights.bin'));
    await assert.rejects(loadCheckpoint(a), (e: Error) => e instanceof CheckpointError && /weights\.bin/.test(e.message));
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});

test('a loss that becomes NaN stops the run and keeps the last good checkpoint', async () => {
  const dir = tmp();
  try {
    const data = await loadDataset({ trainSize: 100, validationSize: 0 });
    await train({ config: small({ epochs: 1 }), runDir: dir, data, backend: 'test' });
    const resume = await loadCheckpoint(dir);
    const kernel = resume.model.vae.getLayer('encoder_hidden_1').getWeights();
    resume.model.vae.getLayer('encoder_hidden_1').setWeights([tf.fill(kernel[0].shape, NaN), kernel[1]]);
    const result = await train({ config: small({ epochs: 3 }), runDir: dir, data, backend: 'test', resume });
    assert.equal(result.status, 'diverged');
    assert.match(result.message!, /NaN or infinite at step 4/);
    const kept = await loadCheckpoint(dir);
    assert.equal(kept.state.step, 2, 'the last good checkpoint is untouched');
    assert.ok(kept.model.vae.getWeights().every((w) => w.dataSync().every(Number.isFinite)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('evaluation: the importance-weighted bound is below the -ELBO, both finite and repeatable', async () => {
  const dir = tmp();
  try {
    const data = await loadDataset({ trainSize: 500, validationSize: 0, testSize: 100 });
    await train({ config: small({ epochs: 2 }), runDir: dir, data, backend: 'test' });
    const { model } = await loadCheckpoint(dir);
    const images = binarizeSet(data.test, 'fixed', 5);
    const result = await evaluateVae(model, images, 100, { iwSamples: 50, batchSize: 40, maxRows: 700, seed: 3 });
    assert.ok(Number.isFinite(result.neg_elbo) && Number.isFinite(result.nll_iw!));
    assert.ok(result.nll_iw! < result.neg_elbo, `IW ${result.nll_iw} vs -ELBO ${result.neg_elbo}`);
    assert.ok(Math.abs(result.neg_elbo - (result.recon + result.kl)) < 1e-6);
    const again = await evaluateVae(model, images, 100, { iwSamples: 50, batchSize: 40, maxRows: 700, seed: 3 });
    assert.deepEqual(again, result);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
