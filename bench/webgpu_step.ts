/**
 * The training step on webgpu: ms/step, compute dispatches, uploads (and
 * their bytes), queue submits and GPU-to-CPU reads per step, counted by
 * src/webgpu/counters.ts. The step is the trainer's (trainStep: hand-written
 * backward, fused Adam), with the loss terms kept every 5th step and read
 * back once at the end of the window, as the trainer does between two logged steps.
 *
 *   node --import tsx bench/webgpu_step.ts [--batch 100] [--steps 10] [--warmup 3] [--small] [--plain] [--noise philox|sfc32] [--json]
 *   node --import tsx bench/webgpu_step.ts --compare [--rounds 3] [--batch 100] [--steps 10] [--small] [--json]
 *
 * --small: 784-64-(10x10)-64-784 instead of the default VAE (lavapipe is slow).
 * --plain: without catvae's WGSL kernels (the plain-tfjs ops), for the before/after figure.
 * --noise: the layer's noise generator (default philox: drawn on the GPU; sfc32: uniforms drawn on the host and uploaded).
 * --compare: the four combinations of kernels off/on and noise sfc32/philox in one process, in
 *   interleaved rounds (one window each per round, the order rotated), each from the same seed; median ms/step.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend.js';
import { DEFAULT_VAE_CONFIG, type VaeConfig } from '../src/model/config.js';
import type { ElboTerms } from '../src/model/loss.js';
import { trainStep } from '../src/model/train_step.js';
import { buildVae, type CategoricalVae } from '../src/model/vae.js';
import type { NoiseGenerator } from '../src/layers/gumbel_softmax.js';
import { Rng } from '../src/random.js';
import { fusedAdam } from '../src/ops/adam.js';
import { countWebGpuWork, type WebGpuCounts } from '../src/webgpu/counters.js';
import { registerWebGpuKernels, unregisterWebGpuKernels } from '../src/webgpu/index.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '100' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    small: { type: 'boolean', default: false },
    plain: { type: 'boolean', default: false },
    noise: { type: 'string', default: 'philox' },
    compare: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
if (values.noise !== 'philox' && values.noise !== 'sfc32') throw new Error(`--noise ${values.noise}: use philox or sfc32`);
if (values.plain && !values.compare) process.env.CATVAE_WEBGPU_KERNELS = '0';
const selection = await selectBackend('webgpu');
const config: VaeConfig = values.small
  ? { ...DEFAULT_VAE_CONFIG, latentVars: 10, categories: 10, encoderUnits: [64], decoderUnits: [64] }
  : DEFAULT_VAE_CONFIG;
// Binary images of MNIST's ink density, made on the host as the trainer's batches are.
const rng = new Rng(7);
const images = Float32Array.from({ length: 8 * batch * config.inputDim }, () => (rng.nextOpen01() < 0.13 ? 1 : 0));
const batchAt = (i: number) =>
  tf.tensor2d(images.subarray((i % 8) * batch * config.inputDim, ((i % 8) + 1) * batch * config.inputDim), [batch, config.inputDim]);

interface Setup {
  kernels: boolean;
  noise: NoiseGenerator;
  model: CategoricalVae;
  optimizer: ReturnType<typeof fusedAdam>;
  /** Steps taken so far: each window continues where the last stopped. */
  step: number;
}

function setup(kernels: boolean, noise: NoiseGenerator): Setup {
  const model = buildVae(config, 1);
  // The generator is fixed when a layer is made; the bench switches it on a fresh model.
  Object.assign(model.sampler, { noise });
  return { kernels, noise, model, optimizer: fusedAdam(1e-3), step: 0 };
}

/** `count` steps of `s`; the mean loss of the steps whose terms were kept, read once at the end. */
async function window(s: Setup, count: number): Promise<number> {
  if (values.compare) {
    if (s.kernels) registerWebGpuKernels();
    else unregisterWebGpuKernels();
  }
  const pending: ElboTerms[] = [];
  for (let i = 0; i < count; i++) {
    const x = batchAt(s.step);
    s.step++;
    const terms = trainStep(s.model, s.optimizer, x, 0.9, { metrics: s.step % 5 === 0 || i === count - 1 });
    if (terms) pending.push(terms);
    x.dispose();
  }
  const sum = tf.tidy(() => tf.addN(pending.map((t) => t.loss)));
  const loss = (await sum.data())[0] / pending.length;
  tf.dispose([sum, ...pending.flatMap((t) => [t.loss, t.recon, t.kl])]);
  return loss;
}

/** One measured window: ms/step, the counts and the loss. */
async function measure(s: Setup): Promise<{ ms: number; counts: WebGpuCounts; loss: number; leaked: number }> {
  const tensorsBefore = tf.memory().numTensors;
  const counter = countWebGpuWork();
  const start = performance.now();
  const loss = await window(s, steps);
  const ms = (performance.now() - start) / steps;
  counter.stop();
  return { ms, counts: { ...counter.counts }, loss, leaked: tf.memory().numTensors - tensorsBefore };
}

const perStep = (n: number, digits = 1) => Number((n / steps).toFixed(digits));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const modelName = values.small ? 'small 784-64-(10x10)-64-784' : 'default 784-512-256-(20x10)-256-512-784';

function row(s: Setup, ms: number[], m: Awaited<ReturnType<typeof measure>>) {
  const c = m.counts;
  return {
    kernels: s.kernels ? 'catvae WGSL kernels where registered' : 'plain tfjs ops',
    noise: s.noise,
    ms_per_step: Number(median(ms).toFixed(1)),
    ms_per_step_rounds: ms.map((x) => Number(x.toFixed(1))),
    images_per_s: Math.round((1000 * batch) / median(ms)),
    dispatches_per_step: perStep(c.dispatches),
    uploads_per_step: perStep(c.uploads),
    upload_kib_per_step: perStep(c.uploadBytes / 1024),
    submits_per_step: perStep(c.submits),
    reads_per_step: perStep(c.reads, 2),
    loss: Number(m.loss.toFixed(2)),
    leaked_tensors: m.leaked,
  };
}

const setups = values.compare
  ? [setup(false, 'sfc32'), setup(false, 'philox'), setup(true, 'sfc32'), setup(true, 'philox')]
  : [setup(!values.plain, values.noise)];
for (const s of setups) await window(s, Number(values.warmup));
const times = setups.map(() => [] as number[]);
const last: Array<Awaited<ReturnType<typeof measure>>> = [];
const rounds = values.compare ? Number(values.rounds) : 1;
for (let r = 0; r < rounds; r++) {
  for (let j = 0; j < setups.length; j++) {
    const i = (j + r) % setups.length;
    last[i] = await measure(setups[i]);
    times[i].push(last[i].ms);
  }
}
const rows = setups.map((s, i) => row(s, times[i], last[i]));
const header = { backend: selection.summary, model: modelName, batch, steps, rounds };
if (values.json) console.log(JSON.stringify({ ...header, results: rows }));
else {
  for (const [k, v] of Object.entries(header)) console.log(`${k.padEnd(20)} ${v}`);
  console.table(rows.map(({ ms_per_step_rounds: _, ...rest }) => rest));
}
