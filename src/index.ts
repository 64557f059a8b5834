/**
 * catvae's browser-safe entry (`import ... from 'catvae'`): the layer, its
 * temperature schedule, the losses, the VAE builder, its training step,
 * evaluation and generation, and the named ops, on plain tfjs. Nothing
 * reached from here imports a Node module (test/browser_bundle.test.ts);
 * what needs Node is in 'catvae/node' (src/node.ts).
 */
import { warnIfTwoTfjsCopies } from './tfjs_copies.js';

// The layer, its maths and its temperature schedule: usable in any tfjs model.
export { GumbelSoftmax, gumbelSoftmax, findGumbelSoftmaxLayers, INFERENCE_MODES, NOISE_GENERATORS } from './layers/gumbel_softmax.js';
export type { GumbelSoftmaxArgs, InferenceMode, NoiseGenerator } from './layers/gumbel_softmax.js';
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
  ESTIMATORS,
  DEFAULT_RAO_SAMPLES,
  reinmaxSample,
  reinmaxBackward,
  gumbelRaoSample,
  gumbelRaoBackward,
  gappedStraightThroughSample,
  gapShift,
  DEFAULT_GAP,
  conditionalGumbelLogits,
  gumbelMax,
} from './layers/estimators.js';
export type { Estimator } from './layers/estimators.js';
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
export { trainStep, trainingLoss } from './model/train_step.js';
export { evaluateVae, TEST_SEED } from './model/evaluate.js';
export type { EvalOptions, EvalResult } from './model/evaluate.js';
export { encode, decode, codesOf, samplePrior, reconstruct, traverseCodes } from './model/generate.js';

// Named ops (a backend plug-in registers faster kernels under their names) and the fused Adam.
export {
  hasKernel,
  runOp,
  relaxedSoftmax,
  latentGradient,
  reluGradient,
  bernoulliGradient,
  RELAXED_SOFTMAX_KERNEL,
  LATENT_GRADIENT_KERNEL,
  RELU_GRADIENT_KERNEL,
  BERNOULLI_GRADIENT_KERNEL,
  gumbelRaoGradient,
  GUMBEL_RAO_GRADIENT_KERNEL,
  gumbelFromUniform,
  counterGumbel,
  counterUniform,
  philoxKey,
  philox4x32,
  COUNTER_GUMBEL_KERNEL,
  sparseInputDense,
  sparseInputKernelGrad,
  SPARSE_DENSE_KERNEL,
  SPARSE_DENSE_GRAD_KERNEL,
  FusedAdamOptimizer,
  fusedAdam,
  adamUpdate,
  ADAM_KERNEL,
} from './ops/index.js';
export type { AdamAttrs } from './ops/index.js';

export { BINARIZATIONS, NUM_CLASSES, isBinarization } from './data/types.js';
export type { Binarization } from './data/types.js';
export { Rng, deriveSeed } from './random.js';
export { tfjsCopiesProblem } from './tfjs_copies.js';

warnIfTwoTfjsCopies();
