/**
 * The configuration of a categorical VAE and of its training run: defaults in
 * one place, validated once at the edge (CLI or API), then passed inward.
 */
import { BINARIZATIONS, isBinarization, type Binarization } from '../data/types.js';
import { DEFAULT_RAO_SAMPLES, resolveEstimator, validateRaoSamples, type Estimator } from '../layers/estimators.js';
import { NOISE_GENERATORS, type NoiseGenerator } from '../layers/noise_stream.js';
import { DEFAULT_TEMPERATURE_SCHEDULE, validateSchedule, type TemperatureScheduleConfig } from '../layers/temperature_schedule.js';

export interface VaeConfig {
  /** Pixels per image (784 for MNIST). */
  inputDim: number;
  /** N: number of categorical latent variables. */
  latentVars: number;
  /** K: classes per variable. */
  categories: number;
  /** Hidden layer sizes of the encoder, input side first. */
  encoderUnits: number[];
  /** Hidden layer sizes of the decoder, code side first. */
  decoderUnits: number[];
  /** Straight-through (one-hot forward) samples during training: estimator 'straight-through', kept for older checkpoints. */
  hard: boolean;
  /** The gradient estimator of the latent samples (see README); absent in older configs: read `hard`. */
  estimator?: Estimator;
  /** Gumbel-Rao: conditional draws averaged per step (absent: 10). */
  raoSamples?: number;
  /** The generator of the training noise (see the layer's `noise`); absent in older configs: 'sfc32'. */
  noise?: NoiseGenerator;
}

/** Jang et al. 2017, Table 1: 20 variables of 10 classes, 512-256 MLPs. */
export const DEFAULT_VAE_CONFIG: Readonly<Required<VaeConfig>> = Object.freeze({
  inputDim: 784,
  latentVars: 20,
  categories: 10,
  encoderUnits: [512, 256],
  decoderUnits: [256, 512],
  hard: false,
  estimator: 'gumbel-softmax',
  raoSamples: DEFAULT_RAO_SAMPLES,
  noise: 'philox',
});

/**
 * Temperature schedules that differ from the notebook's per estimator:
 * ReinMax keeps tau at 1 (Liu et al. 2023 use tau >= 1; its second-order
 * correction assumes no sharpening below the sample's own softmax).
 */
export const ESTIMATOR_SCHEDULES: Readonly<Partial<Record<Estimator, Partial<TemperatureScheduleConfig>>>> = Object.freeze({
  reinmax: { tau0: 1, tauMin: 1 },
});
/** The lowest temperature ReinMax accepts. */
export const REINMAX_MIN_TAU = 1;

export interface LearningRateDecay {
  /** Multiply the learning rate by `factor`... */
  factor: number;
  /** ...every `every` steps (the original notebook: 0.9 every 1000). */
  every: number;
}

export interface TrainConfig {
  model: VaeConfig;
  schedule: TemperatureScheduleConfig;
  epochs: number;
  /** Stop after this many steps in all (overrides epochs when set). */
  steps: number | null;
  batchSize: number;
  learningRate: number;
  lrDecay: LearningRateDecay | null;
  seed: number;
  /** Read metrics back from the backend every this many steps. */
  logEvery: number;
  validationSize: number;
  trainSize: number | null;
  dataDir: string | null;
  /** How training images become binary (validation and test always use 'fixed'). */
  binarization: Binarization;
}

export const DEFAULT_TRAIN_CONFIG: Readonly<Omit<TrainConfig, 'model' | 'schedule'>> = Object.freeze({
  epochs: 10,
  steps: null,
  batchSize: 100,
  learningRate: 1e-3,
  lrDecay: null,
  seed: 1,
  logEvery: 50,
  validationSize: 10000,
  trainSize: null,
  dataDir: null,
  binarization: 'dynamic',
});

/** A configuration error: one line that names the field and what it accepts. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function positiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${what} must be a positive integer, got ${value}`);
}

export function validateVaeConfig(config: VaeConfig): VaeConfig {
  positiveInt(config.inputDim, 'inputDim');
  positiveInt(config.latentVars, 'latent-vars (N)');
  positiveInt(config.categories, 'categories (K)');
  if (config.categories < 2) throw new ConfigError(`categories (K) must be at least 2, got ${config.categories}`);
  for (const [name, units] of [
    ['encoder units', config.encoderUnits],
    ['decoder units', config.decoderUnits],
  ] as const) {
    if (!Array.isArray(units)) throw new ConfigError(`${name} must be a list of positive integers`);
    units.forEach((u) => positiveInt(u, name));
  }
  try {
    resolveEstimator(config.estimator, config.hard);
    if (config.raoSamples !== undefined) validateRaoSamples(config.raoSamples);
    if (config.noise !== undefined && !NOISE_GENERATORS.includes(config.noise)) {
      throw new Error(`noise must be one of ${NOISE_GENERATORS.join(', ')}, got ${String(config.noise)}`);
    }
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return config;
}

export function validateTrainConfig(config: TrainConfig): TrainConfig {
  validateVaeConfig(config.model);
  try {
    validateSchedule(config.schedule);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (config.model.estimator === 'reinmax' && Math.min(config.schedule.tau0, config.schedule.tauMin) < REINMAX_MIN_TAU) {
    throw new ConfigError(
      `estimator reinmax needs tau >= ${REINMAX_MIN_TAU} (Liu et al. 2023), got tau0 ${config.schedule.tau0}, tau-min ${config.schedule.tauMin}: raise --tau0 / --tau-min or drop them`,
    );
  }
  positiveInt(config.epochs, 'epochs');
  if (config.steps !== null) positiveInt(config.steps, 'steps');
  positiveInt(config.batchSize, 'batch-size');
  positiveInt(config.logEvery, 'log-every');
  if (!(Number.isFinite(config.learningRate) && config.learningRate > 0)) {
    throw new ConfigError(`learning-rate must be a finite number > 0, got ${config.learningRate}`);
  }
  if (config.lrDecay) {
    const { factor, every } = config.lrDecay;
    if (!(factor > 0 && factor <= 1)) throw new ConfigError(`lr-decay factor must be in (0, 1], got ${factor}`);
    positiveInt(every, 'lr-decay-every');
  }
  // Seeds are hashed as 32-bit words: larger ones would repeat smaller ones' runs.
  if (!Number.isInteger(config.seed) || config.seed < 0 || config.seed > 0xffffffff) {
    throw new ConfigError(`seed must be an integer from 0 to 4294967295 (2^32 - 1), got ${config.seed}`);
  }
  if (!Number.isInteger(config.validationSize) || config.validationSize < 0) {
    throw new ConfigError(`validation-size must be an integer >= 0, got ${config.validationSize}`);
  }
  if (config.trainSize !== null) positiveInt(config.trainSize, 'train-size');
  if (!isBinarization(config.binarization)) {
    throw new ConfigError(`binarization must be one of ${BINARIZATIONS.join(', ')}, got ${String(config.binarization)}`);
  }
  return config;
}

/** Drops keys whose value is undefined, so they do not hide defaults when spread. */
function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A full, validated training config from partial overrides (undefined means default). */
export function makeTrainConfig(
  overrides: Partial<Omit<TrainConfig, 'model' | 'schedule'>> & {
    model?: Partial<VaeConfig>;
    schedule?: Partial<TemperatureScheduleConfig>;
  } = {},
): TrainConfig {
  const { model, schedule, ...rest } = overrides;
  const vae = defined(model);
  let estimator: Estimator;
  try {
    // Checkpoints written before the estimator option hold only `hard`.
    estimator = resolveEstimator(vae.estimator, vae.hard);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return validateTrainConfig({
    ...DEFAULT_TRAIN_CONFIG,
    ...defined(rest),
    model: { ...DEFAULT_VAE_CONFIG, ...vae, estimator, hard: estimator === 'straight-through' },
    schedule: { ...DEFAULT_TEMPERATURE_SCHEDULE, ...ESTIMATOR_SCHEDULES[estimator], ...defined(schedule) },
  });
}

/** The learning rate at a step under the optional staircase decay. */
export function learningRateAt(step: number, config: Pick<TrainConfig, 'learningRate' | 'lrDecay'>): number {
  if (!config.lrDecay) return config.learningRate;
  return config.learningRate * config.lrDecay.factor ** Math.floor(step / config.lrDecay.every);
}
