/**
 * One benchmark run in its own process (a backend starts once per process,
 * and peak RSS must be this run's): `node --import tsx src/cli/bench_child.ts
 * '<RunSpec JSON>'` trains the default VAE on binarised MNIST batches built
 * on the host, as the trainer does, and prints one RunResult JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../backend.js';
import { runCli } from './run.js';
import { readIdxImages } from '../data/index.js';
import { DEFAULT_VAE_CONFIG } from '../model/config.js';
import { tapeTrainStep, trainStep } from '../model/train_step.js';
import { buildVae, type CategoricalVae } from '../model/vae.js';
import { Rng } from '../random.js';
import type { RunResult, RunSpec } from '../bench/run_spec.js';

const PIXELS = 784;

/** Binarised images (0/1 bytes): MNIST thresholded at 128, or random with MNIST's ink density. */
async function loadImages(spec: RunSpec): Promise<Uint8Array> {
  if (spec.images) {
    const { pixels, count } = await readIdxImages(spec.images);
    const out = new Uint8Array(count * PIXELS);
    for (let i = 0; i < out.length; i++) out[i] = pixels[i] > 127 ? 1 : 0;
    return out;
  }
  const rng = new Rng(7);
  return Uint8Array.from({ length: 60000 * PIXELS }, () => (rng.nextOpen01() < 0.13 ? 1 : 0));
}

/** Sets up the backend for the variant; returns its description. */
async function setupBackend(spec: RunSpec): Promise<string> {
  if (spec.backend !== 'wasm') {
    if (spec.variant !== 'catvae') throw new Error(`variant ${spec.variant} is for the wasm backend only`);
    const { registerAdamCpuKernel } = await import('../ops/adam.js');
    registerAdamCpuKernel();
    const selection = await selectBackend(spec.backend as BackendName);
    return selection.detail;
  }
  await import('@tensorflow/tfjs-backend-wasm');
  const wasm = await import('../wasm/index.js');
  const v = spec.variant;
  if (v === 'catvae' || v === 'tape') wasm.installWasmSpeedups({ threads: spec.threads });
  else if (v === 'xnnpack') wasm.installWasmSpeedups({ threads: spec.threads, gemmKernels: false });
  else if (v !== 'stock') {
    // The kernel-level fixes alone (then threads): XNNPACK's products, tfjs's Adam, no custom kernels.
    wasm.registerTransposeKernel();
    wasm.registerMatMulKernels();
    wasm.setGemmKernels(false);
    if (v === 'fix+threads') wasm.useThreadedWasm({ threads: spec.threads });
  }
  // Not selectBackend: it may install the speed-ups itself, and 'stock' must stay as tfjs ships.
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  return `wasm, SIMD, ${wasm.wasmThreadsInUse()} thread(s)`;
}

async function optimizerFor(spec: RunSpec): Promise<tf.Optimizer> {
  if (spec.variant === 'catvae' || spec.variant === 'tape' || spec.variant === 'xnnpack') {
    const { fusedAdam } = await import('../ops/adam.js');
    return fusedAdam(1e-3);
  }
  return tf.train.adam(1e-3);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as RunSpec;
  const detail = await setupBackend(spec);
  const images = await loadImages(spec);
  const count = images.length / PIXELS;
  const model: CategoricalVae = buildVae({ ...DEFAULT_VAE_CONFIG, latentVars: spec.latentVars, categories: spec.categories }, 1);
  const optimizer = await optimizerFor(spec);
  const rng = new Rng(11);
  // tfjs's own path (stock and the single fixes) is the tape; catvae's is the hand-written step.
  const stepFn =
    spec.variant === 'catvae' || spec.variant === 'xnnpack'
      ? trainStep
      : (m: CategoricalVae, o: tf.Optimizer, x: tf.Tensor2D, tau: number) => {
          m.sampler.setTemperature(tau);
          return tapeTrainStep(m, o, x);
        };
  let step = 0;
  let lastLoss = NaN;

  const runStep = async (): Promise<void> => {
    // A fresh host array per batch, as src/data builds them: no slicing of resident tensors.
    const xs = new Float32Array(spec.batch * PIXELS);
    for (let b = 0; b < spec.batch; b++) {
      const src = rng.nextInt(count) * PIXELS;
      for (let p = 0; p < PIXELS; p++) xs[b * PIXELS + p] = images[src + p];
    }
    const x = tf.tensor2d(xs, [spec.batch, PIXELS]);
    const report = ++step % spec.logEvery === 0;
    let loss: tf.Scalar | null = null;
    const terms = stepFn(model, optimizer, x, 1);
    tf.dispose([terms.recon, terms.kl]);
    if (report) loss = terms.loss;
    else terms.loss.dispose();
    x.dispose();
    if (loss) {
      lastLoss = (await loss.data())[0];
      loss.dispose();
    }
  };

  // A GPU backend only queues the work: a read of a value computed after the last step waits for all of it.
  const syncBackend = async () => {
    const sync = tf.tidy(() => tf.sum(model.vae.trainableWeights[0].read()));
    await sync.data();
    sync.dispose();
  };
  const warmStart = performance.now();
  while (step < spec.warmupSteps || performance.now() - warmStart < spec.warmupSeconds * 1000) await runStep();
  await syncBackend();
  const tensorsBefore = tf.memory().numTensors;
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < spec.seconds * 1000) {
    const t = performance.now();
    await runStep();
    times.push(performance.now() - t);
  }
  await syncBackend();
  const seconds = (performance.now() - start) / 1000;
  times.sort((a, b) => a - b);
  const result: RunResult = {
    impl: 'catvae',
    label: `${spec.backend}:${spec.variant}`,
    backend: spec.backend,
    variant: spec.variant,
    detail,
    batch: spec.batch,
    steps: times.length,
    seconds,
    // Per-step times on a GPU are enqueue times: there, the window's mean.
    msPerStep: spec.backend === 'webgpu' ? (1000 * seconds) / times.length : times[times.length >> 1],
    imagesPerSecond: (times.length * spec.batch) / seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    tensorDrift: tf.memory().numTensors - tensorsBefore,
    finalLoss: lastLoss,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// One 'error: ...' line on failure, which the parent shows as the run's reason.
await runCli(main);
