/**
 * The negative ELBO of a categorical VAE with Bernoulli pixels, as pure
 * tensor functions. All per-example values are in nats.
 */
import * as tf from '@tensorflow/tfjs';

/** -log p(x | z) per example: sum over pixels of softplus(z) - z*x (sigmoid cross-entropy with logits). */
export function bernoulliNll(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    // tf.softplus is the stable log(1 + exp(z)) on every backend (checked for |z| up to 1e3),
    // and one kernel where max(z,0) + log1p(exp(-|z|)) would be five.
    return tf.softplus(logits).sub(logits.mul(x)).sum(-1) as tf.Tensor1D;
  });
}

/**
 * KL(q || Uniform(K)) per example, summed over the N variables:
 * sum_k q_k log q_k + log K, with log q from logSoftmax (stable when q_k -> 0).
 * `logits` has shape [batch, N, K].
 */
export function categoricalKlToUniform(logits: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const k = logits.shape[2];
    const logQ = tf.logSoftmax(logits);
    const perVariable = tf.exp(logQ).mul(logQ).sum(-1).add(Math.log(k));
    return perVariable.sum(-1) as tf.Tensor1D;
  });
}

// A type alias, not an interface, so that tf.tidy accepts it as a TensorContainer.
export type ElboTerms<T extends tf.Tensor = tf.Scalar> = {
  /** recon + kl: the negative ELBO. */
  loss: T;
  /** -E_q log p(x|z). */
  recon: T;
  /** KL(q(z|x) || p(z)). */
  kl: T;
};

/** Batch means of the negative ELBO and its two terms. */
export function negativeElbo(x: tf.Tensor2D, xLogits: tf.Tensor2D, qLogits: tf.Tensor3D): ElboTerms {
  return tf.tidy(() => {
    const recon = bernoulliNll(x, xLogits).mean() as tf.Scalar;
    const kl = categoricalKlToUniform(qLogits).mean() as tf.Scalar;
    return { loss: recon.add(kl) as tf.Scalar, recon, kl };
  });
}

/** log(mean(exp(x))) along an axis, stable for large |x| and for rows of -Infinity. */
export function logMeanExp(x: tf.Tensor, axis = -1): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[axis < 0 ? x.rank + axis : axis];
    const max = tf.max(x, axis, true);
    // A row that is all -Infinity would give -inf - -inf = NaN: shift it by 0 instead.
    const shift = tf.where(tf.isFinite(max), max, tf.zerosLike(max));
    const lse = tf.log(tf.sum(tf.exp(tf.sub(x, shift)), axis, true)).add(shift);
    return tf.squeeze(lse.sub(Math.log(n)), [axis < 0 ? x.rank + axis : axis]);
  });
}
