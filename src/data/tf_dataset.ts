/**
 * A tf.data.Dataset over an ImageSet, for model.fitDataset / evaluateDataset.
 *
 * fitDataset without `batchesPerEpoch` calls `dataset.iterator()` once per
 * epoch (and once more before the first, which it never reads). So without
 * `epochs`, each iterator serves the next epoch, counted when it yields its
 * first batch; with `epochs: n`, each iterator serves n epochs back to back,
 * for fitDataset with `batchesPerEpoch`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkBatchOptions, epochOrder, makeBatch, type BatchOptions } from './batches.js';
import { DataError } from './errors.js';
import { NUM_CLASSES, type ImageSet } from './types.js';

/** What `ys` holds: one-hot labels (classifiers) or the inputs themselves (autoencoders). */
export type DatasetTarget = 'labels' | 'inputs';

export type TfDatasetOptions = Omit<BatchOptions, 'epoch' | 'startBatch'> & {
  /** Epochs per iterator; default: one per iterator, each iterator the next epoch. */
  epochs?: number;
  /** The first epoch served (default 0), e.g. fitDataset's initialEpoch on resume. */
  initialEpoch?: number;
  /** Default 'labels'. */
  target?: DatasetTarget;
};

export type XsYs = { xs: tf.Tensor2D; ys: tf.Tensor2D };

/** One-hot rows built on the host (tfjs-wasm 4.22's OneHot writes int bits into float32 outputs). */
export function oneHotLabels(labels: Uint8Array, depth = NUM_CLASSES): tf.Tensor2D {
  const values = new Float32Array(labels.length * depth);
  for (let i = 0; i < labels.length; i++) values[i * depth + labels[i]] = 1;
  return tf.tensor2d(values, [labels.length, depth], 'float32');
}

export function toTfDataset(set: ImageSet, options: TfDatasetOptions): tf.data.Dataset<XsYs> {
  const perEpoch = checkBatchOptions(set, options);
  const target = options.target ?? 'labels';
  if (target !== 'labels' && target !== 'inputs') {
    throw new DataError('dataset option target', `unknown target '${String(target)}'`, `use 'labels' or 'inputs'`);
  }
  const epochs = options.epochs;
  if (epochs !== undefined && !(epochs === Infinity || (Number.isInteger(epochs) && epochs >= 1))) {
    throw new DataError('dataset option epochs', `must be an integer >= 1 or Infinity, got ${String(epochs)}`, 'pass a whole number');
  }
  let nextEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(nextEpoch) || nextEpoch < 0) {
    throw new DataError('dataset option initialEpoch', `must be an integer >= 0, got ${String(nextEpoch)}`, 'pass a whole number');
  }

  function* serve(): Generator<XsYs> {
    // Runs at the first next(), so iterators made and never read take no epoch.
    const first = epochs === undefined ? nextEpoch++ : (options.initialEpoch ?? 0);
    const count = epochs ?? 1;
    for (let e = first; e < first + count; e++) {
      const order = epochOrder(set.count, options.seed, e, options.shuffle ?? true);
      const batchOptions: BatchOptions = { ...options, epoch: e };
      for (let k = 0; k < perEpoch; k++) {
        const { x, labels } = makeBatch(set, order, batchOptions, k, perEpoch);
        // A clone shares x's data; fitDataset disposes xs and ys separately.
        yield { xs: x, ys: target === 'inputs' ? x.clone() : oneHotLabels(labels) };
      }
    }
  }
  return tf.data.generator(serve);
}
