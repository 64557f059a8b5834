/**
 * The experimental WebGPU backend against the cpu backend: two training
 * steps of a small categorical VAE (784 -> 64 relu -> 20x10 logits ->
 * GumbelSoftmax -> 784) from the same weights, data and Gumbel noise. A
 * kernel missing on webgpu throws; a wrong one shows in the losses. The
 * second step's loss depends on the first step's gradients and Adam update.
 *
 * Also: the layer's sampling law, samples and gradients against cpu; the
 * hand-written step's gradients against cpu (tolerance GRAD_TOL, relative to
 * each gradient's largest entry: float32 sums in a different order).
 *
 * Skipped only where no Vulkan driver is installed (test/helpers/webgpu.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.js';
import { GumbelSoftmax } from '../src/layers/gumbel_softmax.js';
import type { VaeConfig } from '../src/model/config.js';
import { fastGradients } from '../src/model/fast_step.js';
import { trainStep } from '../src/model/train_step.js';
import { buildVae } from '../src/model/vae.js';
import { Rng } from '../src/random.js';
import { useWebGpu } from './helpers/webgpu.js';

const BATCH = 16;
const STEPS = 2;
const REL_TOL = 1e-4;
const GRAD_TOL = 1e-3;
const SMALL: VaeConfig = { inputDim: 784, latentVars: 20, categories: 10, encoderUnits: [64], decoderUnits: [], hard: false };

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
    if (!(await useWebGpu(t))) return;
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

/** Largest |a - b| over the largest |b|: one number per pair of same-shaped arrays. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** The hand-written step's gradients on `backend`, from the given weights, data and noise. */
async function stepGradients(backend: string, weights: Float32Array[] | null, data: Float32Array, noise: Float32Array) {
  assert.ok(await tf.setBackend(backend));
  const model = buildVae(SMALL, 11);
  const initial = await Promise.all(model.vae.getWeights().map((w) => w.data() as Promise<Float32Array>));
  if (weights) model.vae.setWeights(weights.map((w, i) => tf.tensor(w, model.vae.weights[i].shape as number[])));
  const x = tf.tensor2d(data, [BATCH, SMALL.inputDim]);
  const g = tf.tensor3d(noise, [BATCH, SMALL.latentVars, SMALL.categories]);
  const { grads, terms } = fastGradients(model, x, g, 0.7, true);
  const values: Record<string, Float32Array> = {};
  for (const [name, tensor] of Object.entries(grads)) values[name.replace(/_\d+(\/|$)/, '$1')] = (await tensor.data()) as Float32Array;
  const loss = (await terms!.loss.data())[0];
  tf.dispose([x, g, ...Object.values(grads), terms!.loss, terms!.recon, terms!.kl]);
  model.vae.dispose();
  return { initial, values: Object.values(values), loss };
}

test('the hand-written step: loss and every gradient on webgpu match cpu', async (t) => {
  if (!(await useWebGpu(t))) return;
  const data = binaryBatch(8);
  const rng = new Rng(3);
  const noise = Float32Array.from({ length: BATCH * SMALL.latentVars * SMALL.categories }, () => -Math.log(-Math.log(rng.nextOpen01())));
  const cpu = await stepGradients('cpu', null, data, noise);
  const gpu = await stepGradients('webgpu', cpu.initial, data, noise);
  assert.equal(gpu.values.length, cpu.values.length);
  const errors = gpu.values.map((g, i) => relativeError(g, cpu.values[i]));
  t.diagnostic(
    `loss cpu ${cpu.loss.toFixed(4)} webgpu ${gpu.loss.toFixed(4)}; worst gradient rel. error ${Math.max(...errors).toExponential(2)}`,
  );
  assert.ok(Math.abs(gpu.loss - cpu.loss) <= REL_TOL * Math.abs(cpu.loss), `loss ${gpu.loss} vs ${cpu.loss}`);
  errors.forEach((e, i) => assert.ok(e <= GRAD_TOL, `gradient ${i}: rel. error ${e.toExponential(2)} > ${GRAD_TOL}`));
});

/** The layer's training output and d(sum(y * w))/dlogits for fixed logits and seed. */
async function layerSampleAndGradient(backend: string, logits: Float32Array, rows: number, k: number) {
  assert.ok(await tf.setBackend(backend));
  const layer = new GumbelSoftmax({ temperature: 0.6, seed: 21 });
  const x = tf.tensor2d(logits, [rows, k]);
  const w = tf.tensor2d(
    Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i)),
    [rows, k],
  );
  layer.build(x.shape as number[]);
  const f = (l: tf.Tensor) => tf.sum(tf.mul(layer.apply(l, { training: true }) as tf.Tensor, w)) as tf.Scalar;
  layer.noiseState = { seed: 21, calls: 0 };
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  layer.noiseState = { seed: 21, calls: 0 };
  const dLogits = tf.grad(f)(x);
  const out = { y: (await y.data()) as Float32Array, grad: (await dLogits.data()) as Float32Array, tau: layer.temperature };
  layer.setTemperature(0.25);
  // A GPU op on the weight (as loadCheckpoint's finiteness check) moves it to the GPU, and tfjs drops its host
  // copy: the getter must not need a read.
  tf.dispose(tf.tidy(() => tf.all(tf.isFinite(layer.weights[0].read()))));
  const tauAfter = [layer.temperature, await layer.getTemperature()];
  tf.dispose([x, w, y, dLogits]);
  return { ...out, tauAfter };
}

test('the GumbelSoftmax layer on webgpu: samples, gradients and temperature as on cpu; argmax frequencies follow softmax(logits)', async (t) => {
  if (!(await useWebGpu(t))) return;
  const k = 4;
  const rows = 4000;
  const base = [1.2, 0.1, -0.7, 0.4];
  const logits = Float32Array.from({ length: rows * k }, (_, i) => base[i % k]);
  const cpu = await layerSampleAndGradient('cpu', logits, rows, k);
  const gpu = await layerSampleAndGradient('webgpu', logits, rows, k);
  assert.ok(relativeError(gpu.y, cpu.y) < 1e-4, `samples differ: ${relativeError(gpu.y, cpu.y)}`);
  assert.ok(relativeError(gpu.grad, cpu.grad) < 1e-3, `gradients differ: ${relativeError(gpu.grad, cpu.grad)}`);
  assert.ok(Math.abs(gpu.tau - 0.6) < 1e-6 && gpu.tauAfter.every((tau) => Math.abs(tau - 0.25) < 1e-6), `tau ${gpu.tau}, ${gpu.tauAfter}`);
  // The law: argmax of (logits + g) is Categorical(softmax(logits)) (Gumbel-max); Pearson's chi-square, 3 d.o.f.
  const counts = new Array(k).fill(0);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(gpu.y.subarray(r * k, r * k + k));
    counts[row.indexOf(Math.max(...row))]++;
  }
  const z = base.reduce((a, l) => a + Math.exp(l), 0);
  const chi2 = counts.reduce((a, c, i) => a + (c - (rows * Math.exp(base[i])) / z) ** 2 / ((rows * Math.exp(base[i])) / z), 0);
  t.diagnostic(`argmax counts ${counts.join(', ')}; chi-square ${chi2.toFixed(2)} (3 d.o.f., p = 0.001 at 16.27)`);
  assert.ok(chi2 < 16.27, `argmax frequencies ${counts} do not follow softmax(logits): chi-square ${chi2.toFixed(2)}`);
});

test('auto keeps to wasm when the only WebGPU adapter is a software one, and takes webgpu on a GPU', async (t) => {
  if (!(await useWebGpu(t))) return;
  const forced = await selectBackend('webgpu');
  const software = /software/.test(forced.detail);
  const auto = await selectBackend('auto');
  t.diagnostic(`webgpu adapter: ${forced.detail}; auto chose ${auto.name}`);
  if (software) {
    assert.equal(auto.name, 'wasm');
    assert.match(auto.skipped.find((s) => s.name === 'webgpu')?.reason ?? '', /software/);
  } else {
    assert.equal(auto.name, 'webgpu');
  }
});
