/**
 * catvae's browser-safe entry (`import ... from 'catvae'`): the layer, its
 * temperature schedule, the losses and the VAE builder, on plain tfjs. Nothing
 * reached from here imports a Node module (test/browser_bundle.test.ts);
 * what needs Node is in 'catvae/node' (src/node.ts).
 */
import { warnIfTwoTfjsCopies } from './tfjs_copies.js';

// The layer, its maths and its temperature schedule: usable in any tfjs model.
export { GumbelSoftmax, gumbelSoftmax, findGumbelSoftmaxLayers, INFERENCE_MODES } from './layers/gumbel_softmax.js';
export type { GumbelSoftmaxArgs, InferenceMode } from './layers/gumbel_softmax.js';
export {
  gumbelNoiseValues,
  sampleGumbel,
  relaxedOneHot,
  straightThrough,
  oneHotArgmax,
  softmaxAlong,
  GUMBEL_NOISE_KERNEL,
} from './layers/gumbel_noise.js';
export {
  TemperatureSchedule,
  TemperatureAnnealer,
  temperatureAnnealer,
  annealedTemperature,
  DEFAULT_TEMPERATURE_SCHEDULE,
} from './layers/temperature_schedule.js';
export type { TemperatureScheduleConfig, TemperatureAnnealerArgs } from './layers/temperature_schedule.js';

// The categorical VAE: builder, configuration and loss.
export { buildVae, fromLoadedModel, configOfModel, trainableVariables, parameterCount } from './model/vae.js';
export type { CategoricalVae } from './model/vae.js';
export { makeTrainConfig, DEFAULT_VAE_CONFIG, DEFAULT_TRAIN_CONFIG, ConfigError, learningRateAt } from './model/config.js';
export type { VaeConfig, TrainConfig, LearningRateDecay } from './model/config.js';
export { bernoulliNll, categoricalKlToUniform, negativeElbo, logMeanExp } from './model/loss.js';
export type { ElboTerms } from './model/loss.js';
export { BINARIZATIONS, NUM_CLASSES, isBinarization } from './data/types.js';
export type { Binarization } from './data/types.js';
export { Rng, deriveSeed } from './random.js';
export { tfjsCopiesProblem } from './tfjs_copies.js';

warnIfTwoTfjsCopies();
