/**
 * What `catvae view` shows of a run, gathered in Node: the checkpoint's model
 * files, a summary of its state.json, and the first test digits with the
 * fixed binarisation `evaluate` and `codes` use, so the page and the CLI see
 * the same inputs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { binarizeSet, loadDataset, sliceSet } from '../data/index.js';
import { CheckpointError, MODEL_JSON, resolveCheckpointDir, STATE_JSON } from '../model/checkpoint.js';
import { TEST_SEED } from '../model/evaluate.js';

/** Test digits the page receives: a strip to pick from, and the set its code-usage chart is computed on. */
export const DIGIT_COUNT = 1000;

/** A checkpoint's served files: model.json and the weight files its manifest names, by plain file name. */
export interface ModelFiles {
  dir: string;
  /** Plain file names (no folders) inside `dir`. */
  names: string[];
}

/** The part of state.json the page shows. */
export interface RunSummary {
  run: string;
  which: 'best' | 'latest';
  checkpoint: string;
  step: number;
  tau: number;
  config: Record<string, unknown>;
  history: unknown[];
  best: unknown;
  backend: string;
  savedAt: string | null;
}

/** The digits as JSON: labels, and the binary pixels packed 8 to a byte (MSB first), base64. */
export interface DigitsJson {
  count: number;
  rows: number;
  cols: number;
  labels: number[];
  bits: string;
  source: string;
  binarization: string;
}

const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The files of the checkpoint `runDir` / `which` refers to; refuses a manifest that points outside it. */
export function modelFiles(runDir: string, which: 'best' | 'latest'): ModelFiles {
  const dir = path.resolve(resolveCheckpointDir(runDir, which));
  const jsonPath = path.join(dir, MODEL_JSON);
  let manifest: { weightsManifest?: { paths: string[] }[] };
  try {
    manifest = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as typeof manifest;
  } catch {
    throw new CheckpointError(`${jsonPath}: missing or not valid JSON; the checkpoint is corrupt`);
  }
  const names = [MODEL_JSON];
  for (const group of manifest.weightsManifest ?? []) {
    for (const p of group.paths) {
      const name = p.replace(/^\.\//, '');
      // Only sibling files: a manifest cannot make the server read anything else.
      if (!PLAIN_NAME.test(name)) throw new CheckpointError(`${jsonPath}: weight path '${p}' is not a file next to model.json`);
      if (!fs.existsSync(path.join(dir, name))) throw new CheckpointError(`${path.join(dir, name)}: missing; the checkpoint is incomplete`);
      names.push(name);
    }
  }
  return { dir, names };
}

/** The run summary from the checkpoint's state.json. */
export function runSummary(runDir: string, files: ModelFiles, which: 'best' | 'latest'): RunSummary {
  const file = path.join(files.dir, STATE_JSON);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new CheckpointError(`${file}: unreadable or not valid JSON; the checkpoint is corrupt`);
  }
  return {
    run: path.basename(path.resolve(runDir)),
    which: path.basename(files.dir).startsWith('latest') ? 'latest' : which,
    checkpoint: path.basename(files.dir),
    step: Number(state.step),
    tau: Number(state.tau),
    config: (state.config ?? {}) as Record<string, unknown>,
    history: Array.isArray(state.history) ? state.history : [],
    best: state.best ?? null,
    backend: String(state.backend ?? ''),
    savedAt: typeof state.savedAt === 'string' ? state.savedAt : null,
  };
}

/** Packs 0/1 floats into bytes, 8 pixels a byte, most significant bit first. */
export function packBits(pixels: Float32Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(pixels.length / 8));
  for (let i = 0; i < pixels.length; i++) if (pixels[i] > 0.5) out[i >> 3] |= 0x80 >> (i & 7);
  return out;
}

/** The first DIGIT_COUNT test digits of the data the run was trained on, binarised as evaluate does. */
export async function testDigits(summary: RunSummary, count = DIGIT_COUNT): Promise<DigitsJson> {
  const dataDir = typeof summary.config.dataDir === 'string' ? summary.config.dataDir : undefined;
  const data = await loadDataset({ dataDir, validationSize: 0, imageShape: null });
  const set = sliceSet(data.test, 0, Math.min(count, data.test.count));
  const pixels = binarizeSet(set, 'fixed', TEST_SEED);
  return {
    count: set.count,
    rows: set.rows,
    cols: set.cols,
    labels: Array.from(set.labels),
    bits: Buffer.from(packBits(pixels)).toString('base64'),
    source: data.source,
    binarization: `fixed, seed ${TEST_SEED}`,
  };
}
