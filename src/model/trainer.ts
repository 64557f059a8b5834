/**
 * The training loop: epochs of seeded batches, annealed temperature, metrics
 * read back every `logEvery` steps, validation and checkpoints each epoch,
 * a clean stop on request (Ctrl-C) and on a non-finite loss.
 * Presentation (progress bar, TensorBoard) lives in hooks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { batchesPerEpoch, binarizeSet, epochBatches, type Dataset } from '../data/index.js';
import { TemperatureSchedule } from '../layers/temperature_schedule.js';
import { fusedAdam } from '../wasm/adam.js';
import {
  NonFiniteStateError,
  saveCheckpoint,
  restoreOptimizer,
  type EpochRecord,
  type LoadedCheckpoint,
  type TrainState,
} from './checkpoint.js';
import { learningRateAt, type TrainConfig } from './config.js';
import { evaluateVae, type EvalResult } from './evaluate.js';
import type { ElboTerms } from './loss.js';
import { trainStep } from './train_step.js';
import { buildVae, type CategoricalVae } from './vae.js';

/** Seeds derived from the run seed for its other random streams. */
const VALIDATION_SEED_OFFSET = 7919;
/**
 * The loss terms are computed on every 5th step (and on each logged step and each epoch's last):
 * the gradients do not need them, and the softplus over every pixel is a
 * large share of a fast step on wasm. Logged training losses are means over
 * those steps.
 */
const METRICS_STRIDE = 5;

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

/** Adam keeps its learning rate in a protected field; the decay schedule sets it between steps. */
function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

function initialState(config: TrainConfig, model: CategoricalVae, backend: string): TrainState {
  return {
    config,
    step: 0,
    epoch: 0,
    batchInEpoch: 0,
    epochSums: { loss: 0, recon: 0, kl: 0, count: 0, steps: 0, seconds: 0 },
    tau: new TemperatureSchedule(config.schedule).at(0),
    noise: model.sampler.noiseState,
    history: [],
    best: null,
    backend,
  };
}

/** Reads the kept per-step terms back in one transfer and frees them. */
async function drain(pending: ElboTerms[]): Promise<{ loss: number; recon: number; kl: number; count: number }> {
  if (pending.length === 0) return { loss: 0, recon: 0, kl: 0, count: 0 };
  const stacked = tf.tidy(() =>
    tf
      .stack(pending.flatMap((t) => [t.loss, t.recon, t.kl]))
      .reshape([-1, 3])
      .sum(0),
  );
  const [loss, recon, kl] = await stacked.data();
  const count = pending.length;
  tf.dispose([stacked, ...pending.flatMap((t) => [t.loss, t.recon, t.kl])]);
  pending.length = 0;
  return { loss, recon, kl, count };
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { config, runDir, data, backend, resume, hooks = [], shouldStop = () => false } = options;
  const call = async <K extends keyof TrainerHooks>(name: K, ...args: Parameters<NonNullable<TrainerHooks[K]>>) => {
    for (const hook of hooks) await (hook[name] as ((...a: unknown[]) => unknown) | undefined)?.(...args);
  };
  const schedule = new TemperatureSchedule(config.schedule);
  const model = resume?.model ?? buildVae(config.model, config.seed, schedule.at(0));
  const optimizer = fusedAdam(config.learningRate);
  if (resume?.optimizerWeights) await restoreOptimizer(optimizer, resume.optimizerWeights, model);
  const state: TrainState = resume ? { ...resume.state, config, backend } : initialState(config, model, backend);
  if (options.dataInfo) state.data = options.dataInfo;

  const train = data.train;
  const stepsPerEpoch = batchesPerEpoch(train.count, config.batchSize, true);
  if (stepsPerEpoch === 0) {
    throw new Error(`the training set has ${train.count} images, fewer than one batch of ${config.batchSize}: lower --batch-size`);
  }
  if (state.batchInEpoch >= stepsPerEpoch) {
    // A checkpoint taken after an epoch's last batch (older versions stopped there without ending the epoch).
    state.epoch++;
    state.batchInEpoch = 0;
  }
  const totalSteps = config.steps ?? config.epochs * stepsPerEpoch;
  const validation = data.validation.count > 0 ? binarizeSet(data.validation, 'fixed', config.seed + VALIDATION_SEED_OFFSET) : null;
  await call('onStart', { model, totalSteps, stepsPerEpoch, startStep: state.step, resumed: !!resume });

  const pending: ElboTerms[] = [];
  let windowStart = performance.now();
  let windowImages = 0;
  let epochStart = performance.now();
  let status: TrainStatus = 'completed';
  let message: string | null = null;

  /** Saves a checkpoint; false (status diverged, nothing written) when the weights or Adam's state are not finite. */
  const save = async (which: 'latest' | 'best'): Promise<boolean> => {
    state.noise = model.sampler.noiseState;
    const dir = path.join(runDir, which);
    try {
      await saveCheckpoint(dir, model, optimizer, state);
    } catch (error) {
      if (!(error instanceof NonFiniteStateError)) throw error;
      status = 'diverged';
      const kept = fs.existsSync(path.join(runDir, 'latest'))
        ? `the last good checkpoint is in ${runDir}`
        : 'there is no earlier checkpoint';
      message = `the model or Adam's state became NaN or infinite by step ${state.step} (${error.message}); stopped without saving (${kept}). Try a lower --learning-rate.`;
      return false;
    }
    await call('onCheckpoint', which, dir);
    return true;
  };

  /** Reads pending metrics into the epoch sums; false if the loss is not finite. */
  const flush = async (): Promise<boolean> => {
    const sums = await drain(pending);
    if (sums.count === 0) return true;
    if (![sums.loss, sums.recon, sums.kl].every(Number.isFinite)) return false;
    const now = performance.now();
    const e = state.epochSums;
    e.loss += sums.loss;
    e.recon += sums.recon;
    e.kl += sums.kl;
    e.count += sums.count;
    await call('onLog', {
      step: state.step,
      epoch: state.epoch,
      batch: state.batchInEpoch,
      batchesPerEpoch: stepsPerEpoch,
      loss: sums.loss / sums.count,
      recon: sums.recon / sums.count,
      kl: sums.kl / sums.count,
      tau: state.tau,
      learningRate: learningRateAt(state.step - 1, config),
      imagesPerSec: (windowImages * 1000) / (now - windowStart),
    });
    windowStart = performance.now();
    windowImages = 0;
    return true;
  };

  const endEpoch = async () => {
    const e = state.epochSums;
    e.seconds += (performance.now() - epochStart) / 1000;
    let val: EvalResult | null = null;
    if (validation) val = await evaluateVae(model, validation, data.validation.count, { seed: config.seed + VALIDATION_SEED_OFFSET });
    const record: EpochRecord = {
      epoch: state.epoch,
      step: state.step,
      tau: state.tau,
      learning_rate: learningRateAt(state.step - 1, config),
      train_loss: e.loss / e.count,
      train_recon: e.recon / e.count,
      train_kl: e.kl / e.count,
      val_neg_elbo: val?.neg_elbo ?? null,
      val_recon: val?.recon ?? null,
      val_kl: val?.kl ?? null,
      seconds: e.seconds,
      images_per_sec: (e.steps * config.batchSize) / e.seconds,
    };
    state.history.push(record);
    if (state.batchInEpoch >= stepsPerEpoch) {
      state.epoch++;
      state.batchInEpoch = 0;
    }
    state.epochSums = { loss: 0, recon: 0, kl: 0, count: 0, steps: 0, seconds: 0 };
    await call('onEpochEnd', record, model);
    if (val && !Number.isFinite(val.neg_elbo)) return false;
    const improved = val !== null && (state.best === null || val.neg_elbo < state.best.val_neg_elbo);
    if (improved) state.best = { val_neg_elbo: val!.neg_elbo, step: state.step, epoch: record.epoch };
    if (!(await save('latest'))) return false;
    if (improved && !(await save('best'))) return false;
    // Validation, pictures and saves are not training: keep them out of the next speed window.
    epochStart = windowStart = performance.now();
    windowImages = 0;
    return true;
  };

  outer: while (state.step < totalSteps) {
    await call('onEpochStart', state.epoch, state.batchInEpoch, stepsPerEpoch);
    epochStart = performance.now();
    const batches = epochBatches(train, {
      batchSize: config.batchSize,
      seed: config.seed,
      epoch: state.epoch,
      binarization: config.binarization,
      dropLast: true,
      startBatch: state.batchInEpoch,
    });
    for (const batch of batches) {
      state.tau = schedule.at(state.step);
      setLearningRate(optimizer, learningRateAt(state.step, config));
      const epochDone = state.batchInEpoch + 1 >= stepsPerEpoch;
      const runDone = state.step + 1 >= totalSteps;
      const logNow = (state.step + 1) % config.logEvery === 0;
      const metrics = (state.step + 1) % METRICS_STRIDE === 0 || logNow || epochDone || runDone;
      const terms = trainStep(model, optimizer, batch.x, state.tau, { metrics });
      if (terms) pending.push(terms);
      batch.x.dispose();
      state.step++;
      state.batchInEpoch++;
      state.epochSums.steps++;
      windowImages += config.batchSize;
      hooks.forEach((h) => h.onStep?.(state.step, state.batchInEpoch));
      const stop = shouldStop();
      if (logNow || epochDone || runDone || stop) {
        if (!(await flush())) {
          status = 'diverged';
          const kept = fs.existsSync(path.join(runDir, 'latest'))
            ? `the last good checkpoint is in ${runDir}`
            : 'no epoch had ended, so there is no checkpoint';
          message = `the loss became NaN or infinite at step ${state.step}; stopped without saving (${kept}). Try a lower --learning-rate.`;
          break outer;
        }
      }
      if (stop && !epochDone && !runDone) {
        state.epochSums.seconds += (performance.now() - epochStart) / 1000;
        if (!(await save('latest'))) break outer;
        status = 'interrupted';
        message = `stopped at step ${state.step}; resume with --resume ${runDir}`;
        break outer;
      }
      if (epochDone || runDone) {
        if (!(await endEpoch())) {
          status = 'diverged';
          message ??= `the validation -ELBO is not finite at step ${state.step}; stopped without saving this epoch. Try a lower --learning-rate.`;
        } else if (stop && !runDone) {
          // Stopped on an epoch's last batch: the epoch ended (validated and saved) as usual.
          status = 'interrupted';
          message = `stopped at step ${state.step}; resume with --resume ${runDir}`;
        }
        if (status !== 'completed' || runDone) break outer;
        continue outer;
      }
      // One turn of the event loop per step, so that Ctrl-C (and other signals) are seen within a step.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    throw new Error(`internal: epoch ${state.epoch + 1} served no batch from batch ${state.batchInEpoch} of ${stepsPerEpoch}`);
  }
  await drain(pending);
  optimizer.dispose();
  const result: TrainResult = { status, state, model, message };
  await call('onStop', result);
  return result;
}
