/**
 * What `inspect` knows about a run: its config and progress from state.json,
 * the model's layers and weights, the metrics history, and the integrity of
 * each checkpoint. Built once as plain data, so the text and the --json
 * output are two views of the same object.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { weightsByteLength } from '../io/file_io.js';
import {
  MODEL_JSON,
  OPTIMIZER_BIN,
  OPTIMIZER_JSON,
  STATE_JSON,
  WEIGHTS_BIN,
  type EpochRecord,
  type LoadedCheckpoint,
  type TrainState,
} from '../model/checkpoint.js';
import type { TrainConfig } from '../model/config.js';
import { allFinite, tensorStats, type TensorStats } from './tensor_stats.js';

export type CheckpointRole = 'latest' | 'best' | 'checkpoint';

export interface FileInfo {
  name: string;
  /** Size on disk; null when the file is absent (only the optimizer files may be). */
  bytes: number | null;
}

export interface WeightInfo extends TensorStats {
  name: string;
  shape: number[];
}

export interface LayerParams {
  name: string;
  /** Shapes of the layer's weights, in order (kernel, bias...). */
  shapes: number[][];
  params: number;
  trainable: number;
}

export interface OptimizerInfo {
  /** Adam's saved tensors: iterations, then a first and a second moment per variable. */
  slots: number;
  iterations: number | null;
  /** Non-finite values across all of Adam's tensors. */
  nonFinite: number;
}

export interface CheckpointSummary {
  role: CheckpointRole;
  dir: string;
  step: number;
  /** Completed epochs, and batches done in the epoch in progress. */
  epoch: number;
  batchInEpoch: number;
  tau: number;
  savedAt: string;
  files: FileInfo[];
  /** weights.bin bytes that model.json's manifest calls for (checked equal on load). */
  manifestBytes: number;
  weights: WeightInfo[];
  optimizer: OptimizerInfo | null;
  /** Integrity problems, one line each. */
  problems: string[];
}

export interface InspectReport {
  /** What the user named: a run directory or one checkpoint. */
  location: string;
  config: TrainConfig;
  /** Progress of the primary checkpoint (latest when there is one). */
  step: number;
  epoch: number;
  batchInEpoch: number;
  tau: number;
  backend: string;
  versions: Record<string, string>;
  savedAt: string;
  parameters: { layers: LayerParams[]; total: number; trainable: number };
  history: EpochRecord[];
  best: TrainState['best'];
  checkpoints: CheckpointSummary[];
  integrity: { ok: boolean; problems: string[] };
}

const REQUIRED_FILES = [MODEL_JSON, WEIGHTS_BIN, STATE_JSON];
const OPTIONAL_FILES = [OPTIMIZER_JSON, OPTIMIZER_BIN];

function fileInfo(dir: string, name: string): FileInfo {
  try {
    return { name, bytes: fs.statSync(path.join(dir, name)).size };
  } catch {
    return { name, bytes: null };
  }
}

/** The manifest's byte count, by the same rule the loader used to accept weights.bin. */
function manifestBytes(dir: string): number {
  const json = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
  return json.weightsManifest.reduce((total, group) => total + weightsByteLength(group.weights), 0);
}

function describeNonFinite(stats: TensorStats): string {
  const parts = [stats.nan ? `${stats.nan} NaN` : '', stats.inf ? `${stats.inf} infinite` : ''].filter(Boolean);
  return `${parts.join(' and ')} of ${stats.count} values`;
}

async function weightsOf(checkpoint: LoadedCheckpoint): Promise<WeightInfo[]> {
  // originalName: tfjs makes variable names unique per process, so a second loaded model gets '_1' suffixes.
  // Asynchronous reads: webgpu has no synchronous read in Node.
  const weights = checkpoint.model.vae.weights;
  const values = await Promise.all(weights.map((w) => w.read().data()));
  return weights.map((w, i) => ({ name: w.originalName, shape: [...w.shape] as number[], ...tensorStats(values[i]) }));
}

async function optimizerOf(checkpoint: LoadedCheckpoint): Promise<OptimizerInfo | null> {
  const weights = checkpoint.optimizerWeights;
  if (!weights) return null;
  const values = await Promise.all(weights.map(({ tensor }) => tensor.data()));
  let nonFinite = 0;
  for (const v of values) {
    const s = tensorStats(v);
    nonFinite += s.nan + s.inf;
  }
  const iterations = values.length > 0 && values[0].length === 1 ? values[0][0] : null;
  return { slots: weights.length, iterations, nonFinite };
}

/** Everything about one loaded checkpoint, with its integrity problems. */
export async function summarizeCheckpoint(role: CheckpointRole, checkpoint: LoadedCheckpoint): Promise<CheckpointSummary> {
  const { dir, state } = checkpoint;
  const weights = await weightsOf(checkpoint);
  const optimizer = await optimizerOf(checkpoint);
  const files = [...REQUIRED_FILES, ...OPTIONAL_FILES].map((name) => fileInfo(dir, name));
  const problems: string[] = [];
  // loadCheckpoint has checked files, sizes and the state's schema; what it cannot see is the values.
  for (const w of weights) {
    if (!allFinite(w)) problems.push(`${path.join(dir, WEIGHTS_BIN)}: tensor ${w.name} has ${describeNonFinite(w)}`);
  }
  if (optimizer && optimizer.nonFinite > 0) {
    problems.push(
      `${path.join(dir, OPTIMIZER_BIN)}: Adam's state has ${optimizer.nonFinite} NaN or infinite values; resuming from it would diverge`,
    );
  }
  if (!Number.isFinite(state.tau) || state.tau <= 0)
    problems.push(`${path.join(dir, STATE_JSON)}: temperature ${state.tau} is not a positive number`);
  // Checksum mismatches last: a NaN or a bad value, when there is one, says more about the damage.
  problems.push(...(checkpoint.problems ?? []));
  return {
    role,
    dir,
    step: state.step,
    epoch: state.epoch,
    batchInEpoch: state.batchInEpoch,
    tau: state.tau,
    savedAt: state.savedAt,
    files,
    manifestBytes: manifestBytes(dir),
    weights,
    optimizer,
    problems,
  };
}

function parametersOf(checkpoint: LoadedCheckpoint): InspectReport['parameters'] {
  const layers = checkpoint.model.vae.layers
    .filter((layer) => layer.countParams() > 0)
    .map((layer) => ({
      name: layer.name,
      shapes: layer.weights.map((w) => [...w.shape] as number[]),
      params: layer.countParams(),
      trainable: layer.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0),
    }));
  return {
    layers,
    total: layers.reduce((s, l) => s + l.params, 0),
    trainable: layers.reduce((s, l) => s + l.trainable, 0),
  };
}

/**
 * The report of a run from its loaded checkpoints, the primary (latest) one
 * first. Run-wide facts (config, history, best) come from the primary's state.
 */
export async function buildReport(
  location: string,
  checkpoints: ReadonlyArray<{ role: CheckpointRole; checkpoint: LoadedCheckpoint }>,
): Promise<InspectReport> {
  if (checkpoints.length === 0) throw new Error('buildReport: no checkpoint');
  const primary = checkpoints[0].checkpoint;
  const { state } = primary;
  const summaries = await Promise.all(checkpoints.map(({ role, checkpoint }) => summarizeCheckpoint(role, checkpoint)));
  const problems = summaries.flatMap((s) => s.problems);
  return {
    location,
    config: state.config,
    step: state.step,
    epoch: state.epoch,
    batchInEpoch: state.batchInEpoch,
    tau: state.tau,
    backend: state.backend,
    versions: state.versions,
    savedAt: state.savedAt,
    parameters: parametersOf(primary),
    history: state.history,
    best: state.best,
    checkpoints: summaries,
    integrity: { ok: problems.length === 0, problems },
  };
}
