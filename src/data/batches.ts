/**
 * Epochs of batches for custom training loops. The order of epoch e is a
 * permutation drawn from stream (seed, SHUFFLE_STREAM, e) and the dynamic
 * draws of batch k from (seed, DYNAMIC_STREAM, e, k), so batch k of epoch e
 * is the same whether the run got there directly or resumed at it.
 *
 * Each batch tensor is built from a fresh Float32Array filled on the host:
 * measured on tfjs-wasm 4.22 (bench/data_pipeline.ts) this beats slicing or
 * gathering from one resident tensor. The array is not reused because the
 * cpu backend keeps it by reference.
 */
import * as tf from '@tensorflow/tfjs';
import { permutation, Rng } from '../random.js';
import { gatherImages, SHUFFLE_STREAM } from './binarize.js';
import { DataError } from './errors.js';
import { isBinarization, type Binarization, type ImageSet } from './types.js';

export interface BatchOptions {
  batchSize: number;
  seed: number;
  epoch: number;
  binarization: Binarization;
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Drop the last partial batch (default false). */
  dropLast?: boolean;
  /** Resume mid-epoch at this batch (default 0). */
  startBatch?: number;
}

export interface Batch {
  /** [b, rows * cols] float32; the caller disposes it. */
  x: tf.Tensor2D;
  labels: Uint8Array;
  epoch: number;
  /** The batch's index within its epoch. */
  index: number;
  /** epoch * batchesPerEpoch + index: the global step this batch is for. */
  step: number;
  /** Positions of the batch's examples in the set. */
  indices: Uint32Array;
}

/** Batches in an epoch of `count` examples. */
export function batchesPerEpoch(count: number, batchSize: number, dropLast: boolean): number {
  checkInteger(count, 'count', 0);
  checkInteger(batchSize, 'batchSize', 1);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** The order examples are served in during `epoch`. */
export function epochOrder(count: number, seed: number, epoch: number, shuffle = true): Uint32Array {
  if (shuffle) return permutation(count, new Rng(seed, SHUFFLE_STREAM, epoch));
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

function checkInteger(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new DataError(`batch option ${name}`, `must be an integer >= ${min}, got ${String(value)}`, `pass a whole number`);
  }
}

/** Checks the options against the set and returns the number of batches per epoch. */
export function checkBatchOptions(set: ImageSet, options: Omit<BatchOptions, 'epoch'> & { epoch?: number }): number {
  checkInteger(options.batchSize, 'batchSize', 1);
  checkInteger(options.seed, 'seed', 0);
  if (options.epoch !== undefined) checkInteger(options.epoch, 'epoch', 0);
  if (!isBinarization(options.binarization)) {
    throw new DataError(
      'batch option binarization',
      `unknown mode '${String(options.binarization)}'`,
      'use one of dynamic, fixed, threshold, none',
    );
  }
  const perEpoch = batchesPerEpoch(set.count, options.batchSize, options.dropLast ?? false);
  if (perEpoch === 0) {
    throw new DataError(
      'batch option batchSize',
      `${options.batchSize} is larger than the ${set.count} examples and dropLast is set, so an epoch has no batches`,
      `use a batch size of at most ${set.count}, or keep the last partial batch`,
    );
  }
  const start = options.startBatch ?? 0;
  checkInteger(start, 'startBatch', 0);
  if (start > perEpoch) {
    throw new DataError('batch option startBatch', `${start} is past the end of an epoch of ${perEpoch} batches`, `use 0..${perEpoch}`);
  }
  return perEpoch;
}

/** Builds batch `index` of an epoch whose order is `order`. */
export function makeBatch(set: ImageSet, order: Uint32Array, options: BatchOptions, index: number, perEpoch: number): Batch {
  const begin = index * options.batchSize;
  const indices = order.subarray(begin, Math.min(begin + options.batchSize, set.count));
  const b = indices.length;
  const size = set.rows * set.cols;
  const values = gatherImages(set, indices, options.binarization, { seed: options.seed, epoch: options.epoch, batch: index });
  const labels = new Uint8Array(b);
  for (let i = 0; i < b; i++) labels[i] = set.labels[indices[i]];
  return {
    x: tf.tensor2d(values, [b, size], 'float32'),
    labels,
    epoch: options.epoch,
    index,
    step: options.epoch * perEpoch + index,
    indices: indices.slice(),
  };
}

/**
 * The batches of one epoch, from `startBatch` on. Options are checked at the
 * call, not at the first `next()`. Each batch's tensor belongs to the caller.
 */
export function epochBatches(set: ImageSet, options: BatchOptions): Generator<Batch> {
  const perEpoch = checkBatchOptions(set, options);
  return generate(set, options, perEpoch);
}

function* generate(set: ImageSet, options: BatchOptions, perEpoch: number): Generator<Batch> {
  const order = epochOrder(set.count, options.seed, options.epoch, options.shuffle ?? true);
  for (let k = options.startBatch ?? 0; k < perEpoch; k++) yield makeBatch(set, order, options, k, perEpoch);
}
