/**
 * One optimisation step of the negative ELBO: the unit of work of training.
 */
import * as tf from '@tensorflow/tfjs';
import { negativeElbo, type ElboTerms } from './loss.js';
import { trainableVariables, type CategoricalVae } from './vae.js';

/** The forward pass in training mode: relaxed samples, terms of the loss. */
export function trainingLoss(model: CategoricalVae, x: tf.Tensor2D): ElboTerms {
  return tf.tidy(() => {
    const [xLogits, qLogits] = model.vae.apply(x, { training: true }) as [tf.Tensor2D, tf.Tensor3D];
    return negativeElbo(x, xLogits, qLogits);
  });
}

/**
 * Computes the loss at temperature `tau`, its gradients with respect to the
 * VAE's trainable variables (an explicit, stably ordered list: without one,
 * tfjs would train every variable in the process), and applies them.
 * Returns the loss terms as scalars still on the backend: the caller decides
 * when to read them (reading every step would stall a GPU pipeline).
 */
export function trainStep(model: CategoricalVae, optimizer: tf.Optimizer, x: tf.Tensor2D, tau?: number): ElboTerms {
  if (tau !== undefined) model.sampler.setTemperature(tau);
  const variables = trainableVariables(model);
  return tf.tidy(() => {
    let recon: tf.Scalar | undefined;
    let kl: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const terms = trainingLoss(model, x);
      recon = tf.keep(terms.recon);
      kl = tf.keep(terms.kl);
      return terms.loss;
    }, variables);
    optimizer.applyGradients(grads);
    return { loss: value, recon: recon!, kl: kl! };
  });
}
