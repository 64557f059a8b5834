/**
 * The mathematical core on every backend (cpu, wasm, and webgpu where an
 * adapter exists), each against a float64 reference: the named ops of
 * src/ops (which run wasm kernels on wasm and their plain-tfjs composition
 * elsewhere), the loss, and the Gumbel-Softmax layer's sampling and
 * gradients. Tolerances: float32 rounding on cpu and wasm; 100x that on
 * webgpu, whose exp and log are shader approximations.
 */
import { it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { describeBackends, type TestBackend } from './helpers/backends.js';
import { byRows, latentReference, matMul, softmaxRow, softplus, transpose, worstRelative } from './helpers/float64.js';
import {
  bernoulliGradient,
  latentGradient,
  relaxedSoftmax,
  reluGradient,
  BERNOULLI_GRADIENT_KERNEL,
  LATENT_GRADIENT_KERNEL,
  RELAXED_SOFTMAX_KERNEL,
  RELU_GRADIENT_KERNEL,
} from '../src/ops/step_ops.js';
import { gumbelFromUniform, openUniformFloat32, GUMBEL_NOISE_KERNEL } from '../src/ops/gumbel_noise.js';
import { philoxKey, philoxUniforms } from '../src/ops/philox.js';
import { sparseInputDense, sparseInputKernelGrad, SPARSE_DENSE_GRAD_KERNEL, SPARSE_DENSE_KERNEL } from '../src/ops/sparse_dense.js';
import { ADAM_KERNEL, fusedAdam } from '../src/ops/adam.js';
import { hasKernel } from '../src/ops/dispatch.js';
import { bernoulliNll, categoricalKlToUniform } from '../src/model/loss.js';
import { gumbelSoftmax } from '../src/layers/gumbel_softmax.js';
import { Rng } from '../src/random.js';

const scaleOf = (backend: TestBackend) => (backend === 'webgpu' ? 100 : 1);
const read = async (t: tf.Tensor) => Array.from(await t.data());
const uniforms = (n: number, seed: number, lo = -1, hi = 1) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * rng.nextOpen01());
};

await describeBackends('named ops against float64', (backend) => {
  const s = scaleOf(backend);
  // Sizes that are not multiples of the SIMD width, so the kernels' scalar tails run too.
  const [rows, k, tau, w] = [37, 10, 0.6, 0.01];

  it('each op runs its one kernel where the backend has one (every op on wasm, none on cpu), else the plain tfjs ops', async () => {
    const [a, b] = [tf.ones([4, k]), tf.ones([4, k])];
    const [m, u] = [tf.ones([4, 8]) as tf.Tensor2D, tf.fill([4, k], 0.5)];
    const [w8, bias, dy] = [tf.ones([8, 16]) as tf.Tensor2D, tf.ones([16]) as tf.Tensor1D, tf.ones([4, 16]) as tf.Tensor2D];
    const ops: Array<[string, () => tf.TensorContainer]> = [
      [RELAXED_SOFTMAX_KERNEL, () => relaxedSoftmax(a, b, tau, k)],
      [LATENT_GRADIENT_KERNEL, () => latentGradient(a, b, a, tau, k, w)],
      [RELU_GRADIENT_KERNEL, () => reluGradient(a, b)],
      [BERNOULLI_GRADIENT_KERNEL, () => bernoulliGradient(a, b, 1)],
      [GUMBEL_NOISE_KERNEL, () => gumbelFromUniform(u)],
      [SPARSE_DENSE_KERNEL, () => sparseInputDense(m, w8, bias, 'relu')],
      [SPARSE_DENSE_GRAD_KERNEL, () => sparseInputKernelGrad(m, dy)],
    ];
    for (const [name, op] of ops) {
      const registered = hasKernel(name);
      // wasm: the speed path must trigger; cpu: the plain ops; another backend may have its own kernels.
      if (backend !== 'webgpu') assert.equal(registered, backend === 'wasm', `${name}: a kernel registered on ${backend}`);
      const { kernelNames } = await tf.profile(op);
      if (registered) assert.deepEqual(kernelNames, [name], `${name}: its kernel alone`);
      else assert.ok(!kernelNames.includes(name) && kernelNames.length > 0, `${name}: plain tfjs ops, got ${kernelNames.join(', ')}`);
    }
    // The fused Adam has a JS kernel for cpu too (src/ops/adam.ts), registered by the optimizer.
    const optimizer = fusedAdam(0.1);
    if (backend !== 'webgpu') assert.ok(hasKernel(ADAM_KERNEL), `Adam: a kernel registered on ${backend}`);
    const [v, g] = [tf.variable(tf.ones([8]), true, `adam_kernel_${backend}`), tf.ones([8])];
    const { kernelNames } = await tf.profile(() => optimizer.applyGradients([{ name: v.name, tensor: g }]));
    assert.equal(kernelNames.includes(ADAM_KERNEL), hasKernel(ADAM_KERNEL), `Adam: ${kernelNames.join(', ')}`);
    tf.dispose([a, b, m, u, w8, bias, dy, v, g]);
    optimizer.dispose();
  });

  it('relaxedSoftmax and latentGradient', async () => {
    const [l, g, dy] = [uniforms(rows * k, 1, -4, 4), uniforms(rows * k, 2, -2, 2), uniforms(rows * k, 3)];
    const ref = latentReference(l, g, dy, k, tau, w);
    const [lt, gt, dyt] = [l, g, dy].map((a) => tf.tensor2d(a, [rows, k]));
    const y = relaxedSoftmax(lt, gt, tau, k);
    assert.ok(worstRelative(await read(y), ref.y, 1e-6) < 2e-5 * s, 'relaxedSoftmax');
    const grad = latentGradient(dyt, y, lt, tau, k, w);
    const worst = worstRelative(await read(grad), ref.grad, 1);
    assert.ok(worst < 1e-6 * s, `latentGradient off by ${worst}`);
    tf.dispose([lt, gt, dyt, y, grad]);
  });

  it('reluGradient (exact) and bernoulliGradient', async () => {
    const n = 1001;
    const [x, dy, z] = [uniforms(n, 4), uniforms(n, 5), uniforms(n, 6, -30, 30)];
    const target = uniforms(n, 7, 0, 1).map((u) => (u < 0.3 ? 1 : 0));
    const relu = reluGradient(tf.tensor1d(dy), tf.tensor1d(x));
    // (+ 0: the plain composition dy * step(x) gives -0 where the kernel gives 0.)
    assert.deepEqual(
      (await read(relu)).map((v) => v + 0),
      dy.map((d, i) => (x[i] > 0 ? Math.fround(d) : 0)),
    );
    const bern = bernoulliGradient(tf.tensor1d(z), tf.tensor1d(target), 0.25);
    const want = z.map((zi, i) => (1 / (1 + Math.exp(-zi)) - target[i]) * 0.25);
    const worst = worstRelative(await read(bern), want, 0.25);
    assert.ok(worst < 1e-6 * s, `bernoulliGradient off by ${worst}`);
    tf.dispose([relu, bern]);
  });

  it('gumbelFromUniform: -log(-log u)', async () => {
    const u = openUniformFloat32(999, new Rng(8));
    // A shader's log errs by ~2^-21 near 1, where -log u is tiny: webgpu is checked away from there.
    const keep = Array.from(u, (x) => backend !== 'webgpu' || x < 0.999);
    const g = await read(gumbelFromUniform(tf.tensor1d(u)));
    const want = Array.from(u, (x) => -Math.log(-Math.log(x)));
    const worst = worstRelative(
      g.filter((_, i) => keep[i]),
      want.filter((_, i) => keep[i]),
      1,
    );
    assert.ok(worst < 1e-6 * s, `off by ${worst}`);
  });

  it('sparseInputDense and sparseInputKernelGrad, on binary and dense inputs', async () => {
    const [m, d, n] = [9, 70, 32];
    for (const binary of [true, false]) {
      const x = uniforms(m * d, 9, 0, 1).map((u) => (binary ? (u < 0.15 ? 1 : 0) : u));
      const [wv, b, dy] = [uniforms(d * n, 10), uniforms(n, 11), uniforms(m * n, 12)];
      const xt = tf.tensor2d(x, [m, d]);
      const y = sparseInputDense(xt, tf.tensor2d(wv, [d, n]), tf.tensor1d(b), 'relu');
      const want = matMul(x, wv, m, d, n).map((v, i) => Math.max(0, v + b[i % n]));
      assert.ok(worstRelative(await read(y), want, 1) < 1e-5 * s, `layer (${binary ? 'binary' : 'dense'})`);
      const dw = sparseInputKernelGrad(xt, tf.tensor2d(dy, [m, n]));
      const wantDw = matMul(transpose(x, m, d), dy, d, m, n);
      assert.ok(worstRelative(await read(dw), wantDw, 1) < 1e-5 * s, `weight gradient (${binary ? 'binary' : 'dense'})`);
    }
  });

  it('FusedAdamOptimizer: three steps against float64 Adam', async () => {
    const n = 103;
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-7];
    const init = uniforms(n, 13);
    const grads = [14, 15, 16].map((seed) => uniforms(n, seed));
    const v = tf.variable(tf.tensor1d(init), true, `adam_check_${backend}`);
    const optimizer = fusedAdam(lr, b1, b2, eps);
    for (const g of grads) optimizer.applyGradients([{ name: v.name, tensor: tf.tensor1d(g) }]);
    const value = init.slice();
    const [m1, m2] = [new Array<number>(n).fill(0), new Array<number>(n).fill(0)];
    grads.forEach((g, t) => {
      for (let i = 0; i < n; i++) {
        m1[i] = b1 * m1[i] + (1 - b1) * g[i];
        m2[i] = b2 * m2[i] + (1 - b2) * g[i] * g[i];
        value[i] -= (lr * (m1[i] / (1 - b1 ** (t + 1)))) / (Math.sqrt(m2[i] / (1 - b2 ** (t + 1))) + eps);
      }
    });
    const worst = worstRelative(await read(v), value, 1);
    assert.ok(worst < 1e-6 * s, `off by ${worst}`);
    optimizer.dispose();
    v.dispose();
  });
});

await describeBackends('loss against float64', (backend) => {
  const s = scaleOf(backend);

  it('bernoulliNll: sum of softplus(z) - x z per image, at large |z| too', async () => {
    const [b, d] = [5, 301];
    const z = uniforms(b * d, 20, -40, 40);
    const x = uniforms(b * d, 21, 0, 1).map((u) => (u < 0.2 ? 1 : 0));
    const got = await read(bernoulliNll(tf.tensor2d(x, [b, d]), tf.tensor2d(z, [b, d])));
    const want = byRows(z, d, (row, base) => [row.reduce((acc, zi, j) => acc + softplus(zi) - x[base + j] * zi, 0)]);
    assert.ok(worstRelative(got, want, 1) < 1e-5 * s, 'bernoulliNll');
  });

  it('categoricalKlToUniform: sum over variables of KL(softmax || uniform)', async () => {
    const [b, n, k] = [4, 7, 10];
    const l = uniforms(b * n * k, 22, -5, 5);
    const got = await read(categoricalKlToUniform(tf.tensor3d(l, [b, n, k])));
    const perVariable = byRows(l, k, (row) => {
      const q = softmaxRow(row);
      return [q.reduce((acc, qj) => acc + qj * Math.log(qj), 0) + Math.log(k)];
    });
    const want = byRows(perVariable, n, (row) => [row.reduce((p, q) => p + q, 0)]);
    assert.ok(worstRelative(got, want, 0.1) < 1e-5 * s, 'categoricalKlToUniform');
  });
});

await describeBackends('Gumbel-Softmax layer against float64', (backend) => {
  const s = scaleOf(backend);
  const [rows, k, tau, seed] = [6, 7, 0.6, 21];
  const logits = uniforms(rows * k, 30, -2, 2);
  const w = uniforms(rows * k, 31);
  // The layer's first call draws from the Philox stream (seed, 0): the same uniforms, logs in float64.
  const u = philoxUniforms(rows * k, philoxKey(seed, 0));
  const y = byRows(logits, k, (row, base) => softmaxRow(row.map((l, j) => (l - Math.log(-Math.log(u[base + j]))) / tau)));
  // d/dlogits of sum(w y): y (w - sum_k w y) / tau, the soft gradient (also the straight-through one).
  const grad = byRows(y, k, (row, base) => {
    const wy = row.reduce((p, yj, j) => p + w[base + j] * yj, 0);
    return row.map((yj, j) => (yj * (w[base + j] - wy)) / tau);
  });

  for (const hard of [false, true]) {
    it(`${hard ? 'hard (straight-through)' : 'soft'} samples and their gradient`, async () => {
      const layer = gumbelSoftmax({ temperature: tau, seed, hard });
      const x = tf.tensor2d(logits, [rows, k]);
      const weights = tf.tensor2d(w, [rows, k]);
      const sample = () => {
        layer.noiseState = { seed, calls: 0 };
        return layer.apply(x, { training: true }) as tf.Tensor;
      };
      const got = await read(sample());
      const want = hard ? byRows(y, k, (row) => row.map((v) => (v === Math.max(...row) ? 1 : 0))) : y;
      assert.ok(worstRelative(got, want, 1e-3) < 1e-5 * s, 'samples');
      const g = tf.grad((t: tf.Tensor) => {
        layer.noiseState = { seed, calls: 0 };
        return (layer.apply(t, { training: true }) as tf.Tensor).mul(weights).sum();
      })(x);
      const worst = worstRelative(await read(g), grad, 0.1);
      assert.ok(worst < 1e-5 * s, `gradient off by ${worst}`);
    });
  }
});
