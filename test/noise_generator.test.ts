/**
 * The layer's noise generator option: new layers draw training noise from
 * the counter-based Philox stream (the same draws on cpu, wasm and webgpu);
 * a layer saved before the option existed (no `noise` in its config) keeps
 * the sfc32 stream it was trained with, so its checkpoints resume exactly.
 */
import { it, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, useBackend } from './helpers/backends.js';
import { GumbelSoftmax, gumbelSoftmax } from '../src/layers/gumbel_softmax.js';
import { counterGumbel, sampleGumbel } from '../src/ops/gumbel_noise.js';
import { philoxKey, philoxUniforms } from '../src/ops/philox.js';
import { Rng } from '../src/random.js';
import { loadDataset } from '../src/data/index.js';
import { makeTrainConfig } from '../src/model/config.js';
import { train } from '../src/model/trainer.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { configFromArgs } from '../src/cli/train_options.js';
import { webGpuKernelsDisabled } from '../src/webgpu/index.js';

const SHAPE = [4, 6, 5];

async function same(a: tf.Tensor, b: tf.Tensor, what: string): Promise<void> {
  const [x, y] = [await a.data(), await b.data()];
  tf.dispose([a, b]);
  const differ = x.findIndex((v, i) => v !== y[i]);
  assert.equal(differ, -1, `${what}: element ${differ} differs (${x[differ]} vs ${y[differ]})`);
}

await describeBackends('the layer draws its training noise from the Philox stream (seed, call)', (backend) => {
  it('the same draws on every backend: -log(-log u) of the host stream to float32 rounding (a shader log: a few ulps)', async () => {
    const layer = gumbelSoftmax({ seed: 77 });
    layer.noiseState = { seed: 77, calls: 5 };
    const g = layer.drawNoise([50, 20, 10]);
    const got = await g.data();
    g.dispose();
    const u = philoxUniforms(got.length, philoxKey(77, 5));
    let worst = 0;
    u.forEach((ui, i) => (worst = Math.max(worst, Math.abs(got[i] + Math.log(-Math.log(ui))) / Math.max(1, Math.abs(got[i])))));
    // tfjs's own shader log (CATVAE_WEBGPU_KERNELS=0) errs by up to 2^-21 near u = 1.
    assert.ok(worst < (backend !== 'webgpu' ? 1e-6 : webGpuKernelsDisabled() ? 1e-3 : 2e-5), `off by ${worst}`);
    assert.deepEqual(layer.noiseState, { seed: 77, calls: 6 });
  });
});

test("new layers: noise 'philox' in the config; Gumbel-Rao's further draws come from the call's sub-stream 1", async () => {
  await useBackend('wasm');
  const layer = gumbelSoftmax({ seed: 4, estimator: 'gumbel-rao', raoSamples: 3 });
  assert.equal(layer.noise, 'philox');
  assert.equal(layer.getConfig().noise, 'philox');
  layer.noiseState = { seed: 4, calls: 2 };
  const { gumbel, raoNoise } = layer.drawEstimatorNoise(SHAPE);
  await same(gumbel, counterGumbel(SHAPE, philoxKey(4, 2)), 'gumbel');
  await same(raoNoise!, counterGumbel([3, ...SHAPE], philoxKey(4, 2, 1)), 'rao noise');
  assert.throws(() => gumbelSoftmax({ noise: 'mt19937' as 'philox' }), /unknown noise generator 'mt19937': use one of philox, sfc32/);
});

test("a saved config without 'noise' loads as an sfc32 layer that replays the old stream; with the field, as saved", async () => {
  await useBackend('wasm');
  const model = tf.sequential({ layers: [gumbelSoftmax({ inputShape: [5], seed: 9, name: 'g' })] });
  const json = model.toJSON(null, false) as { config: { layers: Array<{ config: Record<string, unknown> }> } };
  const load = async (edit: (config: Record<string, unknown>) => void) => {
    const copy = structuredClone(json);
    edit(copy.config.layers[0].config);
    const loaded = await tf.models.modelFromJSON({ modelTopology: copy as unknown as tf.io.ModelJSON['modelTopology'] });
    return loaded.getLayer('g') as GumbelSoftmax;
  };
  assert.equal((await load(() => {})).noise, 'philox');
  assert.equal((await load((c) => (c.noise = 'sfc32'))).noise, 'sfc32');
  const old = await load((c) => delete c.noise);
  assert.equal(old.noise, 'sfc32');
  old.noiseState = { seed: 9, calls: 3 };
  await same(old.drawNoise(SHAPE), sampleGumbel(SHAPE, new Rng(9, 3)), 'old stream');
  model.layers.forEach((l) => l.dispose());
});

/** Deletes the `noise` fields from a checkpoint's model.json and state.json, as checkpoints written before the option have them. */
function makeOld(checkpoint: string): void {
  const stateFile = path.join(checkpoint, 'state.json');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  assert.ok(state.config.model.noise !== undefined, 'the run config names its generator');
  delete state.config.model.noise;
  fs.writeFileSync(stateFile, JSON.stringify(state));
  const file = path.join(checkpoint, 'model.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const layer = json.modelTopology.config.layers.find((l: { class_name: string }) => l.class_name === 'GumbelSoftmax');
  assert.ok(layer && 'noise' in layer.config, 'the checkpoint names its generator');
  delete layer.config.noise;
  fs.writeFileSync(file, JSON.stringify(json));
}

test('an old checkpoint (no noise field) resumes on sfc32 exactly: 1 + 2 epochs == 1 + 1 + 1 epochs; philox would differ', async () => {
  await useBackend('wasm');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-noise-'));
  try {
    const data = await loadDataset({ trainSize: 200, validationSize: 100 });
    const config = makeTrainConfig({
      batchSize: 50,
      logEvery: 2,
      epochs: 1,
      model: { latentVars: 6, categories: 5, encoderUnits: [32], decoderUnits: [32] },
    });
    const base = path.join(root, 'base');
    await train({ config, runDir: base, data, backend: 'test' });
    const resumeTo = async (dir: string, epochs: number) => {
      const resume = await loadCheckpoint(dir);
      await train({ config: configFromArgs({ epochs }, resume.state.config), runDir: dir, data, backend: 'test', resume });
    };
    const weights = async (dir: string) => (await loadCheckpoint(dir)).model.vae.getWeights().map((w) => w.dataSync().slice());
    const [straight, split, philox] = ['straight', 'split', 'philox'].map((name) => path.join(root, name));
    for (const dir of [straight, split, philox]) fs.cpSync(base, dir, { recursive: true });
    makeOld(path.join(straight, 'latest'));
    makeOld(path.join(split, 'latest'));

    const old = await loadCheckpoint(straight);
    assert.equal(old.model.sampler.noise, 'sfc32');
    assert.equal(old.state.config.model.noise, 'sfc32', 'a run config without the field is an sfc32 run');
    assert.throws(
      () => configFromArgs({ noise: 'philox' }, old.state.config),
      /--noise "philox" contradicts the checkpoint \(trained with "sfc32"\)/,
    );
    assert.equal(configFromArgs({ noise: 'sfc32' }, old.state.config).model.noise, 'sfc32');
    const { seed, calls } = old.model.sampler.noiseState;
    await same(old.model.sampler.drawNoise(SHAPE), sampleGumbel(SHAPE, new Rng(seed, calls)), 'the next draw');

    await resumeTo(straight, 3);
    await resumeTo(split, 2);
    const saved = JSON.parse(fs.readFileSync(path.join(split, 'latest', 'model.json'), 'utf8'));
    const layer = saved.modelTopology.config.layers.find((l: { class_name: string }) => l.class_name === 'GumbelSoftmax');
    assert.equal(layer.config.noise, 'sfc32', 'a resumed old run saves its generator by name');
    makeOld(path.join(split, 'latest'));
    await resumeTo(split, 3);
    await resumeTo(philox, 3);

    const [a, b, c] = [await weights(straight), await weights(split), await weights(philox)];
    assert.equal((await loadCheckpoint(split)).state.step, 12);
    let maxDiff = 0;
    let philoxDiff = 0;
    a.forEach((w, i) =>
      w.forEach(
        (v, j) => ((maxDiff = Math.max(maxDiff, Math.abs(v - b[i][j]))), (philoxDiff = Math.max(philoxDiff, Math.abs(v - c[i][j])))),
      ),
    );
    assert.ok(maxDiff < 1e-6, `the resumed old run differs from the straight one by ${maxDiff}`);
    assert.ok(philoxDiff > 1e-4, `the Philox stream gave the same weights (${philoxDiff}): the check would be vacuous`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('train --noise sfc32 builds a VAE whose layer draws the sfc32 stream; the default is philox; a bad name is refused', async () => {
  const { buildVae } = await import('../src/model/vae.js');
  assert.equal(configFromArgs({}).model.noise, 'philox');
  const config = configFromArgs({ noise: 'sfc32', 'latent-vars': 3, categories: 4, 'encoder-units': [8], 'decoder-units': [8] });
  const model = buildVae(config.model, 5);
  assert.equal(model.sampler.noise, 'sfc32');
  const { seed, calls } = model.sampler.noiseState;
  await same(model.sampler.drawNoise(SHAPE), sampleGumbel(SHAPE, new Rng(seed, calls)), 'sfc32 run');
  assert.equal(buildVae(configFromArgs({}).model, 5).sampler.noise, 'philox');
  assert.throws(() => makeTrainConfig({ model: { noise: 'mt19937' as never } }), /noise must be one of philox, sfc32, got mt19937/);
});
