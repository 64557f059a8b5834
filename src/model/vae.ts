/**
 * The categorical VAE: encoder MLP -> N x K logits -> GumbelSoftmax ->
 * decoder MLP -> Bernoulli logits. Encoder, decoder and the whole VAE are
 * tfjs LayersModels that share their layers, so each can be used alone.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_RAO_SAMPLES, resolveEstimator } from '../layers/estimators.js';
import { GumbelSoftmax } from '../layers/gumbel_softmax.js';
import { deriveSeed } from '../random.js';
import { DEFAULT_VAE_CONFIG, validateVaeConfig, type VaeConfig } from './config.js';

export interface CategoricalVae {
  config: VaeConfig;
  /** x [b, D] -> logits [b, N, K] (no activation on the logits). */
  encoder: tf.LayersModel;
  /** codes [b, N, K] (one-hot or relaxed) -> Bernoulli logits [b, D]. */
  decoder: tf.LayersModel;
  /** x -> [Bernoulli logits [b, D], logits [b, N, K]]: what is trained and saved. */
  vae: tf.LayersModel;
  /** The GumbelSoftmax layer between them (holds tau and the noise stream). */
  sampler: GumbelSoftmax;
}

/** Layer names: fixed, so a saved VAE can be taken apart again after loading. */
const ENCODER_HIDDEN = (i: number) => `encoder_hidden_${i + 1}`;
const DECODER_HIDDEN = (i: number) => `decoder_hidden_${i + 1}`;
const NAMES = {
  encoderLogits: 'encoder_logits',
  encoderReshape: 'encoder_reshape',
  sampler: 'gumbel_softmax',
  decoderFlatten: 'decoder_flatten',
  decoderLogits: 'decoder_logits',
} as const;

function dense(name: string, units: number, seed: number, activation: 'relu' | 'linear'): tf.layers.Layer {
  return tf.layers.dense({
    name,
    units,
    activation,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  });
}

/** Connects the layers (new or loaded) into the three models. */
function assemble(config: VaeConfig, layer: (name: string) => tf.layers.Layer): CategoricalVae {
  const { inputDim, latentVars: n, categories: k } = config;
  const apply = (name: string, input: tf.SymbolicTensor) => layer(name).apply(input) as tf.SymbolicTensor;

  const encoderIn = tf.input({ shape: [inputDim], name: 'x' });
  let h = encoderIn;
  config.encoderUnits.forEach((_, i) => (h = apply(ENCODER_HIDDEN(i), h)));
  const logits = apply(NAMES.encoderReshape, apply(NAMES.encoderLogits, h));
  const encoder = tf.model({ inputs: encoderIn, outputs: logits, name: 'encoder' });

  const decoderIn = tf.input({ shape: [n, k], name: 'z' });
  const decode = (codes: tf.SymbolicTensor) => {
    let d = apply(NAMES.decoderFlatten, codes);
    config.decoderUnits.forEach((_, i) => (d = apply(DECODER_HIDDEN(i), d)));
    return apply(NAMES.decoderLogits, d);
  };
  const decoder = tf.model({ inputs: decoderIn, outputs: decode(decoderIn), name: 'decoder' });

  const sampler = layer(NAMES.sampler) as GumbelSoftmax;
  const xLogits = decode(sampler.apply(logits) as tf.SymbolicTensor);
  const vae = tf.model({ inputs: encoderIn, outputs: [xLogits, logits], name: 'categorical_vae' });
  return { config, encoder, decoder, vae, sampler };
}

/** A new VAE with seeded initial weights and noise. */
export function buildVae(config: VaeConfig, seed: number, temperature = 1): CategoricalVae {
  validateVaeConfig(config);
  const { inputDim, latentVars: n, categories: k } = config;
  let s = 0;
  const next = () => deriveSeed(seed, 1000 + s++);
  const layers = new Map<string, tf.layers.Layer>();
  config.encoderUnits.forEach((u, i) => layers.set(ENCODER_HIDDEN(i), dense(ENCODER_HIDDEN(i), u, next(), 'relu')));
  layers.set(NAMES.encoderLogits, dense(NAMES.encoderLogits, n * k, next(), 'linear'));
  layers.set(NAMES.encoderReshape, tf.layers.reshape({ name: NAMES.encoderReshape, targetShape: [n, k] }));
  const sampler = new GumbelSoftmax({
    name: NAMES.sampler,
    temperature,
    // VaeConfigs written before the estimator option say only `hard`.
    estimator: resolveEstimator(config.estimator, config.hard),
    raoSamples: config.raoSamples ?? DEFAULT_RAO_SAMPLES,
    noise: config.noise ?? DEFAULT_VAE_CONFIG.noise,
    seed: deriveSeed(seed, 2),
  });
  layers.set(NAMES.sampler, sampler);
  layers.set(NAMES.decoderFlatten, tf.layers.flatten({ name: NAMES.decoderFlatten }));
  config.decoderUnits.forEach((u, i) => layers.set(DECODER_HIDDEN(i), dense(DECODER_HIDDEN(i), u, next(), 'relu')));
  layers.set(NAMES.decoderLogits, dense(NAMES.decoderLogits, inputDim, next(), 'linear'));
  return assemble(config, (name) => layers.get(name)!);
}

/** Reads N, K and the hidden sizes back from a loaded VAE's layers. */
export function configOfModel(vae: tf.LayersModel): VaeConfig {
  const units = (prefix: string) =>
    vae.layers.filter((l) => l.name.startsWith(prefix)).map((l) => (l.getConfig() as { units: number }).units);
  const sampler = vae.layers.find((l) => l instanceof GumbelSoftmax) as GumbelSoftmax | undefined;
  const logits = vae.layers.find((l) => l.name === NAMES.encoderReshape);
  if (!sampler || !logits) {
    throw new Error(`model '${vae.name}' is not a catvae VAE (no '${NAMES.sampler}' or '${NAMES.encoderReshape}' layer)`);
  }
  const [, n, k] = logits.outputShape as number[];
  return {
    inputDim: (vae.inputs[0].shape as number[])[1],
    latentVars: n,
    categories: k,
    encoderUnits: units('encoder_hidden_'),
    decoderUnits: units('decoder_hidden_'),
    hard: sampler.hard,
    estimator: sampler.estimator,
    raoSamples: sampler.raoSamples,
    noise: sampler.noise,
  };
}

/** Wraps a VAE loaded with tf.loadLayersModel back into encoder / decoder / VAE. */
export function fromLoadedModel(vae: tf.LayersModel): CategoricalVae {
  const config = configOfModel(vae);
  return assemble(config, (name) => vae.getLayer(name));
}

/** The trainable variables in a fixed order: Adam's saved moments are positional. */
export function trainableVariables(model: CategoricalVae): tf.Variable[] {
  return model.vae.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Total number of weights (parameters) of the VAE. */
export function parameterCount(model: CategoricalVae): number {
  return model.vae.countParams();
}
