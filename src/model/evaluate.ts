/**
 * Test-set metrics: the negative ELBO with discrete one-hot samples from q
 * (what Jang et al. 2017 report), and the importance-weighted bound on
 * -log p(x) (Burda et al. 2016), which is tighter.
 */
import * as tf from '@tensorflow/tfjs';
import { oneHotArgmax, sampleGumbel } from '../layers/gumbel_noise.js';
import { Rng } from '../random.js';
import { bernoulliNll, categoricalKlToUniform, logMeanExp } from './loss.js';
import { encode } from './generate.js';
import type { CategoricalVae } from './vae.js';

export interface EvalOptions {
  /** Seed of the samples from q: the same seed, the same figures. */
  seed: number;
  /** Images per forward pass. */
  batchSize: number;
  /** Samples per image for the importance-weighted bound (0: skip it). */
  iwSamples: number;
  /** Most decoder rows in one pass of the IW bound: bounds memory. */
  maxRows: number;
  /** Called after each batch with the images done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Seed of the fixed test binarisation and of the test samples: every evaluation sees the same data. */
export const TEST_SEED = 1234;

export const DEFAULT_EVAL_OPTIONS: Readonly<EvalOptions> = Object.freeze({ seed: TEST_SEED, batchSize: 500, iwSamples: 0, maxRows: 10000 });

export interface EvalResult {
  neg_elbo: number;
  recon: number;
  kl: number;
  /** -log p(x) bound from iwSamples importance samples; null when not computed. */
  nll_iw: number | null;
  iw_samples: number;
  examples: number;
}

/**
 * A generator that serves each row of a batch from its own stream
 * (seed, ...rowKeys[r]): row r's numbers depend only on its keys (image index,
 * sample index), never on the batch it happens to share, so the batch size is
 * only a memory setting.
 */
class RowStreams extends Rng {
  private streams?: Rng[];
  private row = 0;
  private used = 0;

  constructor(
    seed: number,
    rowKeys: number[][],
    private readonly perRow: number,
  ) {
    super(seed);
    this.streams = rowKeys.map((keys) => new Rng(seed, ...keys));
  }

  override nextUint32(): number {
    // The base constructor warms itself up through this method before `streams` exists.
    if (this.streams === undefined) return super.nextUint32();
    if (this.used === this.perRow) {
      this.row++;
      this.used = 0;
    }
    this.used++;
    return this.streams[this.row].nextUint32();
  }
}

/** z ~ q(z|x) as exact one-hot samples (Gumbel-max), row r from the stream (seed, ...rowKeys[r]). */
function sampleCodes(logits: tf.Tensor3D, seed: number, rowKeys: number[][]): tf.Tensor3D {
  const [, n, k] = logits.shape;
  return tf.tidy(() => oneHotArgmax(logits.add(sampleGumbel(logits.shape, new RowStreams(seed, rowKeys, n * k)))) as tf.Tensor3D);
}

/** log w = log p(x|z) + log p(z) - log q(z|x) for one-hot z [S*B, N, K], x tiled [S*B, D]. */
function logImportanceWeights(model: CategoricalVae, x: tf.Tensor2D, logQ: tf.Tensor3D, z: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const { latentVars: n, categories: k } = model.config;
    const xLogits = model.decoder.apply(z) as tf.Tensor2D;
    const logPz = -n * Math.log(k);
    const logQz = z.mul(logQ).sum([1, 2]);
    return bernoulliNll(x, xLogits).neg().add(logPz).sub(logQz) as tf.Tensor1D;
  });
}

/** `s` copies of a host array, one after the other. */
function repeated(values: Float32Array, s: number): Float32Array {
  const out = new Float32Array(values.length * s);
  for (let i = 0; i < s; i++) out.set(values, i * values.length);
  return out;
}

/**
 * The IW bound of one batch: -logmeanexp over m samples of log w, per image.
 * A pass of s samples repeats the images on the host (they are there anyway:
 * tfjs-wasm's Tile kernel took ~1 s to repeat 100 images 100 times, longer
 * than the decoder) and log q on the device by concatenation (a copy: reading
 * it back would cost a GPU a sync per batch).
 */
function iwBound(model: CategoricalVae, images: Float32Array, logits: tf.Tensor3D, options: EvalOptions, firstImage: number): tf.Tensor1D {
  const [b] = logits.shape;
  const dim = images.length / b;
  const perPass = Math.max(1, Math.min(options.iwSamples, Math.floor(options.maxRows / b)));
  return tf.tidy(() => {
    const logQ1 = tf.logSoftmax(logits) as tf.Tensor3D;
    const chunks: tf.Tensor2D[] = [];
    for (let done = 0; done < options.iwSamples; done += perPass) {
      const s = Math.min(perPass, options.iwSamples - done);
      chunks.push(
        tf.tidy(() => {
          const logQ = s === 1 ? logQ1 : (tf.concat(new Array<tf.Tensor3D>(s).fill(logQ1), 0) as tf.Tensor3D);
          const x = tf.tensor2d(repeated(images, s), [s * b, dim]);
          // Rows are sample-major: row j * b + i is sample done + j of image firstImage + i.
          const keys = Array.from({ length: s * b }, (_, r) => [firstImage + (r % b), done + Math.floor(r / b)]);
          const z = sampleCodes(logQ, options.seed + 1, keys);
          return logImportanceWeights(model, x, logQ, z).reshape([s, b]) as tf.Tensor2D;
        }),
      );
    }
    return logMeanExp(tf.concat(chunks, 0), 0).neg() as tf.Tensor1D;
  });
}

/**
 * Evaluates `count` binarised images of `dim` pixels each. Each batch's sums
 * stay on the device, a few floats each, and are read back together at the
 * end: one GPU-to-CPU read per evaluation instead of one to three per batch
 * (each a submit and a wait on a GPU). They are added up in float64 on the
 * host in batch order, as before. Models are called with apply, not predict:
 * predict would split each pass into batches of 32.
 */
export async function evaluateVae(
  model: CategoricalVae,
  images: Float32Array,
  count: number,
  options: Partial<EvalOptions> = {},
): Promise<EvalResult> {
  const opts = { ...DEFAULT_EVAL_OPTIONS, ...options };
  const dim = model.config.inputDim;
  if (images.length !== count * dim) throw new Error(`evaluate: expected ${count} x ${dim} values, got ${images.length}`);
  /** Per batch: [recon, kl] and, with IW samples, the batch's summed bound. */
  const batchSums: tf.Tensor1D[] = [];
  let all: tf.Tensor | null = null;
  try {
    for (let start = 0; start < count; start += opts.batchSize) {
      const b = Math.min(opts.batchSize, count - start);
      const batchImages = images.subarray(start * dim, (start + b) * dim);
      batchSums.push(
        tf.tidy(() => {
          const x = tf.tensor2d(batchImages, [b, dim]);
          const logits = encode(model, x);
          const z = sampleCodes(
            logits,
            opts.seed,
            Array.from({ length: b }, (_, i) => [start + i]),
          );
          const xLogits = model.decoder.apply(z) as tf.Tensor2D;
          const terms = [bernoulliNll(x, xLogits).sum(), categoricalKlToUniform(logits).sum()];
          if (opts.iwSamples > 0) terms.push(iwBound(model, batchImages, logits, opts, start).sum());
          return tf.stack(terms) as tf.Tensor1D;
        }),
      );
      opts.onProgress?.(start + b, count);
    }
    all = tf.stack(batchSums);
    const sums = await all.data();
    const width = opts.iwSamples > 0 ? 3 : 2;
    let recon = 0;
    let kl = 0;
    let nllIw = 0;
    for (let i = 0; i < batchSums.length; i++) {
      recon += sums[i * width];
      kl += sums[i * width + 1];
      if (width === 3) nllIw += sums[i * width + 2];
    }
    return {
      neg_elbo: (recon + kl) / count,
      recon: recon / count,
      kl: kl / count,
      nll_iw: opts.iwSamples > 0 ? nllIw / count : null,
      iw_samples: opts.iwSamples,
      examples: count,
    };
  } finally {
    tf.dispose([...batchSums, ...(all ? [all] : [])]);
  }
}
