/**
 * The schema of a checkpoint's state.json, checked field by field before a
 * resume, evaluate or inspect trusts it. Hand-written rather than a schema
 * library: the file has about forty fields, the checks need the project's own
 * config validation (validateTrainConfig) anyway, and a small pure module keeps
 * the browser-safe packages free of a runtime dependency. Each failure is one
 * line naming the field path, what it must be and what it holds.
 */
import { ConfigError, makeTrainConfig, type TrainConfig } from './config.js';

/** A state.json that breaks the schema; `field` is a dotted path such as `config.model.latentVars`. */
export class StateSchemaError extends Error {
  override name = 'StateSchemaError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;

const show = (value: unknown): string => {
  if (value === undefined) return 'nothing (missing)';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};

function fail(field: string, what: string, value: unknown): never {
  throw new StateSchemaError(field, `field '${field}' must be ${what}, got ${show(value)}`);
}

function object(value: unknown, field: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(field, 'an object', value);
  return value as Obj;
}

function finite(o: Obj, key: string, prefix: string, options: { min?: number; above?: number; integer?: boolean } = {}): number {
  const field = prefix + key;
  const v = o[key];
  const what = [
    options.integer ? 'an integer' : 'a finite number',
    options.min !== undefined ? `>= ${options.min}` : '',
    options.above !== undefined ? `> ${options.above}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, what, v);
  if (options.integer && !Number.isInteger(v)) fail(field, what, v);
  if (options.min !== undefined && v < options.min) fail(field, what, v);
  if (options.above !== undefined && !(v > options.above)) fail(field, what, v);
  return v;
}

function nullableFinite(o: Obj, key: string, prefix: string): void {
  if (o[key] !== null) finite(o, key, prefix);
}

function string(o: Obj, key: string, prefix: string): string {
  if (typeof o[key] !== 'string') fail(prefix + key, 'a string', o[key]);
  return o[key] as string;
}

const CONFIG_KEYS = [
  'model',
  'schedule',
  'epochs',
  'steps',
  'batchSize',
  'learningRate',
  'lrDecay',
  'seed',
  'logEvery',
  'validationSize',
  'trainSize',
  'dataDir',
] as const;
const MODEL_KEYS = ['inputDim', 'latentVars', 'categories', 'encoderUnits', 'decoderUnits', 'hard'] as const;
const SCHEDULE_KEYS = ['tau0', 'tauMin', 'rate', 'interval'] as const;

/**
 * The training config: every field of the first checkpoint format present (a
 * missing one would silently resume with a default), then the usual checks.
 * Fields added since (binarization, and any later ones) take their defaults,
 * so older checkpoints still load.
 */
function checkConfig(value: unknown): TrainConfig {
  const config = object(value, 'config');
  for (const key of CONFIG_KEYS) if (!(key in config)) fail(`config.${key}`, 'present', undefined);
  const model = object(config.model, 'config.model');
  for (const key of MODEL_KEYS) if (!(key in model)) fail(`config.model.${key}`, 'present', undefined);
  const schedule = object(config.schedule, 'config.schedule');
  for (const key of SCHEDULE_KEYS) finite(schedule, key, 'config.schedule.');
  for (const key of ['inputDim', 'latentVars', 'categories'] as const) finite(model, key, 'config.model.', { integer: true, min: 1 });
  if (typeof model.hard !== 'boolean') fail('config.model.hard', 'true or false', model.hard);
  if (config.dataDir !== null && typeof config.dataDir !== 'string') fail('config.dataDir', 'a path or null', config.dataDir);
  try {
    // Runs saved before the noise option drew their noise from sfc32 (their model.json says so too).
    return makeTrainConfig({
      ...(config as unknown as TrainConfig),
      model: { noise: 'sfc32', ...(model as object) } as TrainConfig['model'],
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new StateSchemaError('config', `field 'config': ${error.message}`);
    throw error;
  }
}

function checkHistory(value: unknown): void {
  if (!Array.isArray(value)) fail('history', 'a list of epoch records', value);
  value.forEach((entry, i) => {
    const prefix = `history[${i}].`;
    const record = object(entry, `history[${i}]`);
    finite(record, 'epoch', prefix, { integer: true, min: 0 });
    finite(record, 'step', prefix, { integer: true, min: 0 });
    for (const key of ['tau', 'learning_rate', 'train_loss', 'train_recon', 'train_kl', 'seconds', 'images_per_sec']) {
      // An epoch whose loss was never measured holds null (JSON has no NaN).
      if (record[key] !== null) finite(record, key, prefix);
    }
    for (const key of ['val_neg_elbo', 'val_recon', 'val_kl']) nullableFinite(record, key, prefix);
  });
}

/** The optional data fingerprint and weight checksums written since format 1.1. */
function checkExtras(state: Obj): void {
  if (state.data !== undefined) {
    const data = object(state.data, 'data');
    if (data.dir !== null) string(data, 'dir', 'data.');
    string(data, 'fingerprint', 'data.');
  }
  if (state.checksums !== undefined) {
    const sums = object(state.checksums, 'checksums');
    for (const [name, sum] of Object.entries(sums)) {
      if (typeof sum !== 'string' || !/^[0-9a-f]{64}$/.test(sum)) fail(`checksums.${name}`, 'a sha256 in hex', sum);
    }
  }
}

/**
 * Checks a parsed state.json against the schema; returns it typed. The caller
 * has checked `format` and `formatVersion` (their messages say more).
 */
export function validateStateFile<T>(value: unknown): T {
  const state = object(value, '(top level)');
  const config = checkConfig(state.config);
  const step = finite(state, 'step', '', { integer: true, min: 0 });
  finite(state, 'epoch', '', { integer: true, min: 0 });
  const batchInEpoch = finite(state, 'batchInEpoch', '', { integer: true, min: 0 });
  const sums = object(state.epochSums, 'epochSums');
  for (const key of ['loss', 'recon', 'kl', 'seconds']) finite(sums, key, 'epochSums.');
  for (const key of ['count', 'steps']) finite(sums, key, 'epochSums.', { integer: true, min: 0 });
  if (batchInEpoch > step) fail('batchInEpoch', `at most step (${step})`, batchInEpoch);
  const tau = finite(state, 'tau', '', { above: 0 });
  if (tau > config.schedule.tau0 * (1 + 1e-6) || tau < config.schedule.tauMin * (1 - 1e-6)) {
    fail('tau', `within the schedule's [${config.schedule.tauMin}, ${config.schedule.tau0}]`, tau);
  }
  const noise = object(state.noise, 'noise');
  finite(noise, 'seed', 'noise.', { integer: true, min: 0 });
  if (Number(noise.seed) > 0xffffffff) fail('noise.seed', 'below 2^32', noise.seed);
  finite(noise, 'calls', 'noise.', { integer: true, min: 0 });
  checkHistory(state.history);
  if (state.best !== null) {
    const best = object(state.best, 'best');
    finite(best, 'val_neg_elbo', 'best.');
    finite(best, 'step', 'best.', { integer: true, min: 0 });
    finite(best, 'epoch', 'best.', { integer: true, min: 0 });
  }
  string(state, 'backend', '');
  object(state.versions, 'versions');
  string(state, 'savedAt', '');
  checkExtras(state);
  // The config as makeTrainConfig completes it: fields added since the checkpoint was written take their defaults.
  return { ...state, config } as T;
}
