/**
 * The experimental WebGPU backend against the cpu backend: two training
 * steps of a small categorical VAE (784 -> 64 relu -> 20x10 logits ->
 * GumbelSoftmax -> 784) from the same weights, data and Gumbel noise. A
 * kernel missing on webgpu throws; a wrong one shows in the losses. The
 * second step's loss depends on the first step's gradients and Adam update.
 *
 * Runs only where `webgpu` + `@tensorflow/tfjs-backend-webgpu` are installed
 * and Dawn finds an adapter; otherwise skipped with the reason.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailable, selectBackend } from '../src/backend.js';
import type { VaeConfig } from '../src/model/config.js';
import { trainStep } from '../src/model/train_step.js';
import { buildVae } from '../src/model/vae.js';
import { Rng } from '../src/random.js';

const BATCH = 16;
const STEPS = 2;
const REL_TOL = 1e-4;
const SMALL: VaeConfig = { inputDim: 784, latentVars: 20, categories: 10, encoderUnits: [64], decoderUnits: [], hard: false };

/** Why webgpu cannot run here, or null when it can (then it is the current backend). */
async function webgpuUnavailable(): Promise<string | null> {
  try {
    await selectBackend('webgpu');
    return null;
  } catch (error) {
    if (error instanceof BackendUnavailable) return `${error.reason}. ${error.fix}`;
    throw error;
  }
}

function binaryBatch(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: BATCH * SMALL.inputDim }, () => (rng.nextOpen01() < 0.3 ? 1 : 0));
}

interface StepLosses {
  loss: number[];
  recon: number[];
  kl: number[];
}

/** Builds the VAE on `backend` with the given weights and runs STEPS training steps. */
async function runSteps(
  backend: string,
  config: VaeConfig,
  weights: tf.Tensor[] | null,
  data: Float32Array,
): Promise<{ losses: StepLosses; initial: tf.Tensor[] }> {
  assert.ok(await tf.setBackend(backend), `setBackend(${backend})`);
  const model = buildVae(config, 11);
  // Host copies of the initial weights: the reference for the other backend.
  const initial = model.vae.getWeights().map((w) => tf.tensor(w.dataSync(), w.shape, w.dtype));
  if (weights) model.vae.setWeights(weights);
  const x = tf.tensor2d(data, [BATCH, config.inputDim]);
  const optimizer = tf.train.adam(1e-3);
  const losses: StepLosses = { loss: [], recon: [], kl: [] };
  for (let step = 0; step < STEPS; step++) {
    const terms = trainStep(model, optimizer, x, 0.8);
    losses.loss.push((await terms.loss.data())[0]);
    losses.recon.push((await terms.recon.data())[0]);
    losses.kl.push((await terms.kl.data())[0]);
    tf.dispose(terms);
  }
  x.dispose();
  optimizer.dispose();
  model.vae.dispose();
  return { losses, initial };
}

function assertClose(actual: number[], expected: number[], what: string): void {
  actual.forEach((a, i) => {
    const rel = Math.abs(a - expected[i]) / Math.max(Math.abs(expected[i]), 1e-6);
    assert.ok(
      Number.isFinite(a) && rel <= REL_TOL,
      `${what} at step ${i + 1}: webgpu ${a} vs cpu ${expected[i]} (rel. ${rel.toExponential(2)} > ${REL_TOL})`,
    );
  });
}

for (const hard of [false, true]) {
  test(`one training step on webgpu matches cpu (${hard ? 'straight-through' : 'relaxed'} samples)`, async (t) => {
    const reason = await webgpuUnavailable();
    if (reason !== null) {
      t.skip(`webgpu unavailable: ${reason}`);
      return;
    }
    const config = { ...SMALL, hard };
    const data = binaryBatch(5);
    const cpu = await runSteps('cpu', config, null, data);
    const gpu = await runSteps('webgpu', config, cpu.initial, data);
    tf.dispose(cpu.initial);
    tf.dispose(gpu.initial);
    t.diagnostic(
      `cpu loss ${cpu.losses.loss.map((l) => l.toFixed(4)).join(', ')}; webgpu ${gpu.losses.loss.map((l) => l.toFixed(4)).join(', ')}`,
    );
    assertClose(gpu.losses.loss, cpu.losses.loss, 'loss');
    assertClose(gpu.losses.recon, cpu.losses.recon, 'recon');
    assertClose(gpu.losses.kl, cpu.losses.kl, 'kl');
    assert.notEqual(cpu.losses.loss[0], cpu.losses.loss[1], 'the first step changed the weights');
  });
}
