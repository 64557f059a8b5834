/**
 * Gumbel(0, 1) noise as a named op: uniforms drawn on the host (seeded, so
 * runs reproduce), the two logs g = -log(-log u) taken on the backend. A
 * backend plug-in may register one kernel for the two logs
 * (GUMBEL_NOISE_KERNEL; src/wasm/step_kernels.ts does).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random.js';
import { runOp } from './dispatch.js';

/** Name of the optional kernel that turns uniforms u into -log(-log(u)) in one pass. */
export const GUMBEL_NOISE_KERNEL = 'CatvaeGumbelNoise';

/** Floor of -log(u): the value it takes at u = 1 - 2^-24 in float32. */
const MIN_EXPONENTIAL = 5.9604645e-8;
/** Backends whose log is a GPU shader's, of limited accuracy. */
const SHADER_BACKENDS = new Set(['webgpu', 'webgl']);

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

/** -log(-log(u)) for uniforms u in the open (0, 1): the op. */
export function gumbelFromUniform(u: tf.Tensor): tf.Tensor {
  return runOp(GUMBEL_NOISE_KERNEL, { u }, {}, () => {
    const e = tf.neg(tf.log(u));
    // -log(u) >= 6e-8 with a correctly rounded log (cpu, wasm, libtensorflow); a
    // shader's log may err by 2^-21 near 1 and give 0 or less (g = +Inf or NaN).
    return tf.neg(tf.log(SHADER_BACKENDS.has(tf.getBackend()) ? tf.maximum(e, MIN_EXPONENTIAL) : e));
  });
}

/**
 * A tensor of Gumbel(0, 1) noise: uniforms drawn on the host, the two logs
 * taken on the backend (the host's Math.log was most of the cost). Finite:
 * g lies in [-2.8, 16.7]; the tails cut off have probability < 1e-7.
 */
export function sampleGumbel(shape: number[], rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => gumbelFromUniform(tf.tensor(openUniformFloat32(size, rng), shape, 'float32')));
}
