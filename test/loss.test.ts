import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { bernoulliNll, categoricalKlToUniform, logMeanExp, negativeElbo } from '../src/model/loss.js';

await useTestBackend();

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('KL to the uniform prior: 0 for uniform q, log K for one-hot q, per variable and summed', () => {
  const k = 10;
  const uniform = tf.zeros([2, 3, k]) as tf.Tensor3D;
  categoricalKlToUniform(uniform)
    .dataSync()
    .forEach((v) => close(v, 0, 1e-5, 'KL of uniform q'));
  // Logits of -100 give q_k ~ 4e-44 for the others: q log q must stay finite (no 0 * -inf).
  const oneHotLogits = tf.tidy(() =>
    tf
      .oneHot(
        [
          [1, 4, 9],
          [0, 0, 2],
        ],
        k,
      )
      .cast('float32')
      .sub(1)
      .mul(100),
  ) as tf.Tensor3D;
  categoricalKlToUniform(oneHotLogits)
    .dataSync()
    .forEach((v) => close(v, 3 * Math.log(k), 1e-4, 'KL of one-hot q'));
  // A hand computation: q = softmax([0, ln 3]) = [1/4, 3/4], KL = 1/4 ln(1/4) + 3/4 ln(3/4) + ln 2.
  const q = tf.tensor3d([[[0, Math.log(3)]]]);
  close(categoricalKlToUniform(q).dataSync()[0], 0.25 * Math.log(0.25) + 0.75 * Math.log(0.75) + Math.log(2), 1e-6, 'KL by hand');
});

test('Bernoulli NLL matches -[x log s(z) + (1-x) log(1-s(z))], and stays finite for large logits', () => {
  const z = [-30, -3, -0.5, 0, 0.7, 4, 30];
  const x = [0, 1, 1, 0, 1, 0, 1];
  const direct = z.reduce((acc, zi, i) => {
    const s = 1 / (1 + Math.exp(-zi));
    return acc - (x[i] * Math.log(s) + (1 - x[i]) * Math.log(1 - s));
  }, 0);
  const got = bernoulliNll(tf.tensor2d([x]), tf.tensor2d([z])).dataSync()[0];
  close(got, direct, 1e-4 * direct, 'BCE');
  const extreme = bernoulliNll(tf.tensor2d([[1, 0]]), tf.tensor2d([[-1000, 1000]])).dataSync()[0];
  close(extreme, 2000, 1e-3, 'BCE at |z| = 1000');
});

test('negative ELBO = batch mean of recon + KL', () => {
  const x = tf.tensor2d([
    [1, 0, 1],
    [0, 0, 1],
  ]);
  const xLogits = tf.tensor2d([
    [2, -1, 0.5],
    [0, -3, 1],
  ]);
  const qLogits = tf.tensor3d([[[0, 1]], [[2, -2]]]);
  const { loss, recon, kl } = negativeElbo(x, xLogits, qLogits);
  const r = bernoulliNll(x, xLogits).mean().dataSync()[0];
  const k = categoricalKlToUniform(qLogits).mean().dataSync()[0];
  close(recon.dataSync()[0], r, 1e-6, 'recon');
  close(kl.dataSync()[0], k, 1e-6, 'kl');
  close(loss.dataSync()[0], r + k, 1e-5, 'loss');
  assert.ok(k > 0);
});

test('logMeanExp is stable for large values and for rows of -Infinity', () => {
  const direct = Math.log((Math.exp(1) + Math.exp(2) + Math.exp(-1)) / 3);
  close(logMeanExp(tf.tensor1d([1, 2, -1])).dataSync()[0], direct, 1e-6, 'small values');
  const big = logMeanExp(
    tf.tensor2d([
      [1000, 1001],
      [-1000, -1001],
    ]),
    1,
  ).dataSync();
  close(big[0], 1000 + Math.log((1 + Math.E) / 2), 1e-3, 'large values');
  close(big[1], -1000 + Math.log((1 + Math.exp(-1)) / 2), 1e-3, 'large negative values');
  const masked = logMeanExp(
    tf.tensor2d([
      [-Infinity, -Infinity],
      [0, -Infinity],
    ]),
    1,
  ).dataSync();
  assert.equal(masked[0], -Infinity);
  close(masked[1], Math.log(0.5), 1e-6, 'one -Infinity');
  const axis0 = logMeanExp(
    tf.tensor2d([
      [0, 10],
      [0, 10],
    ]),
    0,
  ).dataSync();
  assert.deepEqual(
    Array.from(axis0).map((v) => Math.round(v * 1e4) / 1e4),
    [0, 10],
  );
});
