import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { computeHistogram, DEFAULT_HISTOGRAM_BINS, type Histogram } from '../src/tensorboard/histogram.js';
import { Rng } from '../src/random.js';

/** The invariants TensorBoard relies on. */
function checkInvariants(h: Histogram, finite: number[]): void {
  const total = h.bucket.reduce((a, b) => a + b, 0);
  assert.equal(total, finite.length, 'counts sum to the number of finite values');
  assert.equal(h.num, finite.length);
  assert.equal(h.bucketLimit.length, h.bucket.length);
  for (let i = 1; i < h.bucketLimit.length; i++) assert.ok(h.bucketLimit[i] > h.bucketLimit[i - 1], `limit ${i} ascends`);
  for (const x of [h.min, h.max, h.num, h.sum, h.sumSquares, ...h.bucketLimit, ...h.bucket]) assert.ok(Number.isFinite(x));
  if (finite.length === 0) return;
  assert.equal(h.bucketLimit[h.bucketLimit.length - 1], h.max);
  // Recount with a linear scan of the proto's rule: bucket i holds (limit[i-1], limit[i]].
  const recount = new Array(h.bucket.length).fill(0);
  for (const x of finite) recount[h.bucketLimit.findIndex((limit) => x <= limit)]++;
  assert.deepEqual([...h.bucket], recount);
}

test('equal-width bins over [min, max]: exact limits and counts', () => {
  const values = Array.from({ length: 100 }, (_, i) => i);
  const h = computeHistogram(values, 10);
  assert.deepEqual([...h.bucketLimit], [9.9, 19.8, 29.700000000000003, 39.6, 49.5, 59.400000000000006, 69.3, 79.2, 89.10000000000001, 99]);
  assert.deepEqual([...h.bucket], new Array(10).fill(10));
  assert.equal(h.min, 0);
  assert.equal(h.max, 99);
  assert.equal(h.sum, 4950);
  assert.equal(
    h.sumSquares,
    values.reduce((a, x) => a + x * x, 0),
  );
  checkInvariants(h, values);
});

test('random normal data: invariants hold for several bin counts', () => {
  const rng = new Rng(3);
  const values = Array.from({ length: 5000 }, () => Math.sqrt(-2 * Math.log(rng.nextOpen01())) * Math.cos(2 * Math.PI * rng.nextOpen01()));
  for (const bins of [1, 2, 7, DEFAULT_HISTOGRAM_BINS, 200]) {
    const h = computeHistogram(Float32Array.from(values), bins);
    assert.equal(h.bucket.length, bins);
    checkInvariants(h, Array.from(Float32Array.from(values)));
  }
});

test('NaN and +-Infinity are left out and counted in nonFinite', () => {
  const h = computeHistogram([1, NaN, 2, Infinity, -Infinity, 3], 2);
  assert.equal(h.nonFinite, 3);
  assert.equal(h.min, 1);
  assert.equal(h.max, 3);
  assert.equal(h.sum, 6);
  checkInvariants(h, [1, 2, 3]);
});

test('edge cases: constant data, no finite data, a tiny range far from 0', () => {
  const constant = computeHistogram(new Float32Array(50).fill(0.25));
  assert.deepEqual([...constant.bucketLimit], [0.25]);
  assert.deepEqual([...constant.bucket], [50]);
  checkInvariants(constant, new Array(50).fill(0.25));

  const empty = computeHistogram([NaN, NaN]);
  assert.deepEqual([empty.num, empty.nonFinite, [...empty.bucketLimit], [...empty.bucket]], [0, 2, [0], [0]]);
  checkInvariants(empty, []);
  checkInvariants(computeHistogram([]), []);

  // Rounding makes most of the 30 limits equal here: they are merged, never repeated.
  const far = [1e16, 1e16 + 2, 1e16 + 2];
  const h = computeHistogram(far, 30);
  assert.ok(h.bucket.length < 30);
  checkInvariants(h, far);
});

test('bins must be a positive integer', () => {
  assert.throws(() => computeHistogram([1], 0), /bins must be an integer >= 1, got 0/);
  assert.throws(() => computeHistogram([1], 2.5), /bins/);
});

test('a fixed range gives the same buckets whatever the data: class indices 0..K-1 in K buckets', () => {
  const k = 10;
  const fewClasses = computeHistogram([3, 3, 3, 7], k, [-0.5, k - 0.5]);
  assert.deepEqual([...fewClasses.bucketLimit], [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5]);
  assert.deepEqual([...fewClasses.bucket], [0, 0, 0, 3, 0, 0, 0, 1, 0, 0]);
  assert.deepEqual([fewClasses.min, fewClasses.max, fewClasses.num, fewClasses.sum], [-0.5, 9.5, 4, 16]);
  // Outside the range: the end buckets; nothing at all: K empty buckets, not one.
  assert.deepEqual([...computeHistogram([-3, 20], 2, [0, 1]).bucket], [1, 1]);
  assert.deepEqual([...computeHistogram([], 3, [0, 3]).bucket], [0, 0, 0]);
  assert.throws(() => computeHistogram([1], 2, [1, 1]), /range must be two finite numbers \[low, high\] with low < high, got \[1, 1\]/);
});
