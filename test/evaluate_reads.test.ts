/**
 * Evaluation without per-batch syncs: evaluateVae keeps each batch's sums on
 * the device and reads them back once, on every backend; on webgpu that is
 * one GPU-to-CPU read per evaluation however many batches (counted by
 * src/webgpu/counters.ts), with progress still reported per batch and no
 * tensor left behind, the importance-weighted bound included.
 */
import { it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { describeBackends } from './helpers/backends.js';
import { buildVae } from '../src/model/vae.js';
import { DEFAULT_VAE_CONFIG } from '../src/model/config.js';
import { evaluateVae, type EvalOptions } from '../src/model/evaluate.js';
import { Rng } from '../src/random.js';
import { countWebGpuWork } from '../src/webgpu/counters.js';

const COUNT = 130;

await describeBackends('evaluateVae reads once per evaluation', (backend) => {
  const options: Array<Partial<EvalOptions>> = [{ batchSize: 50 }, { batchSize: 40, iwSamples: 30, maxRows: 500, seed: 3 }];
  for (const opts of options) {
    it(`${opts.iwSamples ? 'with' : 'without'} the IW bound: ${Math.ceil(COUNT / opts.batchSize!)} batches, progress per batch, one read, no leak`, async () => {
      const model = buildVae({ ...DEFAULT_VAE_CONFIG, latentVars: 6, categories: 5, encoderUnits: [32], decoderUnits: [32] }, 3);
      const rng = new Rng(11);
      const images = Float32Array.from({ length: COUNT * 784 }, () => (rng.nextOpen01() < 0.13 ? 1 : 0));
      const progress: number[] = [];
      const before = tf.memory().numTensors;
      const counter = backend === 'webgpu' ? countWebGpuWork() : null;
      const result = await evaluateVae(model, images, COUNT, { ...opts, onProgress: (done) => progress.push(done) });
      counter?.stop();
      assert.equal(tf.memory().numTensors - before, 0, 'tensors leaked');
      const batches = Math.ceil(COUNT / opts.batchSize!);
      assert.deepEqual(
        progress,
        Array.from({ length: batches }, (_, i) => Math.min(COUNT, (i + 1) * opts.batchSize!)),
      );
      if (counter) assert.equal(counter.counts.reads, 1, 'GPU-to-CPU reads');
      assert.ok(Math.abs(result.neg_elbo - (result.recon + result.kl)) < 1e-9);
      if (opts.iwSamples) assert.ok(result.nll_iw! < result.neg_elbo, `IW ${result.nll_iw} vs -ELBO ${result.neg_elbo}`);
      model.vae.dispose();
    });
  }
});
