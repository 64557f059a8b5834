/**
 * Training speed of each gradient estimator on wasm, in one process: the
 * default VAE (20x10, batch 100), the hand-written step with the wasm
 * speed-ups, random binary images of MNIST's ink density. Rounds interleave
 * the estimators so that drift of a shared machine hits each alike; the
 * median round and the best round are reported, each with its ratio to
 * Gumbel-Softmax's, and the median over rounds of each round's ratio.
 *
 *   node --import tsx bench/estimators.ts [--steps 100] [--rounds 3] [--threads 2] [--rao-samples 10]
 *                                         [--estimators gumbel-softmax,gumbel-rao] [--plain-gumbel-rao] [--host-noise] [--cpu-time]
 *
 * --plain-gumbel-rao adds a run of Gumbel-Rao with its wasm kernel
 * (CatvaeGumbelRaoGradient) unregistered, so its op runs the plain tfjs
 * composition: the step as it was before the kernel, in the same rounds.
 * --host-noise adds a run of Gumbel-Softmax and one of Gumbel-Rao with the
 * counter-Gumbel kernel (CatvaeCounterGumbel) unregistered, so the Philox
 * noise is drawn on the host and uploaded, as before that kernel; their
 * ratios are to the host-noise Gumbel-Softmax run.
 * --cpu-time times each round by the process's CPU time (user + system)
 * instead of the wall clock: on a machine shared with other jobs it varies
 * far less; with threads it also counts the kernel workers' waiting spins.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { parseArgs } from 'node:util';
import { ESTIMATORS, isEstimator, type Estimator } from '../src/layers/estimators.js';
import { GUMBEL_RAO_GRADIENT_KERNEL } from '../src/ops/gumbel_rao.js';
import { DEFAULT_VAE_CONFIG } from '../src/model/config.js';
import { trainStep } from '../src/model/train_step.js';
import { buildVae } from '../src/model/vae.js';
import { Rng } from '../src/random.js';
import { fusedAdam } from '../src/ops/adam.js';
import {
  installWasmSpeedups,
  registerCounterGumbelKernel,
  registerGumbelRaoKernel,
  unregisterCounterGumbelKernel,
} from '../src/wasm/index.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'rao-samples': { type: 'string', default: '10' },
    estimators: { type: 'string', default: ESTIMATORS.join(',') },
    'plain-gumbel-rao': { type: 'boolean', default: false },
    'host-noise': { type: 'boolean', default: false },
    'cpu-time': { type: 'boolean', default: false },
  },
});
const chosen = values.estimators.split(',') as Estimator[];
if (chosen[0] !== 'gumbel-softmax' || !chosen.every(isEstimator)) {
  throw new Error(`--estimators: a list of ${ESTIMATORS.join(', ')}, gumbel-softmax first (the others are compared with it)`);
}
const [steps, rounds, batch] = [Number(values.steps), Number(values.rounds), 100];
installWasmSpeedups({ threads: Number(values.threads) });
await tf.setBackend('wasm');

const rng = new Rng(4);
const x = tf.tensor2d(
  Float32Array.from({ length: batch * 784 }, () => (rng.nextOpen01() < 0.13 ? 1 : 0)),
  [batch, 784],
);
const variants = chosen.map((estimator) => ({ estimator, plain: false, hostNoise: false }));
if (values['plain-gumbel-rao']) variants.push({ estimator: 'gumbel-rao', plain: true, hostNoise: false });
if (values['host-noise']) {
  variants.push({ estimator: 'gumbel-softmax', plain: false, hostNoise: true }, { estimator: 'gumbel-rao', plain: false, hostNoise: true });
}
const runs = variants.map(({ estimator, plain, hostNoise }) => {
  const model = buildVae(
    { ...DEFAULT_VAE_CONFIG, estimator, hard: estimator === 'straight-through', raoSamples: Number(values['rao-samples']) },
    1,
  );
  const label = plain ? 'gumbel-rao, plain' : hostNoise ? `${estimator}, host noise` : estimator;
  return { estimator, label, plain, hostNoise, model, optimizer: fusedAdam(1e-3), seconds: [] as number[] };
});
/** The Gumbel-Rao and counter-Gumbel kernels registered, or not (the ops' plain compositions), for a run. */
function useKernel(run: (typeof runs)[number]): void {
  if (!run.plain) registerGumbelRaoKernel();
  else if (tf.getKernel(GUMBEL_RAO_GRADIENT_KERNEL, 'wasm')) tf.unregisterKernel(GUMBEL_RAO_GRADIENT_KERNEL, 'wasm');
  if (run.hostNoise) unregisterCounterGumbelKernel();
  else registerCounterGumbelKernel();
}
const tau = (e: Estimator) => (e === 'reinmax' ? 1 : 0.7);

for (const run of runs) {
  useKernel(run);
  for (let i = 0; i < 10; i++) tf.dispose(trainStep(run.model, run.optimizer, x, tau(run.estimator), { metrics: false }) ?? []);
}
for (let r = 0; r < rounds; r++) {
  for (const run of runs) {
    useKernel(run);
    await tf.ready();
    const [start, cpuStart] = [performance.now(), process.cpuUsage()];
    for (let i = 0; i < steps; i++) tf.dispose(trainStep(run.model, run.optimizer, x, tau(run.estimator), { metrics: false }) ?? []);
    // A read forces the queued work to finish before the clock stops.
    await run.model.vae.trainableWeights[0].read().data();
    const cpu = process.cpuUsage(cpuStart);
    run.seconds.push(values['cpu-time'] ? (cpu.user + cpu.system) / 1e6 : (performance.now() - start) / 1000);
  }
}
const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(
  `${steps} steps of ${batch}, ${rounds} rounds, median round (best round in brackets); wasm, ${values.threads} threads; ${values['cpu-time'] ? 'CPU time' : 'wall clock'}`,
);
for (const run of runs) {
  // The Gumbel-Softmax run with the same noise kernel is the reference.
  const reference = runs.find((r) => r.estimator === 'gumbel-softmax' && r.hostNoise === run.hostNoise) ?? runs[0];
  const base = median(reference.seconds);
  const bestBase = Math.min(...reference.seconds);
  const s = median(run.seconds);
  const best = Math.min(...run.seconds);
  // Each round's time over Gumbel-Softmax's in the same round: drift of the machine between rounds cancels.
  const paired = median(run.seconds.map((v, r) => v / reference.seconds[r]));
  const rounds = run.seconds.map((v) => ((steps * batch) / v).toFixed(0)).join(', ');
  console.log(
    `${run.label.padEnd(28)} ${((steps * batch) / s).toFixed(0).padStart(6)} img/s  ${(s / base).toFixed(2)}x the time of gumbel-softmax, median of rounds' ratios ${paired.toFixed(2)}x  [best ${((steps * batch) / best).toFixed(0)} img/s, ${(best / bestBase).toFixed(2)}x]  (rounds: ${rounds} img/s)`,
  );
}
