/**
 * The maths of the Gumbel-Softmax (Concrete) relaxation, as pure functions so
 * each piece can be tested alone (Jang et al. 2017; Maddison et al. 2017).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random.js';

/** Standard Gumbel(0, 1) draws g = -log(-log(u)), u uniform on the open (0, 1), in float64 on the host. */
export function gumbelNoiseValues(size: number, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  // u is formed in float64 and never reaches 0 or 1, so g is always finite
  // (|g| < 23); rounding to float32 happens only on the result.
  for (let i = 0; i < size; i++) out[i] = -Math.log(-Math.log(rng.nextOpen01()));
  return out;
}

/**
 * Uniforms on the open (0, 1) that float32 holds exactly: (2m + 1) / 2^24 for
 * a 23-bit m, so the smallest is 2^-24 and the largest 1 - 2^-24 (a float64
 * uniform rounded to float32 could become exactly 1).
 */
export function openUniformFloat32(size: number, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = ((rng.nextUint32() >>> 9) * 2 + 1) / 16777216;
  return out;
}

/**
 * Name of an optional kernel that turns uniforms u into -log(-log(u)) in one
 * pass; a backend that registers one (catvae's wasm speed-ups do) runs it
 * instead of the two logs below.
 */
export const GUMBEL_NOISE_KERNEL = 'CatvaeGumbelNoise';

/**
 * A tensor of Gumbel(0, 1) noise: uniforms drawn on the host, the two logs
 * taken on the backend (the host's Math.log was most of the cost). Finite:
 * g lies in [-2.8, 16.7]; the tails cut off have probability < 1e-7.
 */
export function sampleGumbel(shape: number[], rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    const u = tf.tensor(openUniformFloat32(size, rng), shape, 'float32');
    if (tf.getKernel(GUMBEL_NOISE_KERNEL, tf.getBackend())) return tf.engine().runKernel(GUMBEL_NOISE_KERNEL, { u }, {}) as tf.Tensor;
    const e = tf.neg(tf.log(u));
    // -log(u) >= 6e-8 with a correctly rounded log (cpu, wasm, libtensorflow); a
    // shader's log may err by 2^-21 near 1 and give 0 or less (g = +Inf or NaN).
    return tf.neg(tf.log(SHADER_BACKENDS.has(tf.getBackend()) ? tf.maximum(e, MIN_EXPONENTIAL) : e));
  });
}

/** Floor of -log(u): the value it takes at u = 1 - 2^-24 in float32. */
const MIN_EXPONENTIAL = 5.9604645e-8;
/** Backends whose log is a GPU shader's, of limited accuracy. */
const SHADER_BACKENDS = new Set(['webgpu', 'webgl']);

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
 */
export function oneHotArgmax(x: tf.Tensor, axis = -1): tf.Tensor {
  return alongAxis(x, axis, (t) => {
    const k = t.shape[t.rank - 1];
    // tf.oneHot needs depth >= 2; built as int32 and cast: tfjs-wasm 4.22's OneHot writes int bits into float32 outputs.
    const hot = k === 1 ? tf.onesLike(t) : tf.cast(tf.oneHot(tf.argMax(t, -1), k), 'float32');
    const bad = tf.logicalOr(tf.any(tf.isNaN(t), -1, true), tf.equal(tf.max(t, -1, true), -Infinity));
    return tf.add(hot, tf.where(bad, tf.fill(bad.shape, Number.NaN), tf.zeros(bad.shape)));
  });
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
