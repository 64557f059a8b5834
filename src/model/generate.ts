/**
 * What a trained VAE produces: codes of images, images of codes, samples of
 * the prior. Images are Bernoulli means (sigmoid of the decoder's logits),
 * the usual way to show a binary VAE's output.
 */
import * as tf from '@tensorflow/tfjs';
import { oneHotArgmax, sampleGumbel } from '../layers/gumbel_noise.js';
import { Rng } from '../random.js';
import { encoderLogits } from './fast_step.js';
import type { CategoricalVae } from './vae.js';

/** q(z|x) logits [b, N, K] of images [b, D] (the encoder, its first layer on the sparse path). */
export function encode(model: CategoricalVae, x: tf.Tensor2D): tf.Tensor3D {
  const { latentVars: n, categories: k } = model.config;
  return tf.tidy(() => tf.reshape(encoderLogits(model, x), [x.shape[0], n, k]) as tf.Tensor3D);
}

/** Codes [b, N, K] from logits: the mode of q, or exact one-hot samples of q (seeded). */
export function codesOf(logits: tf.Tensor3D, mode: 'argmax' | 'sample', seed = 0): tf.Tensor3D {
  return tf.tidy(() =>
    mode === 'argmax'
      ? (oneHotArgmax(logits) as tf.Tensor3D)
      : (oneHotArgmax(logits.add(sampleGumbel(logits.shape, new Rng(seed, 1)))) as tf.Tensor3D),
  );
}

/** Pixel probabilities [b, D] of codes [b, N, K]. */
export function decode(model: CategoricalVae, codes: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => tf.sigmoid(model.decoder.apply(codes) as tf.Tensor2D));
}

/** Class indices [b * N] of one-hot codes, as plain integers (read asynchronously: webgpu has no synchronous read in Node). */
export async function codeIndices(codes: tf.Tensor3D): Promise<Int32Array> {
  const indices = tf.tidy(() => tf.argMax(codes, -1));
  try {
    return (await indices.data()) as Int32Array;
  } finally {
    indices.dispose();
  }
}

/** One-hot codes [count, N, K] with every class drawn uniformly: the prior p(z). */
export function samplePriorCodes(model: CategoricalVae, count: number, seed: number): tf.Tensor3D {
  const { latentVars: n, categories: k } = model.config;
  const rng = new Rng(seed, 2);
  const indices = Int32Array.from({ length: count * n }, () => rng.nextInt(k));
  return tf.tidy(() => tf.oneHot(tf.tensor1d(indices, 'int32'), k).cast('float32').reshape([count, n, k]) as tf.Tensor3D);
}

/** Pixel probabilities of `count` samples from the prior. */
export function samplePrior(model: CategoricalVae, count: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => decode(model, samplePriorCodes(model, count, seed)));
}

/** Pixel probabilities of the reconstructions of x [b, D]. */
export function reconstruct(model: CategoricalVae, x: tf.Tensor2D, mode: 'argmax' | 'sample' = 'argmax', seed = 0): tf.Tensor2D {
  return tf.tidy(() => decode(model, codesOf(encode(model, x), mode, seed)));
}

/**
 * For one image: its argmax code with variable v set to class c, for every
 * v in 0..N-1 and c in 0..K-1, decoded: [N * K, D], row-major by variable.
 */
export async function traverseCodes(model: CategoricalVae, x: tf.Tensor2D): Promise<tf.Tensor2D> {
  const { latentVars: n, categories: k } = model.config;
  const argmax = tf.tidy(() => codesOf(encode(model, x.slice([0, 0], [1, -1])), 'argmax'));
  let base: Int32Array;
  try {
    base = await codeIndices(argmax);
  } finally {
    argmax.dispose();
  }
  const indices = new Int32Array(n * k * n);
  for (let v = 0; v < n; v++) {
    for (let c = 0; c < k; c++) {
      const row = (v * k + c) * n;
      indices.set(base, row);
      indices[row + v] = c;
    }
  }
  return tf.tidy(() => {
    const codes = tf
      .oneHot(tf.tensor1d(indices, 'int32'), k)
      .cast('float32')
      .reshape([n * k, n, k]) as tf.Tensor3D;
    return decode(model, codes);
  });
}
