/**
 * Training progress for people: a bar per epoch on a terminal, one plain line
 * every --log-every steps otherwise, and a summary line per epoch.
 */
import cliProgress from 'cli-progress';
import type { EpochRecord } from '../model/checkpoint.js';
import type { StepLog, TrainerHooks } from '../model/trainer.js';

const fmt = (v: number | null, digits = 2) => (v === null || v === undefined ? '-' : v.toFixed(digits));
const int = (v: number) => Math.round(v).toLocaleString('en-US');

export function epochLine(record: EpochRecord, epochs: number | null): string {
  const of = epochs ? `/${epochs}` : '';
  const val = record.val_neg_elbo === null ? '' : `  val -ELBO ${fmt(record.val_neg_elbo)}`;
  return (
    `epoch ${record.epoch + 1}${of}  step ${record.step}  train -ELBO ${fmt(record.train_loss)} ` +
    `(recon ${fmt(record.train_recon)}, KL ${fmt(record.train_kl)})${val}  tau ${fmt(record.tau, 3)}  ` +
    `${int(record.images_per_sec)} img/s  ${fmt(record.seconds, 1)} s`
  );
}

export function stepLine(log: StepLog): string {
  return (
    `epoch ${log.epoch + 1} batch ${log.batch}/${log.batchesPerEpoch}  step ${log.step}  loss ${fmt(log.loss)} ` +
    `(recon ${fmt(log.recon)}, KL ${fmt(log.kl)})  tau ${fmt(log.tau, 3)}  ${int(log.imagesPerSec)} img/s`
  );
}

export interface ProgressOptions {
  /** Draw a bar (needs a terminal); otherwise print plain lines. */
  bar: boolean;
  /** Where lines go (stderr when stdout is kept for --json). */
  stream: NodeJS.WriteStream;
  epochs: number | null;
}

export function progressHooks({ bar: useBar, stream, epochs }: ProgressOptions): TrainerHooks {
  let bar: cliProgress.SingleBar | null = null;
  const write = (line: string) => stream.write(`${line}\n`);
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  return {
    onEpochStart(epoch, startBatch, batches) {
      if (!useBar) return;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format:
            `epoch ${epoch + 1}${epochs ? `/${epochs}` : ''} |{bar}| {value}/{total} | loss {loss} ` +
            `(recon {recon}, KL {kl}) | tau {tau} | {ips} img/s | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(batches, startBatch, { loss: '-', recon: '-', kl: '-', tau: '-', ips: '-' });
    },
    onStep(_step, batch) {
      bar?.update(batch);
    },
    onLog(log) {
      if (bar) {
        bar.update(log.batch, {
          loss: fmt(log.loss),
          recon: fmt(log.recon),
          kl: fmt(log.kl),
          tau: fmt(log.tau, 3),
          ips: int(log.imagesPerSec),
        });
      } else {
        write(stepLine(log));
      }
    },
    onEpochEnd(record) {
      stopBar();
      write(epochLine(record, epochs));
    },
    onStop() {
      stopBar();
    },
  };
}
