/**
 * Histogram bucketing for TensorBoard's HistogramProto. Pure.
 *
 * Buckets are `bins` equal-width intervals over [min, max] of the data, like
 * tf.summary.histogram (v2, default 30 bins), rather than TF1's ~1500
 * exponential buckets: TensorBoard turns a HistogramProto into buckets
 * [previous limit (or min), limit] with the last right edge set to max, so
 * equal-width limits ending at max come out exactly as computed here.
 *
 * Bucket i counts the values in (limit[i-1], limit[i]] (bucket 0: [min, limit[0]]),
 * the proto's convention. NaN and +-Infinity are left out of the buckets and of
 * min/max/num/sum (they would put Infinity or NaN in the output) and are
 * counted in `nonFinite` instead.
 */

export const DEFAULT_HISTOGRAM_BINS = 30;

export interface Histogram {
  min: number;
  max: number;
  /** Number of finite values: equals the sum of `bucket`. */
  num: number;
  sum: number;
  sumSquares: number;
  /** Right edges, strictly ascending, the last one equal to max. */
  bucketLimit: Float64Array;
  /** Counts, parallel to bucketLimit. */
  bucket: Float64Array;
  /** NaN and +-Infinity values that were skipped. Not part of the proto. */
  nonFinite: number;
}

/**
 * Buckets `values` into at most `bins` equal-width bins over [min, max] of the
 * data, or over a fixed `range` (then min/max are the range's ends, values
 * outside it go to the end buckets, and the buckets stay the same from step
 * to step: class indices 0..K-1 with range [-0.5, K - 0.5] and K bins).
 */
export function computeHistogram(
  values: ArrayLike<number>,
  bins: number = DEFAULT_HISTOGRAM_BINS,
  range?: readonly [number, number],
): Histogram {
  if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`histogram: bins must be an integer >= 1, got ${bins}`);
  if (range && !(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
    throw new Error(`histogram: range must be two finite numbers [low, high] with low < high, got [${range.join(', ')}]`);
  }
  let min = Infinity;
  let max = -Infinity;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
    num++;
    sum += x;
    sumSquares += x * x;
  }
  const nonFinite = values.length - num;
  const stats = { num, sum, sumSquares, nonFinite };
  if (range) [min, max] = range;
  else if (num === 0) {
    // One empty bucket rather than none: TensorBoard pairs limits with [min] + limits[:-1], which needs at least one.
    return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: Float64Array.of(0), bucket: Float64Array.of(0), nonFinite };
  }

  // Interior limits, dropping any that rounding made non-increasing (huge |min| with a tiny range).
  const limits: number[] = [];
  const width = (max - min) / bins;
  for (let i = 1; i < bins; i++) {
    const limit = min + i * width;
    if (limit > (limits.length ? limits[limits.length - 1] : min) && limit < max) limits.push(limit);
  }
  limits.push(max); // also the single bucket of constant data: [min, max] with min === max.
  const bucketLimit = Float64Array.from(limits);
  const bucket = new Float64Array(bucketLimit.length);

  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) continue;
    // First limit >= x (binary search: the exact rule of the proto, whatever the rounding of the limits).
    let lo = 0;
    let hi = bucketLimit.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bucketLimit[mid] >= x) hi = mid;
      else lo = mid + 1;
    }
    bucket[lo]++;
  }
  return { min, max, ...stats, bucketLimit, bucket };
}
