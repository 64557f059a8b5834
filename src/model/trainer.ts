/**
 * The training loop: epochs of seeded batches, annealed temperature, metrics
 * read back every `logEvery` steps, validation and checkpoints each epoch,
 * a clean stop on request (Ctrl-C) and on a non-finite loss.
 * Presentation (progress bar, TensorBoard) lives in hooks.
 *
 * train() reads as the algorithm: start (or resume) a run, run epochs until
 * the step budget is spent or the run ends early, finish. Each epoch trains
 * its batches, then validates, checkpoints and decides whether to go on
 * (TrainingRun below).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { batchesPerEpoch, binarizeSet, epochBatches } from '../data/index.js';
import { TemperatureSchedule } from '../layers/temperature_schedule.js';
import { fusedAdam } from '../ops/adam.js';
import { NonFiniteStateError, saveCheckpoint, restoreOptimizer, type EpochRecord, type TrainState } from './checkpoint.js';
import { learningRateAt, type TrainConfig } from './config.js';
import { evaluateVae, type EvalResult } from './evaluate.js';
import type { ElboTerms } from './loss.js';
import { trainStep } from './train_step.js';
import { drain, emptyEpochSums, epochRecord, METRICS_STRIDE, SpeedWindow } from './training_metrics.js';
import type { TrainerHooks, TrainOptions, TrainResult, TrainStatus } from './training_types.js';
import { buildVae, type CategoricalVae } from './vae.js';

/** Seeds derived from the run seed for its other random streams. */
const VALIDATION_SEED_OFFSET = 7919;

export type { StartInfo, StepLog, TrainerHooks, TrainOptions, TrainResult, TrainStatus } from './training_types.js';

/** How a run ended. */
interface RunEnd {
  status: TrainStatus;
  message: string | null;
}

const COMPLETED: RunEnd = { status: 'completed', message: null };

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
    epochSums: emptyEpochSums(),
    tau: new TemperatureSchedule(config.schedule).at(0),
    noise: model.sampler.noiseState,
    history: [],
    best: null,
    backend,
  };
}

/** One turn of the event loop, so that Ctrl-C (and other signals) are seen within a step. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A run in progress: the model, its optimizer, the state that checkpoints keep, and the epoch loop. */
class TrainingRun {
  private readonly schedule: TemperatureSchedule;
  private readonly pending: ElboTerms[] = [];
  private speed = new SpeedWindow();
  private epochStart = performance.now();

  constructor(
    private readonly options: TrainOptions,
    readonly model: CategoricalVae,
    private readonly optimizer: tf.Optimizer,
    readonly state: TrainState,
    private readonly stepsPerEpoch: number,
    private readonly totalSteps: number,
    private readonly validation: Float32Array | null,
  ) {
    this.schedule = new TemperatureSchedule(options.config.schedule);
  }

  private get config(): TrainConfig {
    return this.options.config;
  }

  async call<K extends keyof TrainerHooks>(name: K, ...args: Parameters<NonNullable<TrainerHooks[K]>>): Promise<void> {
    for (const hook of this.options.hooks ?? []) await (hook[name] as ((...a: unknown[]) => unknown) | undefined)?.(...args);
  }

  /** Epochs until the step budget is spent or the run ends early. */
  async run(): Promise<RunEnd> {
    this.speed.restart();
    this.epochStart = performance.now();
    while (this.state.step < this.totalSteps) {
      const end = await this.runEpoch();
      if (end) return end;
    }
    return COMPLETED;
  }

  /** Trains the rest of the current epoch; null when the run goes on with the next one. */
  private async runEpoch(): Promise<RunEnd | null> {
    const { state, config } = this;
    await this.call('onEpochStart', state.epoch, state.batchInEpoch, this.stepsPerEpoch);
    this.epochStart = performance.now();
    const batches = epochBatches(this.options.data.train, {
      batchSize: config.batchSize,
      seed: config.seed,
      epoch: state.epoch,
      binarization: config.binarization,
      dropLast: true,
      startBatch: state.batchInEpoch,
    });
    for (const batch of batches) {
      const { logNow, epochDone, runDone } = this.trainBatch(batch.x);
      const stop = this.options.shouldStop?.() ?? false;
      if ((logNow || epochDone || runDone || stop) && !(await this.flush())) return this.lossNotFinite();
      if (stop && !epochDone && !runDone) return this.interrupt();
      if (epochDone || runDone) return this.endEpoch(stop, runDone);
      await nextTurn();
    }
    throw new Error(`internal: epoch ${state.epoch + 1} served no batch from batch ${state.batchInEpoch} of ${this.stepsPerEpoch}`);
  }

  /** One optimisation step on a batch (disposed here); says what the step completes. */
  private trainBatch(x: tf.Tensor2D): { logNow: boolean; epochDone: boolean; runDone: boolean } {
    const { state, config } = this;
    state.tau = this.schedule.at(state.step);
    setLearningRate(this.optimizer, learningRateAt(state.step, config));
    const epochDone = state.batchInEpoch + 1 >= this.stepsPerEpoch;
    const runDone = state.step + 1 >= this.totalSteps;
    const logNow = (state.step + 1) % config.logEvery === 0;
    const metrics = (state.step + 1) % METRICS_STRIDE === 0 || logNow || epochDone || runDone;
    const terms = trainStep(this.model, this.optimizer, x, state.tau, { metrics });
    if (terms) this.pending.push(terms);
    x.dispose();
    state.step++;
    state.batchInEpoch++;
    state.epochSums.steps++;
    this.speed.add(config.batchSize);
    (this.options.hooks ?? []).forEach((h) => h.onStep?.(state.step, state.batchInEpoch));
    return { logNow, epochDone, runDone };
  }

  /** Reads pending metrics into the epoch sums and logs them; false if the loss is not finite. */
  private async flush(): Promise<boolean> {
    const sums = await drain(this.pending);
    if (sums.count === 0) return true;
    if (![sums.loss, sums.recon, sums.kl].every(Number.isFinite)) return false;
    const { state, config } = this;
    const e = state.epochSums;
    e.loss += sums.loss;
    e.recon += sums.recon;
    e.kl += sums.kl;
    e.count += sums.count;
    await this.call('onLog', {
      step: state.step,
      epoch: state.epoch,
      batch: state.batchInEpoch,
      batchesPerEpoch: this.stepsPerEpoch,
      loss: sums.loss / sums.count,
      recon: sums.recon / sums.count,
      kl: sums.kl / sums.count,
      tau: state.tau,
      learningRate: learningRateAt(state.step - 1, config),
      imagesPerSec: this.speed.imagesPerSec(),
    });
    this.speed.restart();
    return true;
  }

  /**
   * Saves model, optimizer and state as the run's 'latest' or 'best'
   * checkpoint; null once saved, or the run's end (diverged, nothing written)
   * when the weights or Adam's state are not finite.
   */
  private async save(which: 'latest' | 'best'): Promise<RunEnd | null> {
    this.state.noise = this.model.sampler.noiseState;
    const dir = path.join(this.options.runDir, which);
    try {
      await saveCheckpoint(dir, this.model, this.optimizer, this.state);
    } catch (error) {
      if (!(error instanceof NonFiniteStateError)) throw error;
      return this.stateNotFinite(error);
    }
    await this.call('onCheckpoint', which, dir);
    return null;
  }

  /** The validation set's -ELBO and terms, or null without a validation set. */
  private async validate(): Promise<EvalResult | null> {
    if (!this.validation) return null;
    const seed = this.config.seed + VALIDATION_SEED_OFFSET;
    return evaluateVae(this.model, this.validation, this.options.data.validation.count, { seed });
  }

  /**
   * The end of an epoch: validate, record, checkpoint ('latest', and 'best'
   * when validation improved), then decide whether the run goes on.
   */
  private async endEpoch(stop: boolean, runDone: boolean): Promise<RunEnd | null> {
    const { state } = this;
    state.epochSums.seconds += (performance.now() - this.epochStart) / 1000;
    const val = await this.validate();
    const record = epochRecord(state, this.config, val);
    state.history.push(record);
    if (state.batchInEpoch >= this.stepsPerEpoch) {
      state.epoch++;
      state.batchInEpoch = 0;
    }
    state.epochSums = emptyEpochSums();
    await this.call('onEpochEnd', record, this.model);
    if (val && !Number.isFinite(val.neg_elbo)) return this.validationNotFinite();
    const failed = await this.checkpoint(record, val);
    if (failed) return failed;
    // Validation, pictures and saves are not training: keep them out of the next speed window.
    this.epochStart = performance.now();
    this.speed.restart();
    // Stopped on an epoch's last batch: the epoch ended (validated and saved) as usual.
    if (stop && !runDone) return this.interrupted();
    return runDone ? COMPLETED : null;
  }

  /** Saves 'latest', and 'best' when the validation -ELBO improved on the best so far; the run's end if a save was refused. */
  private async checkpoint(record: EpochRecord, val: EvalResult | null): Promise<RunEnd | null> {
    const { state } = this;
    const improved = val !== null && (state.best === null || val.neg_elbo < state.best.val_neg_elbo);
    if (improved) state.best = { val_neg_elbo: val.neg_elbo, step: state.step, epoch: record.epoch };
    return (await this.save('latest')) ?? (improved ? this.save('best') : null);
  }

  /** A stop request mid-epoch: save where we are, to resume from. */
  private async interrupt(): Promise<RunEnd> {
    this.state.epochSums.seconds += (performance.now() - this.epochStart) / 1000;
    return (await this.save('latest')) ?? this.interrupted();
  }

  private interrupted(): RunEnd {
    return { status: 'interrupted', message: `stopped at step ${this.state.step}; resume with --resume ${this.options.runDir}` };
  }

  private lossNotFinite(): RunEnd {
    const { runDir } = this.options;
    const kept = fs.existsSync(path.join(runDir, 'latest'))
      ? `the last good checkpoint is in ${runDir}`
      : 'no epoch had ended, so there is no checkpoint';
    const message = `the loss became NaN or infinite at step ${this.state.step}; stopped without saving (${kept}). Try a lower --learning-rate.`;
    return { status: 'diverged', message };
  }

  private stateNotFinite(error: Error): RunEnd {
    const { runDir } = this.options;
    const kept = fs.existsSync(path.join(runDir, 'latest')) ? `the last good checkpoint is in ${runDir}` : 'there is no earlier checkpoint';
    const message = `the model or Adam's state became NaN or infinite by step ${this.state.step} (${error.message}); stopped without saving (${kept}). Try a lower --learning-rate.`;
    return { status: 'diverged', message };
  }

  private validationNotFinite(): RunEnd {
    const message = `the validation -ELBO is not finite at step ${this.state.step}; stopped without saving this epoch. Try a lower --learning-rate.`;
    return { status: 'diverged', message };
  }

  /** Frees what the run holds besides the model, and tells the hooks how it ended. */
  async finish(end: RunEnd): Promise<TrainResult> {
    await drain(this.pending);
    this.optimizer.dispose();
    const result: TrainResult = { ...end, state: this.state, model: this.model };
    await this.call('onStop', result);
    return result;
  }
}

/** A new run, or the one a checkpoint resumes: model, optimizer and state ready, hooks told. */
async function startRun(options: TrainOptions): Promise<TrainingRun> {
  const { config, data, backend, resume } = options;
  const model = resume?.model ?? buildVae(config.model, config.seed, new TemperatureSchedule(config.schedule).at(0));
  const optimizer = fusedAdam(config.learningRate);
  if (resume?.optimizerWeights) await restoreOptimizer(optimizer, resume.optimizerWeights, model);
  const state: TrainState = resume ? { ...resume.state, config, backend } : initialState(config, model, backend);
  if (options.dataInfo) state.data = options.dataInfo;

  const stepsPerEpoch = batchesPerEpoch(data.train.count, config.batchSize, true);
  if (stepsPerEpoch === 0) {
    throw new Error(`the training set has ${data.train.count} images, fewer than one batch of ${config.batchSize}: lower --batch-size`);
  }
  if (state.batchInEpoch >= stepsPerEpoch) {
    // A checkpoint taken after an epoch's last batch (older versions stopped there without ending the epoch).
    state.epoch++;
    state.batchInEpoch = 0;
  }
  const totalSteps = config.steps ?? config.epochs * stepsPerEpoch;
  const validation = data.validation.count > 0 ? binarizeSet(data.validation, 'fixed', config.seed + VALIDATION_SEED_OFFSET) : null;
  const run = new TrainingRun(options, model, optimizer, state, stepsPerEpoch, totalSteps, validation);
  await run.call('onStart', { model, totalSteps, stepsPerEpoch, startStep: state.step, resumed: !!resume });
  return run;
}

/** Trains (or resumes) a VAE: start, run epochs, finish. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const run = await startRun(options);
  const end = await run.run();
  return run.finish(end);
}
