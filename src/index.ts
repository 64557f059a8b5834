/** catvae's public API. */
export { GumbelSoftmax, gumbelSoftmax, findGumbelSoftmaxLayers, INFERENCE_MODES } from './layers/gumbel_softmax.js';
export type { GumbelSoftmaxArgs, InferenceMode } from './layers/gumbel_softmax.js';
export { gumbelNoiseValues, sampleGumbel, relaxedOneHot, straightThrough, oneHotArgmax, softmaxAlong } from './layers/gumbel_noise.js';
export {
  TemperatureSchedule,
  TemperatureAnnealer,
  temperatureAnnealer,
  annealedTemperature,
  DEFAULT_TEMPERATURE_SCHEDULE,
} from './layers/temperature_schedule.js';
export type { TemperatureScheduleConfig, TemperatureAnnealerArgs } from './layers/temperature_schedule.js';
export { selectBackend, BACKENDS, BACKEND_CHOICES, BackendUnavailable } from './backend.js';
export type { BackendName, BackendChoice, BackendSelection } from './backend.js';
export { fileSystem, ensureFileSystemHandlers } from './io/file_io.js';
export { Rng, deriveSeed } from './random.js';
