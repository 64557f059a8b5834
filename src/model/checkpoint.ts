/**
 * Checkpoints: the VAE in the tfjs layers format (model.json + weights.bin),
 * Adam's state (optimizer.json + optimizer.bin) and the run's state.json,
 * written atomically so that a kill at any instant leaves the previous
 * checkpoint loadable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fileSystem, MODEL_JSON, WEIGHTS_BIN } from '../io/file_io.js';
import { describeFsError } from '../io/fs_errors.js';
import { versions } from '../versions.js';
import type { TrainConfig } from './config.js';
import {
  CheckpointError,
  configMismatch,
  nonFiniteIndices,
  nonFiniteWeights,
  refuse,
  sha256,
  STATE_JSON,
  verifyChecksum,
  type Complain,
} from './checkpoint_checks.js';
import { StateSchemaError, validateStateFile } from './state_schema.js';
import { fromLoadedModel, trainableVariables, type CategoricalVae } from './vae.js';

type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];

export const OPTIMIZER_JSON = 'optimizer.json';
export const OPTIMIZER_BIN = 'optimizer.bin';
const FORMAT = 'catvae-checkpoint';
const FORMAT_VERSION = 1;

/** One row of the metrics history: an epoch's summary. */
export interface EpochRecord {
  epoch: number;
  step: number;
  tau: number;
  learning_rate: number;
  train_loss: number;
  train_recon: number;
  train_kl: number;
  val_neg_elbo: number | null;
  val_recon: number | null;
  val_kl: number | null;
  seconds: number;
  images_per_sec: number;
}

/** Where training stands: everything besides weights that a resume needs. */
export interface TrainState {
  config: TrainConfig;
  /** Global steps taken. */
  step: number;
  /** The epoch in progress (0-based), and how many of its batches are done. */
  epoch: number;
  batchInEpoch: number;
  /** Running sums of the epoch in progress (for an interrupted epoch). */
  /** `count` steps had their loss measured, out of `steps`. */
  epochSums: { loss: number; recon: number; kl: number; count: number; steps: number; seconds: number };
  tau: number;
  noise: { seed: number; calls: number };
  history: EpochRecord[];
  best: { val_neg_elbo: number; step: number; epoch: number } | null;
  backend: string;
  /** The training data: absolute folder (null: the bundled MNIST) and a fingerprint of its files. */
  data?: { dir: string | null; fingerprint: string };
}

interface StateFile extends TrainState {
  format: typeof FORMAT;
  formatVersion: number;
  versions: Record<string, string>;
  savedAt: string;
  /** sha256 of each binary file of the checkpoint, so scrambled bytes are detected. */
  checksums?: Record<string, string>;
}

interface OptimizerFile {
  className: string;
  config: tf.serialization.ConfigDict;
  weights: tf.io.WeightsManifestEntry[];
}

export interface LoadedCheckpoint {
  dir: string;
  model: CategoricalVae;
  state: TrainState & { versions: Record<string, string>; savedAt: string };
  /** Adam's weights in order (iterations, first moments, second moments); absent if not saved. */
  optimizerWeights: NamedTensor[] | null;
  /** Damage found when loaded with `allowNonFinite` (which reports instead of refusing): one line each. */
  problems: string[];
}

/** A save refused because the weights or Adam's state hold NaN or +-Infinity: nothing was written. */
export class NonFiniteStateError extends CheckpointError {
  override name = 'NonFiniteStateError';
}

async function writeOptimizer(dir: string, weights: NamedTensor[], optimizer: tf.Optimizer): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(weights);
  // getWeights makes a new scalar for the step count each call (the moments are the optimizer's own): free it.
  weights[0].tensor.dispose();
  const file: OptimizerFile = { className: optimizer.getClassName(), config: optimizer.getConfig(), weights: specs };
  const bytes = Array.isArray(data) ? Buffer.concat(data.map((d) => Buffer.from(d))) : Buffer.from(data);
  await fs.promises.writeFile(path.join(dir, OPTIMIZER_BIN), bytes);
  await fs.promises.writeFile(path.join(dir, OPTIMIZER_JSON), JSON.stringify(file));
}

/**
 * Writes a checkpoint to `target` atomically: everything goes into a
 * temporary sibling first (state.json last), then one rename swaps it in.
 * The previous checkpoint is kept as `<target>.prev` until the swap is done.
 */
export async function saveCheckpoint(target: string, model: CategoricalVae, optimizer: tf.Optimizer, state: TrainState): Promise<void> {
  // Never write NaN over a good checkpoint: check everything a resume would read first.
  const optimizerWeights = await optimizer.getWeights();
  const nonFinite = [
    ...(await nonFiniteIndices(model.vae.weights.map((w) => w.read()))).map((i) => model.vae.weights[i].originalName),
    ...(await nonFiniteIndices(optimizerWeights.map((w) => w.tensor))).map((i) => `optimizer ${optimizerWeights[i].name}`),
  ];
  if (nonFinite.length > 0) {
    throw new NonFiniteStateError(
      `NaN or infinite values in ${nonFinite.slice(0, 3).join(', ')}${nonFinite.length > 3 ? ` and ${nonFinite.length - 3} more` : ''}; ${target} was not overwritten`,
    );
  }
  const tmp = `${target}.tmp-${process.pid}`;
  const prev = `${target}.prev`;
  try {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    await model.vae.save(fileSystem(tmp));
    await writeOptimizer(tmp, optimizerWeights, optimizer);
    const checksums: Record<string, string> = {};
    for (const name of [WEIGHTS_BIN, OPTIMIZER_BIN]) checksums[name] = sha256(await fs.promises.readFile(path.join(tmp, name)));
    const file: StateFile = {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      ...state,
      versions: versions(),
      savedAt: new Date().toISOString(),
      checksums,
    };
    await fs.promises.writeFile(path.join(tmp, STATE_JSON), JSON.stringify(file, null, 2));
  } catch (error) {
    // A full disk or a read-only mount: leave no partial folder behind (it would keep the disk full).
    await fs.promises.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    const line = describeFsError(error, path.dirname(target));
    const kept = fs.existsSync(target) || fs.existsSync(prev) ? '; the previous checkpoint is intact' : '';
    if (line) throw new CheckpointError(`cannot save a checkpoint in ${target}: ${line}${kept}`);
    throw error;
  }
  // A complete <target> exists at every instant, or else a complete <target>.prev
  // (an older .prev, left by a crash when <target> is missing, stays until the new one is in place).
  if (fs.existsSync(target)) {
    await fs.promises.rm(prev, { recursive: true, force: true });
    await fs.promises.rename(target, prev);
  }
  await fs.promises.rename(tmp, target);
  await fs.promises.rm(prev, { recursive: true, force: true });
}

const isCheckpoint = (dir: string) => fs.existsSync(path.join(dir, STATE_JSON));

/**
 * The checkpoint directory `location` refers to: itself, `<run>/<which>`, or
 * the `.prev` copy that an interrupted save left behind.
 */
export function resolveCheckpointDir(location: string, which: 'latest' | 'best' = 'latest'): string {
  const candidates = [location, path.join(location, which), `${location}.prev`, path.join(location, `${which}.prev`)];
  if (which === 'best') candidates.push(path.join(location, 'latest'));
  const found = candidates.find(isCheckpoint);
  if (found) return found;
  if (!fs.existsSync(location))
    throw new CheckpointError(`${location}: no such directory; give a run directory (checkpoints/<run>) or a checkpoint in it`);
  throw new CheckpointError(`${location}: no checkpoint here (looked for ${STATE_JSON} in it and in ${which}/)`);
}

function readState(dir: string): LoadedCheckpoint['state'] & { checksums?: Record<string, string> } {
  const file = path.join(dir, STATE_JSON);
  let parsed: StateFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
  } catch {
    throw new CheckpointError(`${file}: unreadable or not valid JSON; the checkpoint is corrupt`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CheckpointError(`${file}: holds ${JSON.stringify(parsed)}, not a catvae checkpoint's state; the checkpoint is corrupt`);
  }
  if (parsed.format !== FORMAT) throw new CheckpointError(`${file}: not a catvae checkpoint (format '${String(parsed.format)}')`);
  if (!Number.isInteger(parsed.formatVersion) || parsed.formatVersion < 1) {
    throw new CheckpointError(`${file}: field 'formatVersion' must be a positive integer, got ${JSON.stringify(parsed.formatVersion)}`);
  }
  if (parsed.formatVersion > FORMAT_VERSION) {
    throw new CheckpointError(`${file}: written by a newer catvae (format ${parsed.formatVersion}); upgrade catvae to read it`);
  }
  let validated: StateFile;
  try {
    validated = validateStateFile<StateFile>(parsed);
  } catch (error) {
    if (error instanceof StateSchemaError) throw new CheckpointError(`${file}: ${error.message}; the checkpoint is corrupt`);
    throw error;
  }
  const { format: _f, formatVersion: _v, ...state } = validated as StateFile & { format?: unknown; formatVersion?: unknown };
  return state;
}

async function readOptimizer(dir: string, checksum: string | undefined, complain: Complain): Promise<NamedTensor[] | null> {
  const jsonPath = path.join(dir, OPTIMIZER_JSON);
  const binPath = path.join(dir, OPTIMIZER_BIN);
  if (!fs.existsSync(jsonPath) && !fs.existsSync(binPath)) return null;
  if (!fs.existsSync(jsonPath)) throw new CheckpointError(`${jsonPath}: missing; the checkpoint is incomplete`);
  let file: OptimizerFile;
  try {
    file = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as OptimizerFile;
  } catch {
    throw new CheckpointError(`${jsonPath}: not valid JSON; the checkpoint is corrupt`);
  }
  if (!file || !Array.isArray(file.weights) || !file.weights.every((w) => w && typeof w.name === 'string' && Array.isArray(w.shape))) {
    throw new CheckpointError(`${jsonPath}: field 'weights' must be a list of weight specs; the checkpoint is corrupt`);
  }
  if (!fs.existsSync(binPath)) throw new CheckpointError(`${binPath}: missing; the checkpoint is incomplete`);
  const bytes = fs.readFileSync(binPath);
  const expected = file.weights.reduce((a, w) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0);
  if (bytes.length !== expected) {
    throw new CheckpointError(`${binPath}: ${bytes.length} bytes, ${OPTIMIZER_JSON} expects ${expected}; the checkpoint is corrupt`);
  }
  verifyChecksum(binPath, checksum, complain, bytes);
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), file.weights);
  const weights = file.weights.map((w) => ({ name: w.name, tensor: map[w.name] }));
  const bad = await nonFiniteIndices(weights.map((w) => w.tensor));
  if (bad.length > 0 && complain === refuse) {
    tf.dispose(weights.map((w) => w.tensor));
    const names = bad.map((i) => weights[i].name);
    throw new CheckpointError(
      `${binPath}: NaN or infinite values in Adam's ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}; the checkpoint is corrupt (resume from an earlier one)`,
    );
  }
  return weights;
}

/**
 * Loads the VAE, the run state and Adam's weights of a checkpoint; checks each
 * file, and that the weights are finite (`allowNonFinite` lets inspect report them instead).
 */
export async function loadCheckpoint(
  location: string,
  which: 'latest' | 'best' = 'latest',
  options: { allowNonFinite?: boolean } = {},
): Promise<LoadedCheckpoint> {
  const dir = resolveCheckpointDir(location, which);
  const { checksums, ...state } = readState(dir);
  let vae: tf.LayersModel;
  try {
    vae = await tf.loadLayersModel(fileSystem(dir));
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    throw new CheckpointError(
      message.startsWith(dir) ? message : `${path.join(dir, MODEL_JSON)}: cannot be loaded (${message}); the checkpoint is corrupt`,
    );
  }
  const bad = options.allowNonFinite ? [] : await nonFiniteWeights(vae);
  if (bad.length > 0) {
    vae.dispose();
    throw new CheckpointError(
      `${path.join(dir, 'weights.bin')}: NaN or infinite values in ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ` and ${bad.length - 3} more` : ''}; the checkpoint is corrupt (inspect shows where)`,
    );
  }
  let model: CategoricalVae;
  try {
    model = fromLoadedModel(vae);
  } catch (error) {
    throw new CheckpointError(`${path.join(dir, MODEL_JSON)}: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const complain: Complain = options.allowNonFinite ? (line) => problems.push(line) : refuse;
  try {
    // After the size and finiteness checks, whose messages say more about the usual damage.
    verifyChecksum(path.join(dir, WEIGHTS_BIN), checksums?.[WEIGHTS_BIN], complain);
  } catch (error) {
    vae.dispose();
    throw error;
  }
  const mismatch = configMismatch(state.config, model);
  if (mismatch) {
    vae.dispose();
    throw new CheckpointError(`${path.join(dir, STATE_JSON)}: ${mismatch}; the checkpoint is corrupt`);
  }
  model.sampler.noiseState = state.noise;
  // Loading wrote tau's weight behind the layer: refresh its host copy (an async read, so the getter works on webgpu).
  await model.sampler.getTemperature();
  return { dir, model, state, optimizerWeights: await readOptimizer(dir, checksums?.[OPTIMIZER_BIN], complain), problems };
}

/** Restores Adam's state, checking that its slots line up with the model's variables. */
export async function restoreOptimizer(optimizer: tf.Optimizer, weights: NamedTensor[], model: CategoricalVae): Promise<void> {
  const variables = trainableVariables(model);
  const slots = weights.slice(1); // [iterations, m_1..m_n, v_1..v_n]
  const ok =
    slots.length === 2 * variables.length &&
    variables.every(
      (v, i) =>
        tf.util.arraysEqual(v.shape, slots[i].tensor.shape) && tf.util.arraysEqual(v.shape, slots[i + variables.length].tensor.shape),
    );
  if (!ok)
    throw new CheckpointError(
      `the optimizer state does not match the model's variables (${slots.length} slots for ${variables.length} variables)`,
    );
  await optimizer.setWeights(weights);
}

export { CheckpointError, MODEL_JSON, STATE_JSON, WEIGHTS_BIN };
