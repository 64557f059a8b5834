/**
 * What a point's run directory says about it: finished, resumable or not
 * started (what a rerun does), and its results for the report. Reads the
 * files train writes (latest/state.json) and the ones the sweep adds
 * (result.json: train's --json summary; failure.json; evaluation.json).
 * Reads JSON only, so a report needs no tensor backend.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GridPoint } from './grid.js';

/** The sweep's copy of train's --json summary, written when a point ends with a result. */
export const RESULT_JSON = 'result.json';
/** Why a point's last attempt failed (exit code and last line); removed when it later succeeds. */
export const FAILURE_JSON = 'failure.json';
/** One line per attempt the sweep saw end: start time, seconds, outcome (a sweep killed outright records none). */
export const ATTEMPTS_JSONL = 'attempts.jsonl';
/** The output of `evaluate --json` (with the importance-weighted bound), when the sweep ran it. */
export const EVALUATION_JSON = 'evaluation.json';

/** Train's --json summary (the keys the sweep reads). */
export interface TrainSummary {
  status: 'completed' | 'interrupted' | 'diverged';
  steps: number;
  epochs: number;
  best_val_neg_elbo: number | null;
  test_neg_elbo: number | null;
  backend: string;
  [key: string]: unknown;
}

export type PointStatus = 'completed' | 'diverged' | 'failed' | 'interrupted' | 'pending';

export interface PointRecord {
  point: GridPoint;
  status: PointStatus;
  steps: number | null;
  test_neg_elbo: number | null;
  nll_iw: number | null;
  best_val_neg_elbo: number | null;
  /** Seconds spent training, summed over the epochs of every attempt (from the run's history). */
  train_seconds: number | null;
  /** Wall-clock seconds of the child processes, summed over the attempts recorded (start-up and test evaluation included). */
  wall_seconds: number | null;
  /** Validation -ELBO after each epoch. */
  curve: Array<{ step: number; value: number }>;
  /** For failed points: the last line the child printed. */
  message: string | null;
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

interface HistoryState {
  step: number;
  history: Array<{ step: number; val_neg_elbo: number | null; seconds: number }>;
}

/** The latest checkpoint's state (or the copy an interrupted save left), if any. */
function latestState(runDir: string): HistoryState | null {
  for (const dir of ['latest', 'latest.prev']) {
    const state = readJson<HistoryState>(path.join(runDir, dir, 'state.json'));
    if (state) return state;
  }
  return null;
}

/** A finished point's summary: completed or diverged (a rerun would diverge again). */
export function finishedSummary(runDir: string): TrainSummary | null {
  const summary = readJson<TrainSummary>(path.join(runDir, RESULT_JSON));
  return summary && (summary.status === 'completed' || summary.status === 'diverged') ? summary : null;
}

export type PointPlan = 'done' | 'resume' | 'fresh';

/** What running the point now means: nothing, `train --resume`, or a new `train`. */
export function planPoint(runDir: string): PointPlan {
  if (finishedSummary(runDir)) return 'done';
  return latestState(runDir) ? 'resume' : 'fresh';
}

/** Everything the report shows about one point. */
export function readPointRecord(sweepDir: string, point: GridPoint): PointRecord {
  const runDir = path.join(sweepDir, point.name);
  const summary = finishedSummary(runDir);
  const state = latestState(runDir);
  const failure = readJson<{ message: string }>(path.join(runDir, FAILURE_JSON));
  const evaluation = readJson<{ nll_iw: number | null }>(path.join(runDir, EVALUATION_JSON));
  const history = state?.history ?? [];
  const status: PointStatus = summary ? summary.status : failure ? 'failed' : state ? 'interrupted' : 'pending';
  return {
    point,
    status: status as PointStatus,
    steps: summary?.steps ?? state?.step ?? null,
    test_neg_elbo: summary?.test_neg_elbo ?? null,
    nll_iw: evaluation?.nll_iw ?? null,
    best_val_neg_elbo: summary?.best_val_neg_elbo ?? bestOf(history),
    train_seconds: state ? history.reduce((a, h) => a + h.seconds, 0) : null,
    wall_seconds: wallSeconds(runDir),
    curve: history.filter((h) => h.val_neg_elbo !== null).map((h) => ({ step: h.step, value: h.val_neg_elbo! })),
    message: summary ? null : (failure?.message ?? null),
  };
}

function wallSeconds(runDir: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runDir, ATTEMPTS_JSONL), 'utf8');
  } catch {
    return null;
  }
  const seconds = text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return Number((JSON.parse(line) as { seconds: number }).seconds) || 0;
      } catch {
        return 0; // a line cut off by a kill
      }
    });
  return seconds.length > 0 ? seconds.reduce((a, b) => a + b, 0) : null;
}

function bestOf(history: HistoryState['history']): number | null {
  const values = history.map((h) => h.val_neg_elbo).filter((v): v is number => v !== null);
  return values.length > 0 ? Math.min(...values) : null;
}
