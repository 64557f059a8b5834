/**
 * The maths of the Gumbel-Softmax (Concrete) relaxation, as pure functions so
 * each piece can be tested alone (Jang et al. 2017; Maddison et al. 2017).
 */
import * as tf from '@tensorflow/tfjs';
import { oneHotArgmaxLast } from '../ops/one_hot_argmax.js';
import { Rng } from '../random.js';

// The Gumbel noise op lives with the other named ops (src/ops); re-exported for the layer's users.
export { GUMBEL_NOISE_KERNEL, openUniformFloat32, sampleGumbel } from '../ops/gumbel_noise.js';

/** Standard Gumbel(0, 1) draws g = -log(-log(u)), u uniform on the open (0, 1), in float64 on the host. */
export function gumbelNoiseValues(size: number, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  // u is formed in float64 and never reaches 0 or 1, so g is always finite
  // (|g| < 23); rounding to float32 happens only on the result.
  for (let i = 0; i < size; i++) out[i] = -Math.log(-Math.log(rng.nextOpen01()));
  return out;
}

/** Normalises a possibly negative axis against a rank, or throws. */
export function normalizeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`axis ${axis} is out of range for input of rank ${rank}: use an integer in [${-rank}, ${rank - 1}]`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Applies a last-axis op along `axis` by moving that axis last and back. */
export function alongAxis(x: tf.Tensor, axis: number, fn: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  const a = normalizeAxis(axis, x.rank);
  if (a === x.rank - 1) return fn(x);
  const perm = [...Array(x.rank).keys()];
  perm[a] = x.rank - 1;
  perm[x.rank - 1] = a;
  // A swap of two axes is its own inverse.
  return tf.transpose(fn(tf.transpose(x, perm)), perm);
}

/** softmax along any axis (tf.softmax handles only the last). */
export function softmaxAlong(x: tf.Tensor, axis = -1): tf.Tensor {
  return alongAxis(x, axis, (t) => tf.softmax(t));
}

/**
 * one_hot(argmax(x)) along `axis`, as float32: exactly one 1 per slice, even
 * with ties. A slice holding NaN, or whose classes are all -Infinity (every
 * class masked: nothing can be drawn), gives a slice of NaN, as softmax does:
 * argMax alone would return a clean one-hot at class 0 and hide the bad input.
 * The named op oneHotArgmaxLast (src/ops/one_hot_argmax.ts) along the last axis.
 */
export function oneHotArgmax(x: tf.Tensor, axis = -1): tf.Tensor {
  return alongAxis(x, axis, oneHotArgmaxLast);
}

/** y = softmax((logits + g) / tau): the relaxed one-hot sample. */
export function relaxedOneHot(logits: tf.Tensor, noise: tf.Tensor, tau: number | tf.Tensor, axis = -1): tf.Tensor {
  return softmaxAlong(tf.div(tf.add(logits, noise), tau), axis);
}

/**
 * Straight-through estimator: the forward value is exactly one_hot(argmax(y)),
 * the backward pass is the identity, so the gradient is that of the soft y.
 */
export function straightThrough(soft: tf.Tensor, axis = -1): tf.Tensor {
  const st = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: oneHotArgmax(args[0] as tf.Tensor, axis),
    gradFunc: (dy: tf.Tensor) => dy,
  }));
  return st(soft);
}
