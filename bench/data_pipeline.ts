/**
 * Data pipeline throughput on the wasm backend: the ways a training batch
 * can be made, each timed alone (no model). Prints img/s and ms/batch of
 * the median round, and the best round (the machine is shared: the best is
 * the steadier figure for comparing options within one run). Run: npx tsx bench/data_pipeline.ts [batchSize]
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.js';
import { loadDataset, epochBatches, epochOrder, gatherImages, toTfDataset, type Binarization } from '../src/data/index.js';

const BATCH = Number(process.argv[2] ?? 100);
const ROUNDS = 7;
const SEED = 1;

const backend = await selectBackend('wasm');
console.log(`${backend.summary}; batch ${BATCH}; median (best) of ${ROUNDS} rounds`);
const { train } = await loadDataset();
const size = train.rows * train.cols;
const order = epochOrder(train.count, SEED, 0);

/** Times `batches` calls of `step` per round; reports the median round. */
async function measure(name: string, batches: number, step: (k: number) => void | Promise<void>): Promise<void> {
  for (let k = 0; k < Math.min(batches, 5); k++) await step(k); // warm-up
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let k = 0; k < batches; k++) await step(k);
    times.push((performance.now() - t0) / batches);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(ROUNDS / 2)];
  const best = times[0];
  const rate = (t: number): string => ((BATCH * 1000) / t).toFixed(0);
  console.log(
    `${name.padEnd(62)} ${rate(ms).padStart(7)} (${rate(best).padStart(7)}) img/s ${ms.toFixed(3).padStart(8)} (${best.toFixed(3)}) ms/batch`,
  );
}

const baseTensors = tf.memory().numTensors;
const perEpoch = Math.floor(train.count / BATCH);
const indicesOf = (k: number): Uint32Array => order.subarray((k % perEpoch) * BATCH, (k % perEpoch) * BATCH + BATCH);

// 1. Host only: the per-batch work without a tensor.
for (const mode of ['dynamic', 'fixed', 'threshold', 'none'] as Binarization[]) {
  await measure(`host gather+${mode}, no tensor`, 200, (k) => {
    gatherImages(train, indicesOf(k), mode, { seed: SEED, epoch: 0, batch: k });
  });
}

// 2. Host gather into a fresh Float32Array, then tf.tensor2d (what epochBatches does).
await measure('host gather+dynamic -> fresh array -> tensor2d', 200, (k) => {
  const v = gatherImages(train, indicesOf(k), 'dynamic', { seed: SEED, epoch: 0, batch: k });
  tf.tensor2d(v, [BATCH, size]).dispose();
});

// 3. Same, reusing one array (safe on wasm only: its write() copies into the heap).
const reused = new Float32Array(BATCH * size);
await measure('host gather+dynamic -> reused array -> tensor2d', 200, (k) => {
  gatherImages(train, indicesOf(k), 'dynamic', { seed: SEED, epoch: 0, batch: k }, reused);
  tf.tensor2d(reused, [BATCH, size]).dispose();
});

// 4. The iterator API end to end (labels, index copies, options).
await measure(
  'epochBatches (dynamic)',
  200,
  (() => {
    let it = epochBatches(train, { batchSize: BATCH, seed: SEED, epoch: 0, binarization: 'dynamic' });
    return () => {
      let r = it.next();
      if (r.done) {
        it = epochBatches(train, { batchSize: BATCH, seed: SEED, epoch: 1, binarization: 'dynamic' });
        r = it.next();
      }
      r.value.x.dispose();
    };
  })(),
);

// 5. tf.data adapter, plain and with prefetch (single-threaded: prefetch can only add overhead).
for (const prefetch of [0, 4]) {
  let ds = toTfDataset(train, { batchSize: BATCH, seed: SEED, binarization: 'dynamic', target: 'inputs', epochs: Infinity });
  if (prefetch > 0) ds = ds.prefetch(prefetch);
  const it = await ds.iterator();
  await measure(`toTfDataset${prefetch ? ` + prefetch(${prefetch})` : ''} (dynamic, ys = xs)`, 200, async () => {
    const r = await it.next();
    tf.dispose(r.value);
  });
}
// An abandoned prefetch iterator keeps its buffered batches: not a leak of the pipeline.
const buffered = tf.memory().numTensors - baseTensors;

// 6. One resident float32 tensor of the whole train set (grayscale), batches cut on the device.
const all = tf.tensor2d(gatherImages(train, epochOrder(train.count, 0, 0, false), 'none', { seed: 0 }), [train.count, size]);
await measure('resident tensor: tf.gather(rows) ', 100, (k) => {
  const idx = tf.tensor1d(new Int32Array(indicesOf(k)), 'int32');
  const x = tf.gather(all, idx);
  x.dataSync();
  tf.dispose([idx, x]);
});
await measure('resident tensor: tf.gather + device Bernoulli (randomUniform)', 100, (k) => {
  const x = tf.tidy(() => {
    const g = tf.gather(all, tf.tensor1d(new Int32Array(indicesOf(k)), 'int32'));
    return tf.cast(tf.less(tf.randomUniform(g.shape, 0, 1, 'float32', SEED + k), g), 'float32');
  });
  x.dataSync();
  x.dispose();
});
await measure('resident tensor: tf.slice (contiguous, unshuffled)', 10, (k) => {
  const x = tf.slice(all, [(k % perEpoch) * BATCH, 0], [BATCH, size]);
  x.dataSync();
  x.dispose();
});
all.dispose();

console.log(`tensors left: ${tf.memory().numTensors - baseTensors} (${buffered} held by the abandoned prefetch buffer)`);
