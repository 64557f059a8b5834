/** catvae's public API. */

// The layer, its maths and its temperature schedule: usable in any tfjs model.
export { GumbelSoftmax, gumbelSoftmax, findGumbelSoftmaxLayers, INFERENCE_MODES } from './layers/gumbel_softmax.js';
export type { GumbelSoftmaxArgs, InferenceMode } from './layers/gumbel_softmax.js';
export { gumbelNoiseValues, sampleGumbel, relaxedOneHot, straightThrough, oneHotArgmax, softmaxAlong } from './layers/gumbel_noise.js';
export {
  ESTIMATORS,
  DEFAULT_RAO_SAMPLES,
  reinmaxSample,
  reinmaxBackward,
  gumbelRaoSample,
  gumbelRaoBackward,
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

// The categorical VAE.
export { buildVae, fromLoadedModel, trainableVariables, parameterCount } from './model/vae.js';
export type { CategoricalVae } from './model/vae.js';
export { makeTrainConfig, DEFAULT_VAE_CONFIG, DEFAULT_TRAIN_CONFIG, ConfigError, learningRateAt } from './model/config.js';
export type { VaeConfig, TrainConfig, LearningRateDecay } from './model/config.js';
export { bernoulliNll, categoricalKlToUniform, negativeElbo, logMeanExp } from './model/loss.js';
export type { ElboTerms } from './model/loss.js';
export { trainStep, trainingLoss } from './model/train_step.js';
export { train } from './model/trainer.js';
export type { TrainOptions, TrainResult, TrainerHooks, StepLog } from './model/trainer.js';
export { saveCheckpoint, loadCheckpoint, resolveCheckpointDir, CheckpointError } from './model/checkpoint.js';
export type { LoadedCheckpoint, TrainState, EpochRecord } from './model/checkpoint.js';
export { evaluateVae, TEST_SEED } from './model/evaluate.js';
export type { EvalOptions, EvalResult } from './model/evaluate.js';
export { encode, decode, codesOf, samplePrior, reconstruct, traverseCodes } from './model/generate.js';

// Data.
export * from './data/index.js';

// TensorBoard event files and pictures, on every backend.
export * from './tensorboard/index.js';
export { encodePng, decodePng, tileImages } from './image/index.js';
export type { PixelImage, ImageBatch } from './image/index.js';

// Backends and disk IO.
export { selectBackend, BACKENDS, BACKEND_CHOICES, BackendUnavailable } from './backend.js';
export type { BackendName, BackendChoice, BackendSelection } from './backend.js';
export { fileSystem, ensureFileSystemHandlers } from './io/file_io.js';
export { Rng, deriveSeed } from './random.js';
