/**
 * catvae's WGSL kernels (src/webgpu) against the plain tfjs ops they replace,
 * both on webgpu, and against cpu: the same op names, with and without the
 * kernels registered. Inputs include the hard cases: logits of +-80 (softmax
 * overflow), z = +-100 (sigmoid saturation), x = 0 at a ReLU, u next to 1 for
 * the Gumbel transform, subnormal Adam moments (flushed to zero, as wasm does).
 * Skipped only where no Vulkan driver is installed (test/helpers/webgpu.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { GUMBEL_NOISE_KERNEL } from '../src/layers/gumbel_noise.js';
import { Rng } from '../src/random.js';
import { ADAM_KERNEL, adamUpdate, type AdamAttrs } from '../src/ops/adam.js';
import { bernoulliGradient, latentGradient, relaxedSoftmax, reluGradient } from '../src/ops/step_ops.js';
import { countWebGpuWork } from '../src/webgpu/counters.js';
import { registerWebGpuKernels, unregisterWebGpuKernels } from '../src/webgpu/index.js';
import { useWebGpu } from './helpers/webgpu.js';

const ROWS = 300;
const K = 10;
/** Largest |a - b| relative to the largest |b|: float32 exp/log in a shader differ from tfjs's by a few ulps. */
const TOL = 1e-5;

function values(seed: number, n: number, scale: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => (rng.nextOpen01() * 2 - 1) * scale);
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-30;
  for (let i = 0; i < b.length; i++) {
    assert.ok(Number.isFinite(a[i]) === Number.isFinite(b[i]), `entry ${i}: ${a[i]} vs ${b[i]}`);
    if (Number.isFinite(b[i])) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** The op's result on webgpu with the kernels, webgpu without them (plain tfjs ops), and cpu. */
async function threeWays(op: () => tf.Tensor) {
  const dispatches: number[] = [];
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const counter = backend === 'webgpu' ? countWebGpuWork() : null;
    const out = tf.tidy(op);
    counter?.stop();
    if (counter) dispatches.push(counter.counts.dispatches);
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  };
  registerWebGpuKernels();
  const kernel = await run('webgpu');
  unregisterWebGpuKernels();
  const plain = await run('webgpu');
  registerWebGpuKernels();
  const cpu = await run('cpu');
  await tf.setBackend('webgpu');
  return { kernel, plain, cpu, dispatches: { kernel: dispatches[0], plain: dispatches[1] } };
}

const logits = values(1, ROWS * K, 8);
logits.set([80, -80, 79.5, 0, 0, 0, 0, 0, 0, -80], 0); // softmax must subtract the row maximum
const noise = values(2, ROWS * K, 3);
const dy = values(3, ROWS * K, 1);

const cases: Array<[string, () => tf.Tensor]> = [
  ['relaxedSoftmax', () => relaxedSoftmax(tf.tensor2d(logits, [ROWS, K]), tf.tensor3d(noise, [ROWS, 1, K]), 0.7, K)],
  [
    'latentGradient',
    () => {
      const l = tf.tensor2d(logits, [ROWS, K]);
      const y = relaxedSoftmax(l, tf.tensor2d(noise, [ROWS, K]), 0.7, K);
      return latentGradient(tf.tensor2d(dy, [ROWS, K]), y, l, 0.7, K, 0.01);
    },
  ],
  ['reluGradient', () => reluGradient(tf.tensor1d(dy), tf.relu(tf.tensor1d(Float32Array.from(noise, (v, i) => (i % 7 === 0 ? 0 : v)))))],
  [
    'bernoulliGradient',
    () => {
      const z = Float32Array.from(noise, (v, i) => (i === 0 ? 100 : i === 1 ? -100 : 4 * v));
      const x = Float32Array.from(dy, (v) => (v > 0 ? 1 : 0));
      return bernoulliGradient(tf.tensor2d(z, [ROWS, K]), tf.tensor2d(x, [ROWS, K]), 0.01);
    },
  ],
  [
    'Gumbel noise',
    () => {
      const u = Float32Array.from(values(4, ROWS * K, 0.5), (v) => v + 0.5);
      u.set([2 ** -24, 0.5, 0.9, 0.95, 0.96, 0.99, 0.999, ...Array.from({ length: 20 }, (_, i) => 1 - (i + 1) * 2 ** -24)], 0);
      return tf.engine().runKernel(GUMBEL_NOISE_KERNEL, { u: tf.tensor1d(u) }, {}) as tf.Tensor;
    },
  ],
];

for (const [name, op] of cases) {
  const title =
    name === 'Gumbel noise'
      ? 'matches -log(-log(u)) in float64, u next to 0 and 1 included'
      : 'matches the plain tfjs ops on webgpu and on cpu';
  test(`WGSL ${name} ${title}`, async (t) => {
    if (!(await useWebGpu(t))) return;
    if (name === 'Gumbel noise') {
      // No plain op under this kernel name: the reference is the definition, in float64.
      registerWebGpuKernels();
      const out = tf.tidy(op);
      const u = Float32Array.from(values(4, ROWS * K, 0.5), (v) => v + 0.5);
      u.set([2 ** -24, 0.5, 0.9, 0.95, 0.96, 0.99, 0.999, ...Array.from({ length: 20 }, (_, i) => 1 - (i + 1) * 2 ** -24)], 0);
      const got = (await out.data()) as Float32Array;
      out.dispose();
      const want = Array.from(u, (v) => -Math.log(-Math.log(v)));
      got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 1e-4 * Math.max(1, Math.abs(want[i])), `u ${u[i]}: ${g} vs ${want[i]}`));
      return;
    }
    const r = await threeWays(op);
    const [vsPlain, vsCpu] = [relativeError(r.kernel, r.plain), relativeError(r.kernel, r.cpu)];
    t.diagnostic(`rel. error vs plain webgpu ${vsPlain.toExponential(2)}, vs cpu ${vsCpu.toExponential(2)}`);
    assert.ok(vsPlain <= TOL && vsCpu <= TOL, `${name}: ${vsPlain} vs plain, ${vsCpu} vs cpu (> ${TOL})`);
    // The op really takes the kernel (an op whose guard refuses webgpu would compare the plain ops with themselves).
    t.diagnostic(`dispatches: ${r.dispatches.kernel} with the kernel, ${r.dispatches.plain} without`);
    assert.ok(
      r.dispatches.kernel < r.dispatches.plain,
      `${name}: ${r.dispatches.kernel} dispatches with the kernel, ${r.dispatches.plain} without`,
    );
  });
}

/** Adam's three results on webgpu for the inputs below; `share` keeps a second tensor on the value's data. */
async function adamOnWebGpu(mode: 'in place' | 'programs' | 'shared value') {
  const n = 5000;
  const [value, gradient, m, v] = [values(5, n, 1), values(6, n, 0.1), values(7, n, 0.01), Float32Array.from(values(8, n, 1e-4), Math.abs)];
  m[0] = 1e-39; // subnormal, and stays below FLT_MIN after beta1 * m
  v[0] = 1e-39;
  gradient[0] = 0;
  // A zero second moment with a non-zero first: the update is step * m / epsHat, where epsilon matters.
  gradient[1] = 0;
  v[1] = 0;
  const attrs: AdamAttrs = {
    learningRate: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    biasCorrection1: 1 - 0.9 ** 3,
    biasCorrection2: 1 - 0.999 ** 3,
  };
  const inputs = { value: tf.tensor1d(value), gradient: tf.tensor1d(gradient), m: tf.tensor1d(m), v: tf.tensor1d(v) };
  const alias = mode === 'shared value' ? tf.reshape(inputs.value, [n, 1]) : null;
  if (mode === 'programs') process.env.CATVAE_WEBGPU_ADAM = 'programs';
  // Read once on the GPU first: tfjs then caches a host copy, which an in-place write must drop.
  const touched = [inputs.value, inputs.m, inputs.v].map((x) => tf.add(x, 0));
  await Promise.all(touched.map((x) => x.data()));
  tf.dispose(touched);
  await Promise.all([inputs.value, inputs.m, inputs.v].map((x) => x.data()));
  const outs = tf.engine().runKernel(ADAM_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  delete process.env.CATVAE_WEBGPU_ADAM;
  const got = await Promise.all(outs.map((o) => o.data()));
  const want = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  adamUpdate(value, gradient, m, v, want[0], want[1], want[2], attrs);
  const inPlace = outs[0].dataId === inputs.value.dataId;
  const aliasUnchanged = alias ? relativeError(await alias.data(), value) === 0 : null;
  tf.dispose([...Object.values(inputs), ...outs, ...(alias ? [alias] : [])]);
  return { errors: got.map((g, i) => relativeError(g, want[i])), flushed: [got[1][0], got[2][0]], inPlace, aliasUnchanged };
}

for (const mode of ['in place', 'programs', 'shared value'] as const) {
  test(`WGSL Adam (${mode}) matches the reference update, subnormal moments flushed to zero`, async (t) => {
    if (!(await useWebGpu(t))) return;
    registerWebGpuKernels();
    const before = tf.memory().numTensors;
    const r = await adamOnWebGpu(mode);
    t.diagnostic(`rel. error value ${r.errors[0].toExponential(2)}, m ${r.errors[1].toExponential(2)}, v ${r.errors[2].toExponential(2)}`);
    r.errors.forEach((e, i) => assert.ok(e <= TOL, `output ${i}: rel. error ${e}`));
    assert.deepEqual(r.flushed, [0, 0], 'subnormal m and v flushed');
    // In place (one dispatch) only when no other tensor shares the data; a shared value is left as it was.
    assert.equal(r.inPlace, mode === 'in place');
    if (mode === 'shared value') assert.equal(r.aliasUnchanged, true, 'the tensor sharing the value was not written');
    assert.equal(tf.memory().numTensors, before, 'tensors left');
  });
}

test('the kernels take the same inputs as the wasm ones and refuse mismatched ones in one line', async (t) => {
  if (!(await useWebGpu(t))) return;
  registerWebGpuKernels();
  const [a, b] = [tf.ones([4, 10]), tf.ones([4, 9])];
  assert.throws(
    () => tf.engine().runKernel('CatvaeReluGradient', { dy: a, x: b }, {}),
    /^Error: CatvaeReluGradient: expected float32 inputs of the same size/,
  );
  tf.dispose([a, b]);
});
