/**
 * The op oneHotArgmaxLast (src/ops/one_hot_argmax.ts) and its wasm kernel
 * (src/wasm/one_hot_argmax.ts): the same values as the op's plain tfjs
 * composition (the kernel unregistered), NaN / -Infinity / +Infinity rows,
 * one class and other ranks included.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { oneHotArgmaxLast, ONE_HOT_ARGMAX_KERNEL } from '../src/ops/one_hot_argmax.js';
import { registerOneHotArgmaxKernel } from '../src/wasm/one_hot_argmax.js';

await useTestBackend();

/** The op's values with its kernel, and with its plain composition (the kernel unregistered meanwhile). */
function bothWays(x: tf.Tensor): { kernel: number[]; plain: number[] } {
  const backend = tf.getBackend();
  const kernel = oneHotArgmaxLast(x);
  const had = tf.getKernel(ONE_HOT_ARGMAX_KERNEL, backend) != null;
  if (had) tf.unregisterKernel(ONE_HOT_ARGMAX_KERNEL, backend);
  const plain = oneHotArgmaxLast(x);
  if (had) registerOneHotArgmaxKernel();
  const out = { kernel: Array.from(kernel.dataSync()), plain: Array.from(plain.dataSync()) };
  assert.deepEqual(kernel.shape, x.shape);
  tf.dispose([kernel, plain]);
  return out;
}

test(`${ONE_HOT_ARGMAX_KERNEL}: the kernel gives the plain composition's values, special rows and shapes included`, () => {
  assert.ok(tf.getBackend() !== 'wasm' || tf.getKernel(ONE_HOT_ARGMAX_KERNEL, 'wasm'), 'the wasm plug-in registers the kernel');
  const random = tf.randomNormal([5, 20, 7], 0, 3, 'float32', 2);
  const special = tf.tensor2d([
    [0, Number.NaN, 1],
    [-Infinity, -Infinity, -Infinity],
    [0, -Infinity, 30],
    [Infinity, 1, Infinity],
    [2, 2, 1],
    [-1e30, -Infinity, -2e30],
  ]);
  const cases: Array<[string, tf.Tensor]> = [
    ['random [5, 20, 7]', random],
    ['special rows', special],
    ['one class [3, 4, 1]', tf.tensor3d([1, Number.NaN, -Infinity, 0, 5, 6, 7, 8, 9, 10, 11, 12], [3, 4, 1])],
  ];
  for (const [what, x] of cases) {
    const { kernel, plain } = bothWays(x);
    assert.deepEqual(kernel, plain, what);
  }
  const { kernel } = bothWays(special);
  const rows = [0, 1, 2, 3, 4, 5].map((r) => kernel.slice(3 * r, 3 * r + 3));
  assert.ok(rows[0].every(Number.isNaN) && rows[1].every(Number.isNaN), 'NaN and all -Infinity rows give NaN rows');
  assert.deepEqual(rows.slice(2), [
    [0, 0, 1],
    [1, 0, 0],
    [1, 0, 0],
    [1, 0, 0],
  ]);
  tf.dispose(cases.map(([, x]) => x));
});
