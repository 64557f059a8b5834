/**
 * What the page asks of the VAE, on plain arrays: q(z|x) of one image, the
 * chosen code (argmax, or an exact sample of q by Gumbel-max), and decodes
 * of codes given as class indices, on catvae's browser-safe entry, on plain
 * arrays that the page's panels share.
 */
import * as tf from '@tensorflow/tfjs';
import { gumbelNoiseValues, Rng, type CategoricalVae } from '../../index.js';

export interface Posterior {
  /** q(z|x) logits and probabilities, [N * K], variable after variable. */
  logits: Float32Array;
  probs: Float32Array;
}

/** Logits and probabilities of q(z|x) for one image of D pixels. */
export async function posterior(model: CategoricalVae, pixels: Float32Array): Promise<Posterior> {
  const { inputDim: d, latentVars: n, categories: k } = model.config;
  const [logits, probs] = tf.tidy(() => {
    const l = (model.encoder.apply(tf.tensor2d(pixels, [1, d])) as tf.Tensor).reshape([n, k]);
    return [l, tf.softmax(l)];
  });
  const [a, b] = await Promise.all([logits.data(), probs.data()]);
  tf.dispose([logits, probs]);
  return { logits: a as Float32Array, probs: b as Float32Array };
}

/** The argmax class of each of the n variables. */
export function argmaxCode(logits: Float32Array, n: number, k: number): Int32Array {
  const code = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[v * k + c] > logits[v * k + best]) best = c;
    code[v] = best;
  }
  return code;
}

/** An exact sample of q(z|x): the argmax of logits plus Gumbel noise (the Gumbel-max trick). */
export function sampleCode(logits: Float32Array, n: number, k: number, seed: number): Int32Array {
  const noise = gumbelNoiseValues(n * k, new Rng(seed, 1));
  return argmaxCode(
    logits.map((l, i) => l + noise[i]),
    n,
    k,
  );
}

/** Decodes codes given as class indices ([count * N], code after code): pixel probabilities [count * D]. */
export async function decodeCodes(model: CategoricalVae, codes: Int32Array): Promise<Float32Array> {
  const { latentVars: n, categories: k } = model.config;
  const count = codes.length / n;
  const out = tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(codes, 'int32'), k).cast('float32').reshape([count, n, k]);
    return tf.sigmoid(model.decoder.apply(oneHot) as tf.Tensor);
  });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

/** The K codes equal to `base` except variable v, which takes each class in turn: [K * N]. */
export function traversalCodes(base: Int32Array, v: number, k: number): Int32Array {
  const n = base.length;
  const codes = new Int32Array(k * n);
  for (let c = 0; c < k; c++) {
    codes.set(base, c * n);
    codes[c * n + v] = c;
  }
  return codes;
}

/** `count` codes drawn from the uniform prior p(z). */
export function priorCodes(count: number, n: number, k: number, seed: number): Int32Array {
  const rng = new Rng(seed, 2);
  return Int32Array.from({ length: count * n }, () => rng.nextInt(k));
}

/** Argmax codes of many images at once ([count * N]), in batches: for the code-usage chart. */
export async function argmaxCodesOf(model: CategoricalVae, images: Float32Array, count: number, batch = 250): Promise<Int32Array> {
  const { inputDim: d, latentVars: n, categories: k } = model.config;
  const out = new Int32Array(count * n);
  for (let start = 0; start < count; start += batch) {
    const b = Math.min(batch, count - start);
    const indices = tf.tidy(() =>
      tf.argMax(
        (model.encoder.apply(tf.tensor2d(images.subarray(start * d, (start + b) * d), [b, d])) as tf.Tensor).reshape([b, n, k]),
        -1,
      ),
    );
    out.set((await indices.data()) as Int32Array, start * n);
    indices.dispose();
  }
  return out;
}
