/**
 * The bookkeeping of a training run that is not the algorithm: the loss
 * terms kept on the device between read-backs, the speed window, and the
 * per-epoch record.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochRecord, TrainState } from './checkpoint.js';
import { learningRateAt, type TrainConfig } from './config.js';
import type { EvalResult } from './evaluate.js';
import type { ElboTerms } from './loss.js';

/**
 * The loss terms are computed on every 5th step (and on each logged step and each epoch's last):
 * the gradients do not need them, and the softplus over every pixel is a
 * large share of a fast step on wasm. Logged training losses are means over
 * those steps.
 */
export const METRICS_STRIDE = 5;

export interface TermSums {
  loss: number;
  recon: number;
  kl: number;
  count: number;
}

/** Reads the kept per-step terms back in one transfer and frees them. */
export async function drain(pending: ElboTerms[]): Promise<TermSums> {
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

/** Images trained since the window opened, for the images/s of each log line. */
export class SpeedWindow {
  private start = performance.now();
  private images = 0;

  add(images: number): void {
    this.images += images;
  }

  imagesPerSec(now = performance.now()): number {
    return (this.images * 1000) / (now - this.start);
  }

  /** Starts a new window (after a log line, or after work that is not training). */
  restart(): void {
    this.start = performance.now();
    this.images = 0;
  }
}

/** The history entry of the epoch that just ended, from its sums and its validation. */
export function epochRecord(state: TrainState, config: TrainConfig, val: EvalResult | null): EpochRecord {
  const e = state.epochSums;
  return {
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
}

/** Sums of an epoch not yet begun. */
export function emptyEpochSums(): TrainState['epochSums'] {
  return { loss: 0, recon: 0, kl: 0, count: 0, steps: 0, seconds: 0 };
}
