/**
 * TensorBoard for a training run: scalars every --log-every steps in
 * <logdir>/train, validation each epoch in <logdir>/validation (same tags, so
 * TensorBoard overlays the two), and per epoch: reconstructions, prior
 * samples, logits and code-usage histograms, also saved as PNG in the run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { binarizeSet, sliceSet, type Dataset } from '../data/index.js';
import { encodePng, tileImages, type PixelImage } from '../image/index.js';
import type { TrainConfig } from './config.js';
import { TEST_SEED } from './evaluate.js';
import { codeIndices, codesOf, encode, reconstruct, samplePrior } from './generate.js';
import type { TrainerHooks } from './trainer.js';
import type { CategoricalVae } from './vae.js';
import { SummaryWriter } from '../tensorboard/summary_writer.js';

export interface TensorBoardHookOptions {
  logdir: string;
  config: TrainConfig;
  data: Dataset;
  /** Where epoch pictures are saved as PNG (omit to skip). */
  picturesDir?: string;
  /** Test digits shown with their reconstructions. */
  pictureCount?: number;
}

/** Digits as a grid: [count, rows*cols] probabilities in [0, 1]. */
function grid(values: Float32Array, count: number, rows: number, cols: number, columns: number): PixelImage {
  const pixels = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) pixels[i] = Math.round(Math.min(1, Math.max(0, values[i])) * 255);
  return tileImages({ pixels, count, height: rows, width: cols, channels: 1 }, { columns, scale: 2 });
}

export function tensorBoardHooks(options: TensorBoardHookOptions): TrainerHooks {
  const { logdir, config, data, picturesDir, pictureCount = 16 } = options;
  const { rows, cols } = data.test;
  const train = new SummaryWriter(path.join(logdir, 'train'));
  const validation = data.validation.count > 0 ? new SummaryWriter(path.join(logdir, 'validation')) : null;
  // The same test digits and prior codes every epoch, so pictures show the model changing, not the inputs.
  const shown = Math.min(pictureCount, data.test.count);
  const testDigits = binarizeSet(sliceSet(data.test, 0, shown), 'fixed', TEST_SEED);
  const usageSet = data.validation.count > 0 ? data.validation : data.test;
  const usageCount = Math.min(1000, usageSet.count);
  const usageImages = binarizeSet(sliceSet(usageSet, 0, usageCount), 'fixed', TEST_SEED);

  const pictures = async (model: CategoricalVae, step: number, epoch: number) => {
    const x = tf.tensor2d(testDigits, [shown, rows * cols]);
    const recon = reconstruct(model, x, 'argmax');
    const prior = samplePrior(model, 64, config.seed);
    // Originals, their reconstructions, then the prior samples: one asynchronous read (webgpu has no synchronous one in Node).
    const all = tf.concat([x, recon, prior]);
    const values = (await all.data()) as Float32Array;
    const pixels = rows * cols;
    // Originals on the first row, their reconstructions under them.
    const reconImage = grid(values.subarray(0, 2 * shown * pixels), 2 * shown, rows, cols, shown);
    const priorImage = grid(values.subarray(2 * shown * pixels), 64, rows, cols, 8);
    tf.dispose([x, recon, prior, all]);
    train.image('pictures/reconstructions', reconImage, step);
    train.image('pictures/prior_samples', priorImage, step);
    if (picturesDir) {
      fs.mkdirSync(picturesDir, { recursive: true });
      const name = (what: string) => path.join(picturesDir, `epoch-${String(epoch + 1).padStart(3, '0')}-${what}.png`);
      fs.writeFileSync(name('reconstructions'), encodePng(reconImage));
      fs.writeFileSync(name('samples'), encodePng(priorImage));
    }
  };

  const histograms = async (model: CategoricalVae, step: number) => {
    const { latentVars: n, categories: k } = model.config;
    const x = tf.tensor2d(usageImages, [usageCount, rows * cols]);
    const logits = encode(model, x);
    const codes = codesOf(logits, 'argmax');
    const [, indices] = await Promise.all([train.histogram('codes/logits', logits, step), codeIndices(codes)]);
    tf.dispose([x, logits, codes]);
    for (let v = 0; v < n; v++) {
      const classes = new Float32Array(usageCount);
      for (let i = 0; i < usageCount; i++) classes[i] = indices[i * n + v];
      // One bucket per class, the same K buckets every epoch even when a variable uses few classes.
      train.histogram(`code_usage/var_${String(v).padStart(2, '0')}`, classes, step, k, [-0.5, k - 0.5]);
    }
  };

  return {
    onStart({ startStep }) {
      train.text('config', `\`\`\`json\n${JSON.stringify(config, null, 2)}\n\`\`\``, startStep);
    },
    onLog(log) {
      train.scalars(
        {
          'elbo/neg_elbo': log.loss,
          'elbo/recon': log.recon,
          'elbo/kl': log.kl,
          'schedule/tau': log.tau,
          'schedule/learning_rate': log.learningRate,
          'speed/images_per_sec': log.imagesPerSec,
        },
        log.step,
      );
    },
    async onEpochEnd(record, model) {
      if (validation && record.val_neg_elbo !== null) {
        validation.scalars(
          { 'elbo/neg_elbo': record.val_neg_elbo, 'elbo/recon': record.val_recon!, 'elbo/kl': record.val_kl! },
          record.step,
        );
        validation.flush();
      }
      await pictures(model, record.step, record.epoch);
      await histograms(model, record.step);
      train.flush();
    },
    onStop() {
      train.close();
      validation?.close();
    },
  };
}
