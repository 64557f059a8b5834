/**
 * The VAE's training step with its backward pass written out by hand: the
 * same loss, gradients and update as the tape-based step (tf.variableGrads),
 * in about a third of the kernels. test/fast_step.test.ts checks the
 * gradients against the tape's.
 *
 * Why it is faster:
 * - no tape, so each dense layer keeps its fused matmul + bias + ReLU forward
 *   (tfjs unfuses the activation whenever a gradient is recorded);
 * - the gradients of the Bernoulli loss (sigmoid(z) - x), of the softmax and
 *   of the KL are closed forms over [B*N, K];
 * - the first layer's input is binarised pixels (~13% ones): it adds rows of
 *   W only where x is 1, forward and for dW (src/ops/sparse_dense.ts: a wasm
 *   kernel; plain dense ops on other backends or for dense inputs).
 */
import * as tf from '@tensorflow/tfjs';
import { gapShift, gumbelMax, reinmaxBackward, reinmaxDistributions } from '../layers/estimators.js';
import { oneHotArgmax } from '../layers/gumbel_noise.js';
import { gumbelRaoGradient } from '../ops/gumbel_rao.js';
import { bernoulliGradient, klGradient, latentGradient, relaxedSoftmax, reluGradient } from '../ops/step_ops.js';
import { sparseInputDense, sparseInputKernelGrad } from '../ops/sparse_dense.js';
import { bernoulliNll, categoricalKlToUniform, type ElboTerms } from './loss.js';
import { trainableVariables, type CategoricalVae } from './vae.js';

interface Dense {
  kernel: tf.Variable;
  bias: tf.Variable;
  relu: boolean;
}

/** The dense layers of the encoder or decoder, input side first. */
function denseLayers(model: CategoricalVae, part: 'encoder' | 'decoder'): Dense[] {
  const units = part === 'encoder' ? model.config.encoderUnits : model.config.decoderUnits;
  const names = [...units.map((_, i) => `${part}_hidden_${i + 1}`), `${part}_logits`];
  return names.map((name, i) => {
    const [kernel, bias] = model.vae.getLayer(name).trainableWeights.map((w) => w.read() as tf.Variable);
    return { kernel, bias, relu: i < units.length };
  });
}

/** The hand-written step applies to every catvae VAE whose temperature is not learned. */
export function supportsFastStep(model: CategoricalVae): boolean {
  return !model.sampler.learnTemperature;
}

/** Forward through a stack, keeping each layer's input for the backward pass. */
function forward(layers: Dense[], x: tf.Tensor2D, inputs: tf.Tensor2D[], sparseInput: boolean): tf.Tensor2D {
  let h = x;
  layers.forEach((l, i) => {
    inputs.push(h);
    const activation = l.relu ? 'relu' : 'linear';
    const [w, b] = [l.kernel as tf.Tensor2D, l.bias as tf.Tensor1D];
    h =
      i === 0 && sparseInput
        ? sparseInputDense(h, w, b, activation)
        : (tf.fused.matMul({ a: h, b: w, bias: b, activation }) as tf.Tensor2D);
  });
  return h;
}

/**
 * q(z|x) logits [B, N*K] of images x [B, D] without a tape: the encoder's
 * dense layers, the first one on the sparse path (binarised pixels are ~13%
 * ones, a third of the encoder's arithmetic saved). Evaluation's passes over
 * 10,000 images use it.
 */
export function encoderLogits(model: CategoricalVae, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => forward(denseLayers(model, 'encoder'), x, [], true));
}

/** Backward through a stack from d(output), filling `grads`; returns d(input) when asked. */
function backward(layers: Dense[], inputs: tf.Tensor2D[], d: tf.Tensor2D, grads: tf.NamedTensorMap, sparseInput: boolean): tf.Tensor2D {
  const ones = tf.ones([1, d.shape[0]]) as tf.Tensor2D;
  for (let i = layers.length - 1; i >= 0; i--) {
    const { kernel, bias } = layers[i];
    const input = inputs[i];
    grads[kernel.name] = i === 0 && sparseInput ? sparseInputKernelGrad(input, d) : tf.matMul(input, d, true, false);
    // Column sums as a product 1^T d: tfjs-wasm's Sum over axis 0 transposes d first and costs ~10x more.
    grads[bias.name] = tf.reshape(tf.matMul(ones, d), [d.shape[1]]);
    if (i === 0 && sparseInput) break; // d(pixels) is not needed
    d = tf.matMul(d, kernel as tf.Tensor2D, false, true);
    // The input of layer i is the ReLU output of layer i-1: d passes where it was > 0.
    if (i > 0 && layers[i - 1].relu) d = reluGradient(d, input) as tf.Tensor2D;
  }
  return d;
}

/**
 * d/dlogits [B, N*K] for the one-hot estimators, given dy = dL/dD and the
 * sample D [B*N, K], klWeight times the KL's gradient included: ReinMax's
 * backward (layers/estimators.ts, the layer's functions) plus klGradient;
 * Gumbel-Rao's op (ops/gumbel_rao.ts, the layer's backward too), which adds
 * the KL term itself.
 */
function oneHotLatentGradient(
  estimator: 'reinmax' | 'gumbel-rao',
  dy: tf.Tensor2D,
  logits: tf.Tensor2D,
  sample: tf.Tensor,
  tau: number,
  raoNoise: tf.Tensor | null,
  klWeight: number,
): tf.Tensor2D {
  const k = sample.shape[1]!;
  if (estimator === 'gumbel-rao') {
    if (!raoNoise) throw new Error('fastGradients: the gumbel-rao estimator needs the raoNoise of drawEstimatorNoise');
    return gumbelRaoGradient(dy, logits, sample, raoNoise, tau, k, klWeight) as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const [l, d] = [tf.reshape(logits, [-1, k]), tf.reshape(dy, [-1, k])] as tf.Tensor2D[];
    const { pi0, pi1 } = reinmaxDistributions(l, sample, tau);
    return tf.reshape(tf.add(reinmaxBackward(d, pi0, pi1), klGradient(l, k, klWeight)), logits.shape) as tf.Tensor2D;
  });
}

/**
 * Gradients of the batch-mean negative ELBO with respect to the VAE's
 * trainable variables (keyed by variable name), for images x [B, D], Gumbel
 * noise [B, N, K] (with Gumbel-Rao, also the sampler's raoNoise
 * [raoSamples, B, N, K]) and temperature tau; and the loss terms when `metrics` is
 * set. The gradients do not need the loss itself, whose softplus over every
 * pixel is the costliest elementwise kernel of the step on wasm.
 */
export function fastGradients(
  model: CategoricalVae,
  x: tf.Tensor2D,
  noise: tf.Tensor,
  tau: number,
  metrics = true,
  raoNoise: tf.Tensor | null = null,
): { grads: tf.NamedTensorMap; terms: ElboTerms | null } {
  const estimator = model.sampler.estimator;
  const { latentVars: n, categories: k } = model.config;
  const batch = x.shape[0];
  const encoder = denseLayers(model, 'encoder');
  const decoder = denseLayers(model, 'decoder');
  const grads: tf.NamedTensorMap = {};
  const terms = tf.tidy((): ElboTerms => {
    const encoderInputs: tf.Tensor2D[] = [];
    const logits = forward(encoder, x, encoderInputs, true);
    const rows = [batch * n, k];
    // ReinMax and Gumbel-Rao: backward passes of their own (oneHotLatentGradient), from D alone.
    const ownBackward = estimator === 'reinmax' || estimator === 'gumbel-rao';
    // Those and gapped straight-through: the decoder sees D = one_hot(argmax(logits + g)), per variable.
    const sample =
      ownBackward || estimator === 'gapped-straight-through' ? gumbelMax(tf.reshape(logits, rows), tf.reshape(noise, rows)) : null;
    // The others' gradient flows through a relaxed sample: y = softmax((logits + g) / tau), or for
    // gapped straight-through softmax((logits + m) / tau) with its deterministic shift m given D.
    const y = ownBackward
      ? null
      : sample
        ? relaxedSoftmax(logits, gapShift(tf.reshape(logits, rows), sample, model.sampler.gap), tau, k)
        : relaxedSoftmax(logits, noise, tau, k);
    // Straight-through: the decoder sees one_hot(argmax y); the gradient flows to y unchanged.
    const codes = sample ?? (estimator === 'straight-through' ? oneHotArgmax(tf.reshape(y!, rows)) : y!);
    const decoderInputs: tf.Tensor2D[] = [];
    const xLogits = forward(decoder, tf.reshape(codes, [batch, n * k]) as tf.Tensor2D, decoderInputs, false);

    // d/dz of mean_b sum_pixels BCE(z, x) = (sigmoid(z) - x) / B
    const dz = bernoulliGradient(xLogits, x, 1 / batch) as tf.Tensor2D;
    const dy = backward(decoder, decoderInputs, dz, grads, false);
    // Through the relaxed sample, plus the KL's gradient (/ B for the batch mean).
    const dLogits = ownBackward
      ? oneHotLatentGradient(estimator, dy, logits, sample!, tau, raoNoise, 1 / batch)
      : (latentGradient(dy, y!, logits, tau, k, 1 / batch) as tf.Tensor2D);
    backward(encoder, encoderInputs, dLogits, grads, true);
    Object.values(grads).forEach((g) => tf.keep(g));
    // tidy keeps only tensors it returns: an empty object stands for "no terms".
    if (!metrics) return {} as ElboTerms;
    const recon = bernoulliNll(x, xLogits).mean() as tf.Scalar;
    const kl = categoricalKlToUniform(tf.reshape(logits, [batch, n, k]) as tf.Tensor3D).mean() as tf.Scalar;
    return { loss: tf.add(recon, kl) as tf.Scalar, recon, kl };
  });
  // Adam keys its moments by position in this map: the order must be that of trainableVariables.
  const ordered: tf.NamedTensorMap = {};
  for (const v of trainableVariables(model)) ordered[v.name] = grads[v.name];
  return { grads: ordered, terms: metrics ? terms : null };
}

/** One step: the noise of the sampler's stream, the hand-written gradients, the optimizer's update. */
export function fastTrainStep(
  model: CategoricalVae,
  optimizer: tf.Optimizer,
  x: tf.Tensor2D,
  tau: number,
  metrics = true,
): ElboTerms | null {
  const { latentVars: n, categories: k } = model.config;
  const { gumbel, raoNoise } = model.sampler.drawEstimatorNoise([x.shape[0], n, k]);
  const { grads, terms } = fastGradients(model, x, gumbel, tau, metrics, raoNoise);
  optimizer.applyGradients(grads);
  tf.dispose([gumbel, ...(raoNoise ? [raoNoise] : []), ...Object.values(grads)]);
  return terms;
}
