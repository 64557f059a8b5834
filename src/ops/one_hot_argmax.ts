/**
 * one_hot(argmax(x)) over the last axis as a named op: the one-hot samples of
 * Gumbel-max (straight-through, ReinMax, Gumbel-Rao, gapped straight-through)
 * and the layer's argmax inference. Its plain composition is about a dozen
 * tfjs kernels (argMax, oneHot, the NaN checks); a backend plug-in may register
 * one kernel under ONE_HOT_ARGMAX_KERNEL (src/wasm does: a row loop).
 */
import * as tf from '@tensorflow/tfjs';
import { runOp } from './dispatch.js';

export const ONE_HOT_ARGMAX_KERNEL = 'CatvaeOneHotArgmax';

/**
 * one_hot(argmax(x)) along the last axis, as float32: exactly one 1 per row
 * (the first of tied maxima). A row holding NaN, or whose classes are all
 * -Infinity (every class masked: nothing can be drawn), gives a row of NaN,
 * as softmax does: argMax alone would return a clean one-hot at class 0 and
 * hide the bad input.
 */
export function oneHotArgmaxLast(x: tf.Tensor): tf.Tensor {
  return runOp(ONE_HOT_ARGMAX_KERNEL, { x }, {}, () => {
    const k = x.shape[x.rank - 1];
    // tf.oneHot needs depth >= 2; built as int32 and cast: tfjs-wasm 4.22's OneHot writes int bits into float32 outputs.
    const hot = k === 1 ? tf.onesLike(x) : tf.cast(tf.oneHot(tf.argMax(x, -1), k), 'float32');
    const bad = tf.logicalOr(tf.any(tf.isNaN(x), -1, true), tf.equal(tf.max(x, -1, true), -Infinity));
    return tf.add(hot, tf.where(bad, tf.fill(bad.shape, Number.NaN), tf.zeros(bad.shape)));
  });
}
