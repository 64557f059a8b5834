/**
 * The training step on webgpu: ms/step, compute dispatches, uploads, queue
 * submits and GPU-to-CPU reads per step, counted by src/webgpu/counters.ts.
 * The step is the trainer's (trainStep: hand-written backward, fused Adam),
 * with the loss terms kept every 5th step and read back once at the end of
 * the window, as the trainer does between two logged steps.
 *
 *   node --import tsx bench/webgpu_step.ts [--batch 100] [--steps 10] [--warmup 3] [--small] [--plain] [--json]
 *
 * --small: 784-64-(10x10)-64-784 instead of the default VAE (lavapipe is slow).
 * --plain: without catvae's WGSL kernels (the plain-tfjs ops), for the before/after figure.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend.js';
import { DEFAULT_VAE_CONFIG, type VaeConfig } from '../src/model/config.js';
import type { ElboTerms } from '../src/model/loss.js';
import { trainStep } from '../src/model/train_step.js';
import { buildVae } from '../src/model/vae.js';
import { Rng } from '../src/random.js';
import { fusedAdam } from '../src/ops/adam.js';
import { countWebGpuWork } from '../src/webgpu/counters.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '100' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    small: { type: 'boolean', default: false },
    plain: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
if (values.plain) process.env.CATVAE_WEBGPU_KERNELS = '0';
const selection = await selectBackend('webgpu');
const config: VaeConfig = values.small
  ? { ...DEFAULT_VAE_CONFIG, latentVars: 10, categories: 10, encoderUnits: [64], decoderUnits: [64] }
  : DEFAULT_VAE_CONFIG;
const model = buildVae(config, 1);
const optimizer = fusedAdam(1e-3);
// Binary images of MNIST's ink density, made on the host as the trainer's batches are.
const rng = new Rng(7);
const images = Float32Array.from({ length: 8 * batch * config.inputDim }, () => (rng.nextOpen01() < 0.13 ? 1 : 0));
const batchAt = (i: number) =>
  tf.tensor2d(images.subarray((i % 8) * batch * config.inputDim, ((i % 8) + 1) * batch * config.inputDim), [batch, config.inputDim]);

async function window(count: number, first: number): Promise<number> {
  const pending: ElboTerms[] = [];
  for (let i = 0; i < count; i++) {
    const x = batchAt(first + i);
    const terms = trainStep(model, optimizer, x, 0.9, { metrics: (first + i + 1) % 5 === 0 || i === count - 1 });
    if (terms) pending.push(terms);
    x.dispose();
  }
  const sum = tf.tidy(() => tf.addN(pending.map((t) => t.loss)));
  const loss = (await sum.data())[0] / pending.length;
  tf.dispose([sum, ...pending.flatMap((t) => [t.loss, t.recon, t.kl])]);
  return loss;
}

await window(Number(values.warmup), 0);
const tensorsBefore = tf.memory().numTensors;
const counter = countWebGpuWork();
const start = performance.now();
const loss = await window(steps, 100);
const ms = (performance.now() - start) / steps;
counter.stop();
const c = counter.counts;
const result = {
  backend: selection.summary,
  kernels: values.plain ? 'plain tfjs ops' : 'catvae WGSL kernels where registered',
  model: values.small ? 'small 784-64-(10x10)-64-784' : 'default 784-512-256-(20x10)-256-512-784',
  batch,
  steps,
  ms_per_step: Number(ms.toFixed(1)),
  images_per_s: Math.round((1000 * batch) / ms),
  dispatches_per_step: Number((c.dispatches / steps).toFixed(1)),
  uploads_per_step: Number((c.uploads / steps).toFixed(1)),
  submits_per_step: Number((c.submits / steps).toFixed(1)),
  reads_per_step: Number((c.reads / steps).toFixed(2)),
  reads_in_window: c.reads,
  loss: Number(loss.toFixed(2)),
  leaked_tensors: tf.memory().numTensors - tensorsBefore,
};
if (values.json) console.log(JSON.stringify(result));
else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(20)} ${v}`);
