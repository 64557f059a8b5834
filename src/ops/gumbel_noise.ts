/**
 * Gumbel(0, 1) noise as named ops, seeded so that runs reproduce:
 * - sampleGumbel: uniforms from a host generator (sfc32, sequential), the two
 *   logs g = -log(-log u) taken on the backend (GUMBEL_NOISE_KERNEL; the
 *   wasm and webgpu plug-ins register it);
 * - counterGumbel: uniforms from the counter-based Philox stream of a key
 *   (src/ops/philox.ts), which a kernel (COUNTER_GUMBEL_KERNEL: WGSL in
 *   src/webgpu, SIMD wasm in src/wasm) draws itself, with no upload;
 *   elsewhere the host computes the same uniforms bit for bit and the logs
 *   run as above.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random.js';
import { runOp } from './dispatch.js';
import { openUniformOfWord, philoxUniforms, type PhiloxKey } from './philox.js';

/** Name of the optional kernel that turns uniforms u into -log(-log(u)) in one pass. */
export const GUMBEL_NOISE_KERNEL = 'CatvaeGumbelNoise';
/** Name of the optional kernel that draws counter-based Philox noise on the backend (attrs CounterNoiseAttrs, no inputs). */
export const COUNTER_GUMBEL_KERNEL = 'CatvaeCounterGumbel';

/** The attributes of COUNTER_GUMBEL_KERNEL: the stream's key words, the shape, and whether to stop at the uniforms. */
export interface CounterNoiseAttrs {
  key0: number;
  key1: number;
  shape: number[];
  /** true: the open uniforms u themselves; false: Gumbel draws -log(-log u). */
  uniform: boolean;
}

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
  for (let i = 0; i < size; i++) out[i] = openUniformOfWord(rng.nextUint32());
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
  return tf.tidy(() => gumbelFromUniform(tf.tensor(openUniformFloat32(size(shape), rng), shape, 'float32')));
}

function counterNoise(shape: number[], key: PhiloxKey, uniform: boolean): tf.Tensor {
  const attrs: CounterNoiseAttrs = { key0: key[0] >>> 0, key1: key[1] >>> 0, shape: [...shape], uniform };
  return runOp(COUNTER_GUMBEL_KERNEL, {}, attrs as unknown as tf.NamedAttrMap, () => {
    const u = tf.tensor(philoxUniforms(size(shape), key), shape, 'float32');
    return uniform ? u : gumbelFromUniform(u);
  });
}

/**
 * The open uniforms of the Philox stream `key` as a tensor of `shape`: element
 * i is word i % 4 of block floor(i / 4), made exactly as openUniformFloat32
 * makes its values; bit-identical on every backend.
 */
export function counterUniform(shape: number[], key: PhiloxKey): tf.Tensor {
  return counterNoise(shape, key, true);
}

/**
 * Gumbel(0, 1) noise of `shape` from the Philox stream `key`: -log(-log u) of
 * counterUniform(shape, key). On webgpu one dispatch draws and transforms
 * (nothing uploaded); the draws then differ from the host's only by the
 * shader's log (a few ulps).
 */
export function counterGumbel(shape: number[], key: PhiloxKey): tf.Tensor {
  return counterNoise(shape, key, false);
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
