/**
 * Where a training step's time goes: tf.profile over a few steps of the
 * default VAE, kernels grouped by name and input shapes, plus the unprofiled
 * step time (the difference to the kernel total is JS and tfjs overhead).
 *
 *   node --import tsx bench/profile_step.ts [--threads 2] [--batch 100] [--step fast|tape] [--adam fused|tfjs] [--stock]
 *                                          [--direct] [--xnnpack] [--mnist] [--train-first STEPS]
 *                                          [--estimator NAME] [--rao-samples 10]
 *
 * --stock profiles tfjs as shipped (no speed-ups, 1 thread). --xnnpack runs
 * the products on XNNPACK (its pool on all threads) instead of catvae's gemm
 * kernels; --direct, with it, never reverses untransposed products
 * (matmul.ts). --mnist draws
 * batches of binarised MNIST (else random images of the same ink density);
 * --train-first trains that many steps before profiling.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mnistDataDir, readIdxImages } from '../src/data/index.js';
import { ESTIMATORS, isEstimator, type Estimator } from '../src/layers/estimators.js';
import { DEFAULT_VAE_CONFIG } from '../src/model/config.js';
import { tapeTrainStep, trainStep } from '../src/model/train_step.js';
import { buildVae } from '../src/model/vae.js';
import { Rng } from '../src/random.js';
import { fusedAdam } from '../src/ops/adam.js';
import { installWasmSpeedups, wasmThreadsInUse } from '../src/wasm/index.js';
import { setReverseUntransposed } from '../src/wasm/matmul.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '100' },
    step: { type: 'string', default: 'fast' },
    adam: { type: 'string', default: 'fused' },
    stock: { type: 'boolean', default: false },
    steps: { type: 'string', default: '10' },
    mnist: { type: 'boolean', default: false },
    direct: { type: 'boolean', default: false },
    xnnpack: { type: 'boolean', default: false },
    'train-first': { type: 'string', default: '0' },
    estimator: { type: 'string', default: 'gumbel-softmax' },
    'rao-samples': { type: 'string', default: '10' },
  },
});
const batch = Number(values.batch);
if (!values.stock) installWasmSpeedups({ threads: Number(values.threads), gemmKernels: !values.xnnpack });
await tf.setBackend('wasm');
if (values.direct) setReverseUntransposed(false);

const estimator = values.estimator as Estimator;
if (!isEstimator(estimator)) throw new Error(`--estimator: use one of ${ESTIMATORS.join(', ')}`);
const model = buildVae(
  { ...DEFAULT_VAE_CONFIG, estimator, hard: estimator === 'straight-through', raoSamples: Number(values['rao-samples']) },
  1,
);
const optimizer = values.adam === 'fused' && !values.stock ? fusedAdam(1e-3) : tf.train.adam(1e-3);
const rng = new Rng(4);
const images = values.mnist
  ? Uint8Array.from((await readIdxImages(join(mnistDataDir(), 'train-images-idx3-ubyte'))).pixels, (p) => (p > 127 ? 1 : 0))
  : Uint8Array.from({ length: 10000 * 784 }, () => (rng.nextOpen01() < 0.13 ? 1 : 0));
let n = 0;
function step(): void {
  const xs = new Float32Array(batch * 784);
  for (let b = 0; b < batch; b++)
    xs.set(
      images.subarray(((n * batch + b) % (images.length / 784)) * 784, (((n * batch + b) % (images.length / 784)) + 1) * 784),
      b * 784,
    );
  const x = tf.tensor2d(xs, [batch, 784]);
  n++;
  const t = values.step === 'fast' ? trainStep(model, optimizer, x, 1) : tapeTrainStep(model, optimizer, x);
  tf.dispose([t.loss, t.recon, t.kl]);
  x.dispose();
}

for (let i = 0; i < 10 + Number(values['train-first']); i++) step();
const steps = Number(values.steps);
const start = performance.now();
for (let i = 0; i < 3 * steps; i++) step();
const plainMs = (performance.now() - start) / (3 * steps);

const rows = new Map<string, { count: number; ms: number }>();
for (let i = 0; i < steps; i++) {
  const info = await tf.profile(() => step());
  for (const k of info.kernels) {
    // Ops built from other kernels (names ending in __op) would count their kernels twice.
    if (k.name.endsWith('__op')) continue;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const row = rows.get(key) ?? { count: 0, ms: 0 };
    row.count++;
    row.ms += k.kernelTimeMs as number;
    rows.set(key, row);
  }
}
let total = 0;
let kernels = 0;
const byName = new Map<string, number>();
const flags = [values.direct && 'direct products', values.mnist && 'MNIST', estimator].filter(Boolean);
console.log(
  `wasm, ${wasmThreadsInUse()} thread(s), batch ${batch}, ${values.step} step, ${values.stock ? 'stock tfjs' : `${values.adam} Adam`} ${flags.join(', ')}`,
);
for (const [key, row] of [...rows].sort((a, b) => b[1].ms - a[1].ms)) {
  total += row.ms / steps;
  kernels += row.count / steps;
  const name = key.split(' ')[0];
  byName.set(name, (byName.get(name) ?? 0) + row.ms / steps);
  if (row.ms / steps >= 0.1)
    console.log(`${key.padEnd(64)} ${String(row.count / steps).padStart(4)} x ${(row.ms / steps).toFixed(2).padStart(7)} ms`);
}
console.log(
  `\nby kernel: ${[...byName]
    .sort((a, b) => b[1] - a[1])
    .map(([k, ms]) => `${k} ${ms.toFixed(1)}`)
    .join(', ')}`,
);
console.log(`${kernels} kernels/step, ${total.toFixed(1)} ms in kernels; unprofiled step ${plainMs.toFixed(1)} ms`);
