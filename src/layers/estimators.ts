/**
 * Gradient estimators for categorical samples, as pure functions over rows
 * along the LAST axis (the layer moves its class axis there first):
 *
 * - ReinMax (Liu et al. 2023, "Bridging Discrete and Backpropagation:
 *   Straight-Through and Beyond"): forward a one-hot draw D of
 *   softmax(logits); backward 2 J(pi1) dy - J(pi0) dy / 2 with
 *   pi0 = softmax(logits), pi1 = (softmax(logits / tau) + D) / 2 and
 *   J(p) = diag(p) - p p^T.
 * - Gumbel-Rao (Paulus et al. 2021, "Rao-Blackwellizing the Straight-Through
 *   Gumbel-Softmax Gradient Estimator"): forward D = one_hot(argmax(logits + g));
 *   backward the mean over k draws of the straight-through Gumbel-Softmax
 *   gradient, each with Gumbel noise drawn conditionally on D.
 * - Gapped straight-through (Fan et al. 2022, "Training Discrete Deep
 *   Generative Models via Gapped Straight-Through Estimator"): forward
 *   D = one_hot(argmax(logits + g)); backward that of y = softmax((logits + m) / tau)
 *   with m a deterministic shift given D, held fixed: D's logit raised to the
 *   row maximum, every other logit above (maximum - gap) lowered to it.
 *
 * The backward passes are also exported as functions of dy, for the VAE's
 * hand-written step (model/fast_step.ts); Gumbel-Rao's is the named op
 * gumbelRaoGradient of src/ops/gumbel_rao.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { conditionalRace, gumbelRaoGradient, softmaxJacobianProduct } from '../ops/gumbel_rao.js';
import { oneHotArgmax } from './gumbel_noise.js';

// Gumbel-Rao's maths lives with its op (src/ops/gumbel_rao.ts); re-exported for the layer's users.
export { gumbelRaoBackward, gumbelRaoRelaxed, softmaxJacobianProduct } from '../ops/gumbel_rao.js';

export type Estimator = 'gumbel-softmax' | 'straight-through' | 'reinmax' | 'gumbel-rao' | 'gapped-straight-through';
export const ESTIMATORS: readonly Estimator[] = ['gumbel-softmax', 'straight-through', 'reinmax', 'gumbel-rao', 'gapped-straight-through'];
/** Fan et al. 2022's GST-1.0: the sampled class ends at least 1 above the others. */
export const DEFAULT_GAP = 1;
/** Paulus et al. 2021 report most of the variance reduction by k = 10. */
export const DEFAULT_RAO_SAMPLES = 10;

export function isEstimator(value: unknown): value is Estimator {
  return ESTIMATORS.includes(value as Estimator);
}

/**
 * The estimator from the options. `hard: true` is the older spelling of
 * straight-through: with no estimator or 'gumbel-softmax' it means
 * 'straight-through' (ST Gumbel-Softmax is Gumbel-Softmax made hard); with
 * another estimator it is a contradiction and throws. `prefix` starts the message.
 */
export function resolveEstimator(estimator: unknown, hard: unknown, prefix = ''): Estimator {
  if (estimator != null && !isEstimator(estimator)) {
    throw new Error(`${prefix}unknown estimator '${String(estimator)}': use one of ${ESTIMATORS.join(', ')}`);
  }
  if (hard === true) {
    if (estimator == null || estimator === 'gumbel-softmax' || estimator === 'straight-through') return 'straight-through';
    throw new Error(`${prefix}hard: true means estimator 'straight-through', not '${estimator}'; drop one of the two`);
  }
  return estimator ?? 'gumbel-softmax';
}

/** Checks the number of conditional draws of Gumbel-Rao; throws one line. */
export function validateRaoSamples(k: unknown): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 1000) {
    throw new Error(`raoSamples must be an integer in [1, 1000], got ${String(k)}`);
  }
  return k;
}

/** Checks the gap of the gapped straight-through estimator; throws one line. */
export function validateGap(gap: unknown): number {
  if (typeof gap !== 'number' || !Number.isFinite(gap) || gap < 0) {
    throw new Error(`gap must be a finite number >= 0, got ${String(gap)}`);
  }
  return gap;
}

/** one_hot(argmax(logits + g)): with g ~ Gumbel(0, 1), an exact draw of softmax(logits) (the Gumbel-max trick). */
export function gumbelMax(logits: tf.Tensor, gumbel: tf.Tensor): tf.Tensor {
  return tf.tidy(() => oneHotArgmax(tf.add(logits, gumbel)));
}

/** The two distributions of ReinMax's backward pass: pi0 = softmax(logits), pi1 = (softmax(logits / tau) + D) / 2. */
export function reinmaxDistributions(logits: tf.Tensor, sample: tf.Tensor, tau: number | tf.Tensor): { pi0: tf.Tensor; pi1: tf.Tensor } {
  return tf.tidy(() => ({
    pi0: tf.softmax(logits),
    pi1: tf.mul(tf.add(tf.softmax(tf.div(logits, tau)), sample), 0.5),
  }));
}

/** ReinMax's gradient with respect to the logits, given dy = dL/dD: 2 J(pi1) dy - J(pi0) dy / 2. */
export function reinmaxBackward(dy: tf.Tensor, pi0: tf.Tensor, pi1: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(softmaxJacobianProduct(pi1, dy), 2), tf.mul(softmaxJacobianProduct(pi0, dy), 0.5)));
}

/** A ReinMax sample: the one-hot gumbelMax(logits, gumbel) forward, reinmaxBackward backward. */
export function reinmaxSample(logits: tf.Tensor, gumbel: tf.Tensor, tau: number | tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [l, save] = [args[0] as tf.Tensor, args[args.length - 1] as tf.GradSaveFunc];
    const sample = gumbelMax(l, gumbel);
    const { pi0, pi1 } = reinmaxDistributions(l, sample, tau);
    save([pi0, pi1]);
    return {
      value: sample,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => reinmaxBackward(dy, saved[0], saved[1]),
    };
  });
  return op(logits);
}

/**
 * k draws of logits + g with g ~ Gumbel(0, 1) conditioned on
 * argmax(logits + g) = D (one-hot `sample`), from independent standard
 * Gumbel draws G [k, ...logits.shape]: the winner at log Z - log E_D, the
 * others at -log(E_j / exp(logits_j) + E_D / Z), E = exp(-G).
 */
export function conditionalGumbelLogits(logits: tf.Tensor, sample: tf.Tensor, gumbels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // -log T = a - log(1 + exp(z)); softplus keeps logits far below the maximum finite.
    const { z, a, shift } = conditionalRace(logits, sample, gumbels);
    return tf.add(tf.sub(a, tf.softplus(z)), shift);
  });
}

/**
 * A Gumbel-Rao sample: the one-hot gumbelMax(logits, gumbel) forward; backward
 * the op gumbelRaoGradient (src/ops/gumbel_rao.ts) over the conditional draws
 * made from raoNoise [k, ...logits.shape], computed only when a gradient is.
 */
export function gumbelRaoSample(logits: tf.Tensor, gumbel: tf.Tensor, raoNoise: tf.Tensor, tau: number | tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [l, save] = [args[0] as tf.Tensor, args[args.length - 1] as tf.GradSaveFunc];
    const sample = gumbelMax(l, gumbel);
    save([l, sample, raoNoise, typeof tau === 'number' ? tf.scalar(tau) : tau]);
    return {
      value: sample,
      gradFunc: (dy: tf.Tensor, [x, d, noise, t]: tf.Tensor[]) => gumbelRaoGradient(dy, x, d, noise, t, x.shape[x.rank - 1]),
    };
  });
  return op(logits);
}

/**
 * The gapped straight-through estimator's shift m (Fan et al. 2022), per row,
 * for logits and the one-hot sample D: m_D = max - logits_D (D's logit
 * raised to the row maximum) and, for the others, m_j = -max(0, logits_j -
 * (max - gap)) (lowered to max - gap when above it), so that D leads every
 * other class of logits + m by at least `gap`. A masked class (-Infinity)
 * keeps m = 0.
 */
export function gapShift(logits: tf.Tensor, sample: tf.Tensor, gap: number): tf.Tensor {
  return tf.tidy(() => {
    const max = tf.max(logits, -1, true);
    return tf.where(tf.equal(sample, 1), tf.sub(max, logits), tf.neg(tf.relu(tf.sub(logits, tf.sub(max, gap)))));
  });
}

/**
 * A gapped straight-through sample: the one-hot gumbelMax(logits, gumbel)
 * forward; backward J(y) dy / tau, that of y = softmax((logits + m) / tau)
 * with the shift m = gapShift(logits, D, gap) held fixed (no noise in it).
 */
export function gappedStraightThroughSample(logits: tf.Tensor, gumbel: tf.Tensor, tau: number | tf.Tensor, gap = DEFAULT_GAP): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [l, save] = [args[0] as tf.Tensor, args[args.length - 1] as tf.GradSaveFunc];
    const sample = gumbelMax(l, gumbel);
    const tauTensor = typeof tau === 'number' ? tf.scalar(tau) : tau;
    save([tf.softmax(tf.div(tf.add(l, gapShift(l, sample, gap)), tauTensor)), tauTensor]);
    return {
      value: sample,
      gradFunc: (dy: tf.Tensor, [y, t]: tf.Tensor[]) => tf.div(softmaxJacobianProduct(y, dy), t),
    };
  });
  return op(logits);
}
