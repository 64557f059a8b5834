/**
 * A model.fit callback that logs every numeric metric to TensorBoard, so any
 * tfjs model gets curves without libtensorflow.
 *
 * Layout follows Keras's TensorBoard callback, which TensorBoard users know:
 * `<logdir>/train` and `<logdir>/validation` runs; `val_loss` is written as
 * `epoch_loss` in the validation run, so both curves share one chart.
 * Tags are `batch_<metric>` (global batch step) and `epoch_<metric>` (epoch).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SummaryWriter, type SummaryWriterOptions } from './summary_writer.js';

export type UpdateFreq = 'batch' | 'epoch';

export interface TensorBoardCallbackArgs {
  /** 'epoch' (default) writes epoch metrics; 'batch' also writes every batch's. */
  updateFreq?: UpdateFreq;
  /** Global batch step of the first batch, e.g. when continuing a run (default 0). */
  initialStep?: number;
  writerOptions?: SummaryWriterOptions;
}

type Logs = Parameters<tf.Callback['onBatchEnd']>[1];

/** Keys model.fit puts in batch logs that are bookkeeping, not metrics. */
const NOT_METRICS = new Set(['batch', 'size']);

/** Numeric entries of fit logs; tfjs passes class callbacks unresolved scalars, read here without disposing them. */
async function numericLogs(logs: Logs): Promise<Array<[string, number]>> {
  const out: Array<[string, number]> = [];
  for (const [key, value] of Object.entries(logs ?? {})) {
    if (NOT_METRICS.has(key)) continue;
    if (typeof value === 'number') out.push([key, value]);
    else if (value instanceof tf.Tensor && value.size === 1) out.push([key, (await value.data())[0]]);
  }
  return out;
}

export class TensorBoardCallback extends tf.Callback {
  readonly logdir: string;
  readonly updateFreq: UpdateFreq;
  /** Global step of the next batch. */
  step: number;
  private readonly writerOptions: SummaryWriterOptions;
  private writers = new Map<'train' | 'validation', SummaryWriter>();

  constructor(logdir: string, args: TensorBoardCallbackArgs = {}) {
    super();
    const { updateFreq = 'epoch', initialStep = 0, writerOptions = {} } = args;
    if (updateFreq !== 'batch' && updateFreq !== 'epoch') {
      throw new Error(`tensorBoardCallback: updateFreq must be 'batch' or 'epoch', got '${String(updateFreq)}'`);
    }
    if (!Number.isSafeInteger(initialStep)) throw new Error(`tensorBoardCallback: initialStep must be an integer, got ${initialStep}`);
    this.logdir = logdir;
    this.updateFreq = updateFreq;
    this.step = initialStep;
    this.writerOptions = writerOptions;
  }

  /** The writer of a run, created on first use (no empty validation run without validation data). */
  private writer(run: 'train' | 'validation'): SummaryWriter {
    let writer = this.writers.get(run);
    if (!writer) {
      writer = new SummaryWriter(path.join(this.logdir, run), this.writerOptions);
      this.writers.set(run, writer);
    }
    return writer;
  }

  override async onBatchEnd(_batch: number, logs?: Logs): Promise<void> {
    if (this.updateFreq === 'batch') {
      const scalars: Record<string, number> = {};
      for (const [key, value] of await numericLogs(logs)) scalars[`batch_${key}`] = value;
      this.writer('train').scalars(scalars, this.step);
    }
    this.step++;
  }

  override async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    const train: Record<string, number> = {};
    const validation: Record<string, number> = {};
    for (const [key, value] of await numericLogs(logs)) {
      if (key.startsWith('val_')) validation[`epoch_${key.slice(4)}`] = value;
      else train[`epoch_${key}`] = value;
    }
    if (Object.keys(train).length > 0) this.writer('train').scalars(train, epoch);
    if (Object.keys(validation).length > 0) this.writer('validation').scalars(validation, epoch);
    // Epochs are rare and users look at the board while training runs: show them now.
    for (const writer of this.writers.values()) writer.flush();
  }

  override async onTrainEnd(): Promise<void> {
    this.close();
  }

  /** Closes the writers; a later fit opens new files. */
  close(): void {
    const writers = [...this.writers.values()];
    this.writers.clear();
    for (const writer of writers) writer.close();
  }
}

/** Factory in the style of tf.callbacks.earlyStopping. */
export function tensorBoardCallback(logdir: string, args?: TensorBoardCallbackArgs): TensorBoardCallback {
  return new TensorBoardCallback(logdir, args);
}
