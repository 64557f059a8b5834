import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  DataError,
  batchesPerEpoch,
  binarizeSet,
  epochBatches,
  gatherImages,
  loadDataset,
  sliceSet,
  toTfDataset,
  type Batch,
  type BatchOptions,
  type Binarization,
  type ImageSet,
} from '../src/data/index.js';

await useTestBackend();

const mnist = await loadDataset();
/** 1,000 real training images: enough for statistics, quick to batch. */
const small = sliceSet(mnist.train, 0, 1000);
const SIZE = 784;

/** Reads a batch's values and labels, disposing its tensor. */
function take(batch: Batch): { x: Float32Array; labels: number[]; indices: number[]; index: number; step: number } {
  const x = batch.x.dataSync() as Float32Array;
  batch.x.dispose();
  return { x, labels: [...batch.labels], indices: [...batch.indices], index: batch.index, step: batch.step };
}
const collect = (set: ImageSet, options: BatchOptions) => [...epochBatches(set, options)].map(take);

/** The same images in a buffer at an odd byte offset: forces the byte-at-a-time path. */
function misaligned(set: ImageSet): ImageSet {
  const buffer = new Uint8Array(set.images.length + 1);
  buffer.set(set.images, 1);
  return { ...set, images: buffer.subarray(1) };
}

// ------------------------------------------------------------ binarization

test('binarize: none is pixel/255, threshold is pixel/255 > 0.5', () => {
  const none = binarizeSet(small, 'none', 0);
  const threshold = binarizeSet(small, 'threshold', 0);
  assert.equal(none.length, 1000 * SIZE);
  for (let i = 0; i < none.length; i++) {
    const v = small.images[i];
    assert.equal(none[i], Math.fround(v / 255));
    assert.equal(threshold[i], v / 255 > 0.5 ? 1 : 0);
  }
});

test('binarize: fixed draws are identical across calls and batches, differ by seed, and match p', () => {
  const a = binarizeSet(small, 'fixed', 7);
  assert.deepEqual(binarizeSet(small, 'fixed', 7), a);
  const other = binarizeSet(small, 'fixed', 8);
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== other[i]) differ++;
  assert.ok(differ > 1000, `seeds 7 and 8 differ in ${differ} pixels`);
  // Served in shuffled batches, image i gets the same draw as row i of the set.
  const [batch] = collect(small, { batchSize: 50, seed: 7, epoch: 3, binarization: 'fixed' });
  for (let r = 0; r < 50; r++) {
    const i = batch.indices[r];
    assert.deepEqual(batch.x.subarray(r * SIZE, (r + 1) * SIZE), a.subarray(i * SIZE, (i + 1) * SIZE));
  }
});

/** sum(x) - sum(p) in standard deviations, over pixels with 0 < v < 255 in [lo, hi). */
function zScore(values: Float32Array, pixels: Uint8Array, lo: number, hi: number): number {
  let ones = 0;
  let mean = 0;
  let variance = 0;
  for (let i = 0; i < values.length; i++) {
    const v = pixels[i];
    if (v < lo || v >= hi) continue;
    const p = v / 255;
    ones += values[i];
    mean += p;
    variance += p * (1 - p);
  }
  return (ones - mean) / Math.sqrt(variance);
}

test('binarize: Bernoulli draws are binary, keep 0 and 255, and average to p in every band of p', () => {
  for (const mode of ['fixed', 'dynamic'] as const) {
    const x = gatherImages(
      small,
      Uint32Array.from({ length: 1000 }, (_, i) => i),
      mode,
      { seed: 3, epoch: 0, batch: 0 },
    );
    for (let i = 0; i < x.length; i++) {
      const v = small.images[i];
      assert.ok(x[i] === 0 || x[i] === 1);
      if (v === 0) assert.equal(x[i], 0);
      if (v === 255) assert.equal(x[i], 1);
    }
    // ~15,000 draws per band; |z| > 5 would be a bias, not chance.
    for (const [lo, hi] of [
      [1, 64],
      [64, 128],
      [128, 192],
      [192, 255],
    ]) {
      const z = zScore(x, small.images, lo, hi);
      assert.ok(Math.abs(z) < 5, `${mode}: band [${lo}, ${hi}) is off by ${z.toFixed(1)} sd`);
    }
    // The check has power: threshold binarisation fails it.
    const t = binarizeSet(small, 'threshold', 0);
    assert.ok(Math.abs(zScore(t, small.images, 1, 128)) > 50);
  }
});

test('binarize: the word-skipping path gives exactly what the byte path gives', () => {
  const odd = misaligned(small);
  const indices = Uint32Array.from([5, 999, 0, 17, 400]);
  for (const mode of ['dynamic', 'fixed', 'threshold', 'none'] as Binarization[]) {
    const keys = { seed: 11, epoch: 2, batch: 9 };
    assert.deepEqual(gatherImages(odd, indices, mode, keys), gatherImages(small, indices, mode, keys), mode);
  }
  // A reused output array is cleared first.
  const out = new Float32Array(5 * SIZE).fill(9);
  assert.deepEqual(gatherImages(small, indices, 'threshold', { seed: 0 }, out), gatherImages(small, indices, 'threshold', { seed: 0 }));
});

test('binarize: dynamic draws differ between epochs and batches, and repeat for the same keys', () => {
  const options = { batchSize: 1000, seed: 5, binarization: 'dynamic' as const, shuffle: false };
  const [e0] = collect(small, { ...options, epoch: 0 });
  const [again] = collect(small, { ...options, epoch: 0 });
  const [e1] = collect(small, { ...options, epoch: 1 });
  assert.deepEqual(again.x, e0.x);
  let differ = 0;
  for (let i = 0; i < e0.x.length; i++) if (e0.x[i] !== e1.x[i]) differ++;
  // Expected differences: 2 p (1 - p) summed over pixels, ~20,000 here.
  assert.ok(differ > 10000, `epochs 0 and 1 differ in only ${differ} pixels`);
  assert.throws(() => binarizeSet(small, 'dynamic' as 'fixed', 0), /binarizeSet: 'dynamic' draws anew per batch/);
});

// ------------------------------------------------------------------ batches

test('batches: count per epoch keeps or drops the last partial batch', () => {
  assert.equal(batchesPerEpoch(1000, 300, false), 4);
  assert.equal(batchesPerEpoch(1000, 300, true), 3);
  assert.equal(batchesPerEpoch(1000, 100, true), 10);
  assert.equal(batchesPerEpoch(0, 100, false), 0);
  const kept = collect(small, { batchSize: 300, seed: 1, epoch: 0, binarization: 'none' });
  assert.deepEqual(
    kept.map((b) => b.labels.length),
    [300, 300, 300, 100],
  );
  const dropped = collect(small, { batchSize: 300, seed: 1, epoch: 0, binarization: 'none', dropLast: true });
  assert.deepEqual(
    dropped.map((b) => b.labels.length),
    [300, 300, 300],
  );
});

test('batches: an epoch serves every example once, with its own label and pixels', () => {
  const batches = collect(small, { batchSize: 64, seed: 2, epoch: 0, binarization: 'none' });
  const seen = batches.flatMap((b) => b.indices);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.notDeepEqual(
    seen.slice(0, 64),
    Array.from({ length: 64 }, (_, i) => i),
    'shuffled',
  );
  const b = batches[3];
  for (let r = 0; r < 64; r++) {
    const i = b.indices[r];
    assert.equal(b.labels[r], small.labels[i]);
    assert.equal(b.x[r * SIZE + 300], Math.fround(small.images[i * SIZE + 300] / 255));
  }
  const unshuffled = collect(small, { batchSize: 64, seed: 2, epoch: 0, binarization: 'none', shuffle: false });
  assert.deepEqual(
    unshuffled.flatMap((u) => u.indices),
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

test('batches: the same seed gives the same batches; epochs and seeds reshuffle', () => {
  const options: BatchOptions = { batchSize: 100, seed: 9, epoch: 4, binarization: 'dynamic' };
  const a = collect(small, options);
  const b = collect(small, options);
  assert.deepEqual(b, a);
  assert.notDeepEqual(collect(small, { ...options, epoch: 5 })[0].indices, a[0].indices);
  assert.notDeepEqual(collect(small, { ...options, seed: 10 })[0].indices, a[0].indices);
  assert.deepEqual(
    a.map((x) => x.step),
    Array.from({ length: 10 }, (_, k) => 40 + k),
  );
});

test('batches: resuming at startBatch k replays batch k exactly', () => {
  const options: BatchOptions = { batchSize: 128, seed: 4, epoch: 6, binarization: 'dynamic' };
  const full = collect(small, options);
  const resumed = collect(small, { ...options, startBatch: 5 });
  assert.equal(resumed.length, full.length - 5);
  assert.deepEqual(resumed, full.slice(5));
  assert.equal(resumed[0].index, 5);
  assert.deepEqual(collect(small, { ...options, startBatch: full.length }), []);
});

test('batches: bad options throw at the call, one line each', () => {
  const base: BatchOptions = { batchSize: 100, seed: 1, epoch: 0, binarization: 'dynamic' };
  const bad: Array<[Partial<BatchOptions>, RegExp]> = [
    [{ batchSize: 0 }, /batchSize: must be an integer >= 1, got 0/],
    [{ batchSize: 2000, dropLast: true }, /2000 is larger than the 1000 examples and dropLast is set/],
    [{ binarization: 'gray' as Binarization }, /unknown mode 'gray'/],
    [{ startBatch: 11 }, /startBatch: 11 is past the end of an epoch of 10 batches/],
    [{ epoch: -1 }, /epoch: must be an integer >= 0/],
  ];
  for (const [change, pattern] of bad) {
    assert.throws(
      () => epochBatches(small, { ...base, ...change }),
      (e: unknown) => e instanceof DataError && pattern.test(e.message) && !e.message.includes('\n'),
    );
  }
});

test('batches: no tensor leaks over a full epoch of the training set', () => {
  const before = tf.memory();
  let batches = 0;
  let images = 0;
  for (const batch of epochBatches(mnist.train, { batchSize: 250, seed: 1, epoch: 0, binarization: 'dynamic' })) {
    assert.deepEqual(batch.x.shape, [batch.labels.length, SIZE]);
    assert.equal(batch.x.dtype, 'float32');
    images += batch.x.shape[0];
    batch.x.dispose();
    batches++;
  }
  assert.deepEqual([batches, images], [200, 50000]);
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numBytes, before.numBytes);
});

// ------------------------------------------------------------- tf.data adapter

test('tf.data: an epoch of {xs, ys} matches epochBatches, ys one-hot or the inputs', async () => {
  const options = { batchSize: 300, seed: 3, binarization: 'dynamic' as const };
  const expected = collect(small, { ...options, epoch: 0 });
  const got: Array<{ xs: Float32Array; ys: Float32Array; shape: number[] }> = [];
  await toTfDataset(small, options).forEachAsync(({ xs, ys }) => {
    got.push({ xs: xs.dataSync() as Float32Array, ys: ys.dataSync() as Float32Array, shape: ys.shape });
    tf.dispose([xs, ys]);
  });
  assert.equal(got.length, 4);
  for (let k = 0; k < 4; k++) {
    assert.deepEqual(got[k].xs, expected[k].x);
    assert.deepEqual(got[k].shape, [expected[k].labels.length, 10]);
    expected[k].labels.forEach((l, r) => {
      const row = [...got[k].ys.subarray(r * 10, r * 10 + 10)];
      assert.deepEqual(
        row,
        Array.from({ length: 10 }, (_, c) => (c === l ? 1 : 0)),
      );
    });
  }
  const inputs = await toTfDataset(small, { ...options, target: 'inputs' })
    .take(1)
    .toArray();
  assert.deepEqual(inputs[0].ys.dataSync(), expected[0].x);
  tf.dispose(inputs);
});

test('tf.data: each iterator read is the next epoch; unread iterators take none', async () => {
  const options = { batchSize: 500, seed: 3, binarization: 'none' as const };
  const ds = toTfDataset(small, { ...options, target: 'inputs' });
  await ds.iterator(); // fitDataset makes one of these and never reads it
  const firstBatch = async (): Promise<Float32Array> => {
    const it = await ds.iterator();
    const { value } = await it.next();
    const xs = value.xs.dataSync() as Float32Array;
    tf.dispose(value);
    return xs;
  };
  const e0 = collect(small, { ...options, epoch: 0 })[0].x;
  const e1 = collect(small, { ...options, epoch: 1 })[0].x;
  assert.deepEqual(await firstBatch(), e0);
  assert.deepEqual(await firstBatch(), e1);
  // epochs: n serves n epochs from one iterator.
  const two = await toTfDataset(small, { ...options, epochs: 2 }).toArray();
  assert.equal(two.length, 4);
  assert.deepEqual(two[2].xs.dataSync(), e1);
  tf.dispose(two);
});

test('tf.data: model.fitDataset trains on it with no tensor leak between epochs', async () => {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [SIZE], units: 10, activation: 'softmax' })] });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const counts: number[] = [];
  const history = await model.fitDataset(toTfDataset(small, { batchSize: 100, seed: 1, binarization: 'dynamic' }), {
    epochs: 3,
    verbose: 0,
    callbacks: { onEpochEnd: async () => void counts.push(tf.memory().numTensors) },
  });
  assert.equal(history.epoch.length, 3);
  assert.equal(counts[1], counts[0]);
  assert.equal(counts[2], counts[0]);
  const loss = history.history.loss as number[];
  assert.ok(loss[2] < loss[0], `loss falls: ${loss.join(', ')}`);
  model.dispose();
});
