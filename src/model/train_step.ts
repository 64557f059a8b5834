/**
 * One optimisation step of the negative ELBO: the unit of work of training.
 */
import * as tf from '@tensorflow/tfjs';
import { fastTrainStep, supportsFastStep } from './fast_step.js';
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
 * The step through tfjs's autodiff: gradients of trainingLoss with respect to
 * the VAE's trainable variables, an explicit and stably ordered list (without
 * one, tfjs would train every variable in the process, and Adam's saved
 * moments are positional). Works for any variant, a learned tau included.
 */
export function tapeTrainStep(model: CategoricalVae, optimizer: tf.Optimizer, x: tf.Tensor2D): ElboTerms {
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

export interface StepOptions {
  /** Compute the loss terms (default true); the fast path skips them otherwise. */
  metrics?: boolean;
}

/**
 * One step at temperature `tau` on images x [B, D]. Returns the loss terms
 * as scalars still on the backend: the caller decides when to read them
 * (reading every step would stall a GPU pipeline). Uses the hand-written
 * backward (fast_step.ts) where it applies, the tape otherwise; both draw
 * the same noise from the sampler's stream, so either can resume the other.
 */
export function trainStep(model: CategoricalVae, optimizer: tf.Optimizer, x: tf.Tensor2D, tau: number): ElboTerms;
export function trainStep(
  model: CategoricalVae,
  optimizer: tf.Optimizer,
  x: tf.Tensor2D,
  tau: number,
  options: StepOptions,
): ElboTerms | null;
export function trainStep(
  model: CategoricalVae,
  optimizer: tf.Optimizer,
  x: tf.Tensor2D,
  tau: number,
  options: StepOptions = {},
): ElboTerms | null {
  // Keeps the saved temperature in step with training (one scalar write).
  model.sampler.setTemperature(tau);
  const metrics = options.metrics ?? true;
  if (supportsFastStep(model)) return fastTrainStep(model, optimizer, x, tau, metrics);
  const terms = tapeTrainStep(model, optimizer, x);
  if (metrics) return terms;
  tf.dispose([terms.loss, terms.recon, terms.kl]);
  return null;
}
