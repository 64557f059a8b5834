/**
 * Training on webgpu against wasm, on tiny data (lavapipe is slow):
 * - 200 steps from the same seed: validation -ELBO within 1 nat of wasm's
 *   (same weights, batches and noise; only float rounding differs);
 * - a checkpoint written on one backend loads and evaluates to the same
 *   -ELBO on the other (EVAL_TOL: float32 sums in a different order);
 * - no tensor leaks over 100 steps (counted after each metrics read, epoch
 *   ends with validation and checkpoints included).
 * Skipped only where no Vulkan driver is installed (test/helpers/webgpu.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.js';
import { binarizeSet, loadDataset, type Dataset } from '../src/data/index.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { makeTrainConfig } from '../src/model/config.js';
import { evaluateVae } from '../src/model/evaluate.js';
import { train } from '../src/model/trainer.js';
import type { CategoricalVae } from '../src/model/vae.js';
import { useWebGpu } from './helpers/webgpu.js';

const EVAL_TOL = 1e-3;
const config = makeTrainConfig({
  steps: 200,
  batchSize: 50,
  logEvery: 10,
  validationSize: 200,
  trainSize: 2000,
  model: { latentVars: 10, categories: 10, encoderUnits: [64], decoderUnits: [64] },
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-webgpu-'));

let data: Dataset | null = null;
const dataset = async () => (data ??= await loadDataset({ trainSize: 2000, validationSize: 200, testSize: 200 }));

/** The decoder model holds its own reference to the VAE's decoder layers: disposing the VAE alone leaves them. */
function disposeModel(model: CategoricalVae): void {
  model.vae.dispose();
  model.decoder.dispose();
}

async function run(backend: 'wasm' | 'webgpu', steps: number, counts?: number[]): Promise<{ dir: string; valNegElbo: number }> {
  await selectBackend(backend);
  const dir = tmp();
  const result = await train({
    config: { ...config, steps },
    runDir: dir,
    data: await dataset(),
    backend,
    // After a metrics read nothing is pending: the live tensors are the model's and Adam's.
    hooks: counts ? [{ onLog: () => void counts.push(tf.memory().numTensors) }] : [],
  });
  assert.equal(result.status, 'completed', result.message ?? '');
  disposeModel(result.model);
  return { dir, valNegElbo: result.state.history.at(-1)!.val_neg_elbo! };
}

async function evaluateOn(backend: 'wasm' | 'webgpu', dir: string): Promise<number> {
  await selectBackend(backend);
  const { model, optimizerWeights } = await loadCheckpoint(dir);
  const test = (await dataset()).test;
  const result = await evaluateVae(model, binarizeSet(test, 'fixed', 1234), test.count, { iwSamples: 0 });
  disposeModel(model);
  tf.dispose(optimizerWeights?.map((w) => w.tensor));
  return result.neg_elbo;
}

test('200 steps on webgpu: validation -ELBO within 1 nat of the same run on wasm; checkpoints cross over both ways', async (t) => {
  if (!(await useWebGpu(t))) return;
  const gpu = await run('webgpu', 200);
  const wasm = await run('wasm', 200);
  t.diagnostic(`validation -ELBO after 200 steps: webgpu ${gpu.valNegElbo.toFixed(3)}, wasm ${wasm.valNegElbo.toFixed(3)}`);
  assert.ok(Math.abs(gpu.valNegElbo - wasm.valNegElbo) < 1, `webgpu ${gpu.valNegElbo} vs wasm ${wasm.valNegElbo}`);
  assert.ok(gpu.valNegElbo < 250, `the run learned: -ELBO ${gpu.valNegElbo}`);

  for (const [writer, dir] of [
    ['webgpu', gpu.dir],
    ['wasm', wasm.dir],
  ] as const) {
    const onGpu = await evaluateOn('webgpu', dir);
    const onWasm = await evaluateOn('wasm', dir);
    t.diagnostic(`checkpoint written on ${writer}: test -ELBO ${onGpu.toFixed(4)} on webgpu, ${onWasm.toFixed(4)} on wasm`);
    assert.ok(Math.abs(onGpu - onWasm) <= EVAL_TOL * onWasm, `written on ${writer}: webgpu ${onGpu} vs wasm ${onWasm}`);
  }
  for (const dir of [gpu.dir, wasm.dir]) fs.rmSync(dir, { recursive: true, force: true });
});

test('no tensor leaks on webgpu over 100 steps (two epoch ends with validation and checkpoints)', async (t) => {
  if (!(await useWebGpu(t))) return;
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  const { dir } = await run('webgpu', 100, counts);
  assert.equal(counts.length, 10);
  assert.deepEqual(new Set(counts.slice(1)), new Set([counts[0]]), `live tensors after each read: ${counts.join(', ')}`);
  assert.equal(tf.memory().numTensors, before, 'tensors left after the run');
  fs.rmSync(dir, { recursive: true, force: true });
});
