/**
 * Gumbel-Rao's backward pass (Paulus et al. 2021, "Rao-Blackwellizing the
 * Straight-Through Gumbel-Softmax Gradient Estimator") as a named op:
 *
 *   gumbelRaoGradient(dy, logits, D, G, tau) = mean_i J(y_i) dy / tau
 *     (+ klWeight q (log q - sum_k q log q), q = softmax(logits): the VAE's KL term)
 *
 * with y_i = softmax((logits + g_i) / tau) and g_i the Gumbel noise drawn
 * conditionally on argmax(logits + g_i) = D from the i-th slice of the
 * independent standard Gumbel draws G [k, ...logits.shape], by exponential
 * races (conditionalRace below). Rows of `categories` along the last axis.
 *
 * Its plain composition is about twenty tfjs kernels over k x rows x K values,
 * each with its own pass and allocation; a backend plug-in (src/wasm) registers
 * one kernel under GUMBEL_RAO_GRADIENT_KERNEL that makes one pass over them.
 */
import * as tf from '@tensorflow/tfjs';
import { runOp } from './dispatch.js';
import { klGradient } from './step_ops.js';

export const GUMBEL_RAO_GRADIENT_KERNEL = 'CatvaeGumbelRaoGradient';

/** J(p) v = p * (v - sum_k p v) with J(p) = diag(p) - p p^T: the softmax Jacobian applied to v, per row. */
export function softmaxJacobianProduct(p: tf.Tensor, v: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(p, tf.sub(v, tf.sum(tf.mul(p, v), -1, true))));
}

/**
 * The exponential races behind Gumbel-max, given that class D arrived first,
 * from independent standard Gumbel draws G [k, ...logits.shape] (E = exp(-G)
 * are standard exponentials): the winner arrives at T_D = E_D / Z
 * (Z = sum exp(logits)), each other class j later, at
 * T_j = T_D + E_j / exp(logits_j) (memorylessness); logits + g = -log T.
 * Returns z = log(T / T_D - 1) (about -1e30 for the winner) and
 * a = -log T_D [k, ..., 1], with logits shifted by their row maximum first
 * (T scales by a constant that no softmax sees; `shift` takes a back to the
 * unshifted scale), so Z >= 1 cannot overflow; a masked class (-Infinity)
 * gets z = +Infinity.
 */
export function conditionalRace(
  logits: tf.Tensor,
  sample: tf.Tensor,
  gumbels: tf.Tensor,
): { z: tf.Tensor; a: tf.Tensor; shift: tf.Tensor } {
  return tf.tidy(() => {
    const shift = tf.max(logits, -1, true);
    const shifted = tf.sub(logits, shift);
    // a = G_D + log Z
    const a = tf.add(tf.sum(tf.mul(gumbels, sample), -1, true), tf.log(tf.sum(tf.exp(shifted), -1, true)));
    // The winner's logit pushed to ~+1e30 makes its exp(z) exactly 0 without a select.
    const lifted = tf.add(shifted, tf.mul(sample, WINNER_LIFT));
    // exp(z_j) = (E_j / exp(l_j)) / T_D = exp(a - G_j - l_j)
    return { z: tf.sub(a, tf.add(gumbels, lifted)), a, shift };
  });
}
/** How far the winner's logit is lifted (conditionalRace); the wasm kernel lowers its z by as much. */
export const WINNER_LIFT = 1e30;

/**
 * The k relaxed samples softmax(conditional logits / tau) [k, ...] of
 * Gumbel-Rao's backward pass, as (1 + exp(z))^(-1/tau) = exp(-softplus(z) / tau)
 * normalised: the powers lie in [0, 1] (the winner's is 1), so no maximum
 * needs subtracting, and no log, softmax or select is needed.
 */
export function gumbelRaoRelaxed(logits: tf.Tensor, sample: tf.Tensor, gumbels: tf.Tensor, tau: number | tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const power = tf.exp(tf.div(tf.softplus(conditionalRace(logits, sample, gumbels).z), tf.neg(tau)));
    return tf.div(power, tf.sum(power, -1, true));
  });
}

/**
 * Gumbel-Rao's gradient with respect to the logits, given dy = dL/dD and the
 * k relaxed samples y_i = softmax((logits + g_i) / tau) [k, ...]:
 * mean_i J(y_i) dy / tau. The conditional noise g_i is held fixed, as the
 * straight-through estimator whose conditional expectation this is holds g
 * fixed (the derivative through g_i's dependence on the logits would change
 * the expectation).
 */
export function gumbelRaoBackward(dy: tf.Tensor, relaxed: tf.Tensor, tau: number | tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(tf.mean(softmaxJacobianProduct(relaxed, dy), 0), tau));
}

/**
 * The op: d/dlogits of L(D) + klWeight KL(softmax(logits) || uniform) under
 * Gumbel-Rao, given dy = dL/dD, the one-hot sample D, the independent Gumbel
 * draws G [k, ...logits.shape] its conditional draws are made from, and tau.
 * dy, logits and D hold the same number of values, in rows of `categories`
 * (the last axis of the layer's tensors; [B, N*K] logits in the VAE's step).
 * klWeight 0 leaves the KL term out (masked classes, where it is NaN, stay clean).
 */
export function gumbelRaoGradient(
  dy: tf.Tensor,
  logits: tf.Tensor,
  sample: tf.Tensor,
  gumbels: tf.Tensor,
  tau: number | tf.Tensor,
  categories: number,
  klWeight = 0,
): tf.Tensor {
  checkShapes(dy, logits, sample, gumbels, categories);
  return tf.tidy(() => {
    const tauTensor = typeof tau === 'number' ? tf.scalar(tau) : tau;
    return runOp(GUMBEL_RAO_GRADIENT_KERNEL, { dy, logits, sample, gumbels, tau: tauTensor }, { categories, klWeight }, () => {
      const rows = [-1, categories];
      const [l, d, s] = [logits, dy, sample].map((t) => tf.reshape(t, rows));
      const g = tf.reshape(gumbels, [-1, ...l.shape]);
      const grad = gumbelRaoBackward(d, gumbelRaoRelaxed(l, s, g, tauTensor), tauTensor);
      return tf.reshape(klWeight === 0 ? grad : tf.add(grad, klGradient(l, categories, klWeight)), logits.shape);
    });
  });
}

/** dy, logits and sample: the same rows of `categories`; gumbels: a whole number (>= 1) of copies of them. Else one line. */
function checkShapes(dy: tf.Tensor, logits: tf.Tensor, sample: tf.Tensor, gumbels: tf.Tensor, categories: number): void {
  const size = logits.size;
  if (dy.size === size && sample.size === size && size % categories === 0 && gumbels.size % size === 0 && gumbels.size > 0) return;
  const shapes = [dy, logits, sample, gumbels].map((t) => `[${t.shape.join(', ')}]`);
  throw new Error(
    `gumbelRaoGradient: dy ${shapes[0]}, logits ${shapes[1]} and sample ${shapes[2]} must hold the same rows of ${categories}, gumbels ${shapes[3]} a whole number of copies of them`,
  );
}
