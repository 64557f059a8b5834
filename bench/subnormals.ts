/**
 * Do Adam's moments reach the subnormal range when training on real MNIST?
 *
 * On random binary images, after a few hundred steps the first moments of
 * dead ReLU units decay below FLT_MIN (1.2e-38) and arithmetic on them slows
 * x86 down 1.5-1.9x (WebAssembly cannot flush subnormals). This trains the
 * default VAE with tfjs's own Adam (no flushing), counts subnormal entries of
 * the moments every --every steps and times each window, on MNIST and on
 * random images; then the same with FusedAdamOptimizer, which flushes.
 *
 *   node --import tsx bench/subnormals.ts [--steps 3000] [--every 250] [--data mnist|random|both]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mnistDataDir, readIdxImages } from '../src/data/index.js';
import { DEFAULT_VAE_CONFIG } from '../src/model/config.js';
import { trainStep } from '../src/model/train_step.js';
import { buildVae } from '../src/model/vae.js';
import { Rng } from '../src/random.js';
import { fusedAdam } from '../src/ops/adam.js';
import { installWasmSpeedups } from '../src/wasm/index.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '3000' },
    every: { type: 'string', default: '250' },
    data: { type: 'string', default: 'both' },
    optimizers: { type: 'string', default: 'tfjs,fused' },
  },
});
const STEPS = Number(values.steps);
const EVERY = Number(values.every);
const FLT_MIN = 1.1754943508222875e-38;
const PIXELS = 784;

installWasmSpeedups();
await tf.setBackend('wasm');

async function images(kind: string): Promise<Uint8Array> {
  if (kind === 'random') {
    const rng = new Rng(5);
    return Uint8Array.from({ length: 60000 * PIXELS }, () => (rng.nextOpen01() < 0.13 ? 1 : 0));
  }
  const { pixels } = await readIdxImages(join(mnistDataDir(), 'train-images-idx3-ubyte'));
  return Uint8Array.from(pixels, (p) => (p > 127 ? 1 : 0));
}

async function subnormalShare(optimizer: tf.Optimizer): Promise<{ m: number; v: number }> {
  const weights = await optimizer.getWeights();
  const count = { m: 0, v: 0, mTotal: 0, vTotal: 0 };
  for (const { name, tensor } of weights) {
    const kind = name.endsWith('/m') ? 'm' : name.endsWith('/v') ? 'v' : null;
    if (!kind) continue;
    const data = tensor.dataSync();
    for (let i = 0; i < data.length; i++) if (data[i] !== 0 && Math.abs(data[i]) < FLT_MIN) count[kind]++;
    count[kind === 'm' ? 'mTotal' : 'vTotal'] += data.length;
  }
  return { m: count.m / count.mTotal, v: count.v / count.vTotal };
}

for (const kind of values.data === 'both' ? ['mnist', 'random'] : [values.data!]) {
  const data = await images(kind);
  const count = data.length / PIXELS;
  for (const which of values.optimizers!.split(',')) {
    const model = buildVae({ ...DEFAULT_VAE_CONFIG }, 1);
    const optimizer = which === 'fused' ? fusedAdam(1e-3) : tf.train.adam(1e-3);
    const rng = new Rng(9);
    let windowStart = performance.now();
    for (let step = 1; step <= STEPS; step++) {
      const xs = new Float32Array(100 * PIXELS);
      for (let b = 0; b < 100; b++) {
        const src = rng.nextInt(count) * PIXELS;
        for (let p = 0; p < PIXELS; p++) xs[b * PIXELS + p] = data[src + p];
      }
      const x = tf.tensor2d(xs, [100, PIXELS]);
      const terms = trainStep(model, optimizer, x, 1);
      const loss = step % EVERY === 0 ? (await terms.loss.data())[0] : NaN;
      tf.dispose([x, terms.loss, terms.recon, terms.kl]);
      if (step % EVERY === 0) {
        const ms = (performance.now() - windowStart) / EVERY;
        const share = await subnormalShare(optimizer);
        console.log(
          `${kind.padEnd(6)} ${which.padEnd(5)} step ${String(step).padStart(5)}  loss ${loss.toFixed(1).padStart(6)}  ${ms.toFixed(1).padStart(6)} ms/step  ` +
            `subnormal m ${(100 * share.m).toFixed(3)}%  v ${(100 * share.v).toFixed(3)}%`,
        );
        windowStart = performance.now();
      }
    }
    optimizer.dispose();
    model.vae.dispose();
  }
}
