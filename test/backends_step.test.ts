/**
 * The training step on every backend: the hand-written step (src/model/
 * fast_step.ts, with the named ops) against the tape's gradients on each
 * backend, then cpu and wasm against each other over a few Adam steps from
 * the same initial weights.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, useBackend, type TestBackend } from './helpers/backends.js';
import { fastGradients } from '../src/model/fast_step.js';
import { trainingLoss, trainStep } from '../src/model/train_step.js';
import { buildVae, trainableVariables, type CategoricalVae } from '../src/model/vae.js';
import { DEFAULT_VAE_CONFIG, type VaeConfig } from '../src/model/config.js';
import { fusedAdam } from '../src/ops/adam.js';
import { Rng } from '../src/random.js';

const config = (hard = false): VaeConfig => ({
  ...DEFAULT_VAE_CONFIG,
  latentVars: 6,
  categories: 5,
  encoderUnits: [48, 32],
  decoderUnits: [32, 48],
  hard,
});

/** Binary images, about 15% ones like MNIST (the sparse first layer's case), the same on every backend. */
function images(b: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  return tf.tensor2d(
    Array.from({ length: b * 784 }, () => (rng.nextOpen01() < 0.15 ? 1 : 0)),
    [b, 784],
  );
}

/** Largest |a - b| over a variable, relative to the largest |a|. */
function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let [err, scale] = [0, 0];
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return scale === 0 ? err : err / scale;
}

/** Hand-written and tape gradients (and losses) with the same noise, read back. */
async function bothGradients(model: CategoricalVae, x: tf.Tensor2D, tau: number) {
  model.sampler.setTemperature(tau);
  model.sampler.noiseState = { seed: 9, calls: 0 };
  const tape = tf.variableGrads(() => trainingLoss(model, x).loss, trainableVariables(model));
  model.sampler.noiseState = { seed: 9, calls: 0 };
  const noise = model.sampler.drawNoise([x.shape[0], model.config.latentVars, model.config.categories]);
  const fast = fastGradients(model, x, noise, tau);
  const out = {
    tapeLoss: (await tape.value.data())[0],
    fastLoss: (await fast.terms!.loss.data())[0],
    worst: 0,
  };
  for (const v of trainableVariables(model)) {
    out.worst = Math.max(out.worst, relativeDiff(await tape.grads[v.name].data(), await fast.grads[v.name].data()));
  }
  tf.dispose([noise, tape.value, ...Object.values(tape.grads), ...Object.values(fast.grads), fast.terms!]);
  return out;
}

await describeBackends('hand-written step against the tape', (backend: TestBackend) => {
  // The two differ only in float32 rounding order; webgpu's shaders add their own error.
  const tolerance = backend === 'webgpu' ? 1e-2 : 1e-4;
  for (const hard of [false, true]) {
    it(`same loss and gradients (${hard ? 'straight-through' : 'relaxed'} samples)`, async () => {
      const model = buildVae(config(hard), 3);
      const x = images(32, 1);
      const { tapeLoss, fastLoss, worst } = await bothGradients(model, x, 0.7);
      assert.ok(Math.abs(fastLoss - tapeLoss) < tolerance * tapeLoss, `loss ${fastLoss} vs the tape's ${tapeLoss}`);
      assert.ok(worst < tolerance, `largest relative difference ${worst}`);
      x.dispose();
      model.vae.dispose();
    });
  }
});

/** From seed 5: the initial weights, the first loss, and the weights after `steps` fused-Adam steps, read back. */
async function trainedOn(backend: TestBackend, steps: number) {
  await useBackend(backend);
  const model = buildVae(config(), 5);
  const initial = await Promise.all(model.vae.getWeights().map((w) => w.data()));
  const optimizer = fusedAdam(1e-3);
  const x = images(32, 2);
  model.sampler.noiseState = { seed: 1, calls: 0 };
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const terms = trainStep(model, optimizer, x, 0.8);
    losses.push((await terms.loss.data())[0]);
    tf.dispose(terms);
  }
  const final = await Promise.all(model.vae.getWeights().map((w) => w.data()));
  tf.dispose(x);
  optimizer.dispose();
  model.vae.dispose();
  return { initial, losses, final };
}

describe('cpu and wasm agree', () => {
  it('same initial weights; losses within 1e-5 relative over 5 Adam steps; weights within 1e-5 after them', async () => {
    const steps = 5;
    const [cpu, wasm] = [await trainedOn('cpu', steps), await trainedOn('wasm', steps)];
    cpu.initial.forEach((w, i) => assert.deepEqual(w, wasm.initial[i], `initial weight ${i}`));
    cpu.losses.forEach((loss, i) =>
      assert.ok(Math.abs(loss - wasm.losses[i]) < 1e-5 * loss, `step ${i + 1}: loss ${loss} on cpu, ${wasm.losses[i]} on wasm`),
    );
    // Adam moves each weight by about lr = 1e-3 a step, whatever the gradient's size, so a
    // gradient at the level of float32 rounding may move a weight either way: a few such
    // weights are allowed (at most 0.1%), within the 5 steps' reach.
    let [far, count, worst] = [0, 0, 0];
    cpu.final.forEach((w, i) =>
      w.forEach((v, j) => {
        const d = Math.abs(v - wasm.final[i][j]);
        count++;
        worst = Math.max(worst, d);
        if (d > 1e-5) far++;
      }),
    );
    assert.ok(far <= count / 1000, `${far} of ${count} weights differ by more than 1e-5`);
    assert.ok(worst <= 2 * steps * 1e-3, `a weight differs by ${worst}`);
    const moved = Math.max(...cpu.final.map((w, i) => relativeDiff(w, cpu.initial[i])));
    assert.ok(moved > 1e-3, 'the steps moved the weights');
  });
});
