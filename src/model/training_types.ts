/** What train() takes, reports to its hooks and returns (src/model/trainer.ts). */
import type { Dataset } from '../data/index.js';
import type { EpochRecord, LoadedCheckpoint, TrainState } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import type { CategoricalVae } from './vae.js';

export interface StepLog {
  step: number;
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  recon: number;
  kl: number;
  tau: number;
  learningRate: number;
  imagesPerSec: number;
}

export interface StartInfo {
  model: CategoricalVae;
  totalSteps: number;
  stepsPerEpoch: number;
  startStep: number;
  resumed: boolean;
}

export interface TrainerHooks {
  onStart?(info: StartInfo): void | Promise<void>;
  onEpochStart?(epoch: number, startBatch: number, batches: number): void | Promise<void>;
  /** After every step; must not read tensors (that would sync the backend every step). */
  onStep?(step: number, batch: number): void;
  onLog?(log: StepLog): void | Promise<void>;
  onEpochEnd?(record: EpochRecord, model: CategoricalVae): void | Promise<void>;
  onCheckpoint?(which: 'latest' | 'best', dir: string): void | Promise<void>;
  onStop?(result: TrainResult): void | Promise<void>;
}

export type TrainStatus = 'completed' | 'interrupted' | 'diverged';

export interface TrainResult {
  status: TrainStatus;
  state: TrainState;
  model: CategoricalVae;
  /** Human-readable reason when not completed. */
  message: string | null;
}

export interface TrainOptions {
  config: TrainConfig;
  runDir: string;
  data: Dataset;
  /** Name of the backend in use, recorded in checkpoints. */
  backend: string;
  resume?: LoadedCheckpoint;
  hooks?: TrainerHooks[];
  /** Polled after each step: true stops the run after saving a checkpoint. */
  shouldStop?: () => boolean;
  /** Where the training data came from, recorded in checkpoints so a resume can find it again. */
  dataInfo?: TrainState['data'];
}
