/**
 * The layer's noise streams: Gumbel noise of the stream (seed, ...keys) from
 * one of two generators, so that a training call's noise depends only on the
 * seed and the call's index (exact resume, and the same draws on every backend).
 */
import type * as tf from '@tensorflow/tfjs';
import { counterGumbel, sampleGumbel } from '../ops/gumbel_noise.js';
import { philoxKey } from '../ops/philox.js';
import { Rng } from '../random.js';

/**
 * 'philox': counter-based (a GPU draws it itself, and every backend draws the
 * same uniforms); 'sfc32': drawn on the host, the stream of layers saved
 * before the option existed.
 */
export type NoiseGenerator = 'philox' | 'sfc32';
export const NOISE_GENERATORS: readonly NoiseGenerator[] = ['philox', 'sfc32'];

export function isNoiseGenerator(value: unknown): value is NoiseGenerator {
  return NOISE_GENERATORS.includes(value as NoiseGenerator);
}

/** Gumbel(0, 1) noise of `shape` from the stream (seed, ...keys) of `generator`. */
export function streamGumbel(generator: NoiseGenerator, shape: number[], seed: number, ...keys: number[]): tf.Tensor {
  return generator === 'philox' ? counterGumbel(shape, philoxKey(seed, ...keys)) : sampleGumbel(shape, new Rng(seed, ...keys));
}
