/**
 * Fused ops of the hand-written training step (model/fast_step.ts), each a
 * named kernel with its plain-tfjs composition as the fallback:
 *
 * - relaxedSoftmax(logits, g, tau): y = softmax((logits + g) / tau) per
 *   variable (rows of K), the relaxed one-hot sample;
 * - latentGradient(dy, y, logits, tau, klWeight): d/dlogits of the loss,
 *   through the relaxed sample, y (dy - sum_k dy y) / tau, plus klWeight times
 *   that of KL(q || uniform), q (log q - sum_k q log q), q = softmax(logits);
 * - reluGradient(dy, x): dy where x > 0, else 0 (x the ReLU's output);
 * - bernoulliGradient(z, x, scale): (sigmoid(z) - x) scale, the reconstruction
 *   term's gradient with respect to the decoder's logits.
 *
 * On [B*N, K] = [2000, 10] each tfjs op costs more in dispatch and allocation
 * than in arithmetic: a backend plug-in (src/wasm/step_kernels.ts) registers
 * one kernel per op under the names below.
 */
import * as tf from '@tensorflow/tfjs';
import { runOp } from './dispatch.js';

export const RELAXED_SOFTMAX_KERNEL = 'CatvaeRelaxedSoftmax';
export const LATENT_GRADIENT_KERNEL = 'CatvaeLatentGradient';
export const RELU_GRADIENT_KERNEL = 'CatvaeReluGradient';
export const BERNOULLI_GRADIENT_KERNEL = 'CatvaeBernoulliGradient';

/** y = softmax((logits + g) / tau) over rows of `categories`, for logits and noise of the same shape. */
export function relaxedSoftmax(logits: tf.Tensor, noise: tf.Tensor, tau: number, categories: number): tf.Tensor {
  return runOp(RELAXED_SOFTMAX_KERNEL, { logits, noise }, { tau, categories }, () =>
    tf.reshape(tf.softmax(tf.reshape(tf.mul(tf.add(logits, tf.reshape(noise, logits.shape)), 1 / tau), [-1, categories])), logits.shape),
  );
}

/**
 * d/dlogits of L(y) + klWeight * KL(softmax(logits) || uniform), given dy =
 * dL/dy for y = relaxedSoftmax(logits, g, tau): rows of `categories`.
 */
export function latentGradient(
  dy: tf.Tensor,
  y: tf.Tensor,
  logits: tf.Tensor,
  tau: number,
  categories: number,
  klWeight: number,
): tf.Tensor {
  return runOp(LATENT_GRADIENT_KERNEL, { dy, y, logits }, { tau, categories, klWeight }, () => {
    const flat = [-1, categories];
    const [dyFlat, yFlat] = [tf.reshape(dy, flat), tf.reshape(y, flat)];
    // y = softmax(u / tau): du = y * (dy - sum_k dy * y) / tau
    const dyy = tf.mul(dyFlat, yFlat);
    const dSample = tf.mul(tf.sub(dyy, tf.mul(yFlat, tf.sum(dyy, -1, true))), 1 / tau);
    return tf.reshape(tf.add(dSample, klGradient(logits, categories, klWeight)), logits.shape);
  });
}

/**
 * klWeight * d/dlogits KL(softmax(logits) || uniform) over rows of
 * `categories`, as [rows, categories]: KL = sum_k q log q + log K, so the
 * gradient is q (log q - sum_k q log q), q = softmax(logits).
 */
export function klGradient(logits: tf.Tensor, categories: number, klWeight: number): tf.Tensor {
  return tf.tidy(() => {
    const logQ = tf.logSoftmax(tf.reshape(logits, [-1, categories]));
    const q = tf.exp(logQ);
    return tf.mul(tf.mul(q, tf.sub(logQ, tf.sum(tf.mul(q, logQ), -1, true))), klWeight);
  });
}

/** dy where x > 0, else 0: the gradient through a ReLU whose output is x. */
export function reluGradient(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return runOp(RELU_GRADIENT_KERNEL, { dy, x }, {}, () => tf.mul(dy, tf.step(x)));
}

/** (sigmoid(z) - x) * scale: the gradient of scale * sum BCE(logits z, targets x) with respect to z. */
export function bernoulliGradient(z: tf.Tensor, x: tf.Tensor, scale: number): tf.Tensor {
  return runOp(BERNOULLI_GRADIENT_KERNEL, { z, x }, { scale }, () => tf.mul(tf.sub(tf.sigmoid(z), x), scale));
}
