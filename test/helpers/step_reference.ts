/** What the hand-written step's tests compare against: the tape's gradients, on MNIST-like binary images. */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { trainingLoss } from '../../src/model/train_step.js';
import { trainableVariables, type CategoricalVae } from '../../src/model/vae.js';

/** Binary images, about 15% ones like MNIST: the sparse first layer's case. */
export const images = (b: number, seed: number) =>
  tf.tidy(() => tf.randomUniform([b, 784], 0, 1, 'float32', seed).less(0.15).cast('float32')) as tf.Tensor2D;

/** The tape's gradients and loss with the sampler's stream at `calls`. */
export function tapeGradients(model: CategoricalVae, x: tf.Tensor2D, tau: number, calls: number) {
  model.sampler.setTemperature(tau);
  model.sampler.noiseState = { seed: 9, calls };
  let loss = 0;
  const { grads } = tf.variableGrads(() => {
    const terms = trainingLoss(model, x);
    loss = terms.loss.dataSync()[0];
    return terms.loss;
  }, trainableVariables(model));
  return { grads, loss };
}

/**
 * The largest difference between two gradient maps over the model's
 * variables, relative to each tape gradient's largest entry (which must not be 0).
 */
export function worstRelativeGap(model: CategoricalVae, tape: tf.NamedTensorMap, fast: tf.NamedTensorMap): number {
  let worst = 0;
  for (const v of trainableVariables(model)) {
    const a = tape[v.name].dataSync();
    const b = fast[v.name].dataSync();
    const scale = Math.max(...Array.from(a, Math.abs));
    assert.ok(scale > 0, `${v.name}: zero gradient`);
    let err = 0;
    a.forEach((value, i) => (err = Math.max(err, Math.abs(value - b[i]))));
    worst = Math.max(worst, err / scale);
  }
  return worst;
}
