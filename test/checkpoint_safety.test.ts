/**
 * Issue 16 (in process): checkpoints are validated before they are trusted,
 * never overwritten with NaN, survive a full disk, and evaluation does not
 * depend on the batch size.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { binarizeSet, loadDataset, type Dataset } from '../src/data/index.js';
import { makeTrainConfig, type TrainConfig } from '../src/model/config.js';
import { train } from '../src/model/trainer.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../src/model/checkpoint.js';
import { evaluateVae } from '../src/model/evaluate.js';
import { validateStateFile, StateSchemaError } from '../src/model/state_schema.js';
import { acquireRunLock, RunLockedError, LOCK_FILE } from '../src/model/run_lock.js';
import { describeFsError } from '../src/io/fs_errors.js';
import { fusedAdam } from '../src/ops/adam.js';

await useTestBackend();

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-safety-'));
const small = (overrides: Parameters<typeof makeTrainConfig>[0] = {}): TrainConfig =>
  makeTrainConfig({
    batchSize: 50,
    logEvery: 10,
    ...overrides,
    model: { latentVars: 6, categories: 4, encoderUnits: [32], decoderUnits: [32] },
  });

let data: Dataset;
/** One tiny finished run (2 epochs of 2 steps, with validation so best/ exists), copied fresh for each test. */
const template = tmp();
test.before(async () => {
  data = await loadDataset({ trainSize: 100, validationSize: 50, testSize: 100 });
  await train({ config: small({ epochs: 2 }), runDir: template, data, backend: 'test' });
});
test.after(() => fs.rmSync(template, { recursive: true, force: true }));

function copyRun(): string {
  const dir = tmp();
  fs.cpSync(template, dir, { recursive: true });
  return dir;
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const writeJson = (file: string, value: unknown) => fs.writeFileSync(file, JSON.stringify(value));

test('item 2: a checkpoint whose Adam state holds Inf is refused on resume, naming optimizer.bin', async () => {
  const dir = copyRun();
  const latest = path.join(dir, 'latest');
  const state = readJson(path.join(latest, 'state.json'));
  delete state.checksums; // as an older checkpoint: the finiteness check itself must catch it
  writeJson(path.join(latest, 'state.json'), state);
  const bin = fs.readFileSync(path.join(latest, 'optimizer.bin'));
  bin.writeFloatLE(Infinity, bin.length - 4);
  fs.writeFileSync(path.join(latest, 'optimizer.bin'), bin);
  await assert.rejects(loadCheckpoint(dir), /optimizer\.bin: NaN or infinite values in Adam's .*; the checkpoint is corrupt/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('item 2: non-finite Adam moments are never saved over a good checkpoint; the kept one resumes and trains on', async () => {
  const dir = copyRun();
  const before = fs.readFileSync(path.join(dir, 'latest', 'optimizer.bin'));
  const resume = await loadCheckpoint(dir);
  // v of the last variable becomes Inf: its updates are 0, so weights and loss stay finite, only Adam is poisoned.
  const last = resume.optimizerWeights!.at(-1)!;
  resume.optimizerWeights!.splice(-1, 1, { name: last.name, tensor: tf.fill(last.tensor.shape, Infinity) });
  const result = await train({ config: small({ epochs: 4 }), runDir: dir, data, backend: 'test', resume });
  assert.equal(result.status, 'diverged');
  assert.match(result.message!, /Adam's state became NaN or infinite by step 6 .*the last good checkpoint is in/);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'latest', 'optimizer.bin')), before, 'latest/ untouched');
  const kept = await loadCheckpoint(dir);
  assert.equal(kept.state.step, 4);
  const again = await train({ config: small({ epochs: 4 }), runDir: dir, data, backend: 'test', resume: kept });
  assert.equal(again.status, 'completed', again.message ?? '');
  assert.equal(again.state.step, 8);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('item 7: a full disk during a save: one line naming the folder and the fix, no leftover, the previous checkpoint intact', async () => {
  const dir = copyRun();
  const { model } = await loadCheckpoint(dir);
  const stateBefore = fs.readFileSync(path.join(dir, 'latest', 'state.json'), 'utf8');
  const original = fs.promises.writeFile;
  fs.promises.writeFile = (async (file: fs.PathLike, ...rest: unknown[]) => {
    if (String(file).includes('.tmp-')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return (original as (...a: unknown[]) => Promise<void>)(file, ...rest);
  }) as typeof fs.promises.writeFile;
  try {
    const optimizer = fusedAdam(1e-3);
    await assert.rejects(
      saveCheckpoint(path.join(dir, 'latest'), model, optimizer, readJson(path.join(dir, 'latest', 'state.json'))),
      (e: Error) =>
        e instanceof CheckpointError &&
        /cannot save a checkpoint in .*latest: no space left on the device holding .*; free some space there .*the previous checkpoint is intact/.test(
          e.message,
        ) &&
        !e.message.includes('\n'),
    );
  } finally {
    fs.promises.writeFile = original;
  }
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
    'no temporary folder left to keep the disk full',
  );
  assert.equal(fs.readFileSync(path.join(dir, 'latest', 'state.json'), 'utf8'), stateBefore);
  assert.equal((await loadCheckpoint(dir)).state.step, 4);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('item 10: state.json is checked field by field; one line names the file and the field', async () => {
  const dir = copyRun();
  const file = path.join(dir, 'latest', 'state.json');
  const good = readJson(file);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases rewrite arbitrary parts of a parsed JSON document
  const cases: Array<[string, (s: Record<string, any>) => unknown, RegExp]> = [
    ['null', () => null, /state\.json: holds null, not a catvae checkpoint's state/],
    ['{}', () => ({}), /state\.json: not a catvae checkpoint \(format 'undefined'\)/],
    ['no config', (s) => ({ ...s, config: undefined }), /state\.json: field 'config' must be an object, got nothing \(missing\)/],
    ['config without seed', (s) => ({ ...s, config: { ...s.config, seed: undefined } }), /field 'config\.seed' must be present/],
    ['negative step', (s) => ({ ...s, step: -3 }), /field 'step' must be an integer >= 0, got -3/],
    ['text step', (s) => ({ ...s, step: 'abc' }), /field 'step' must be an integer >= 0, got "abc"/],
    ['null tau', (s) => ({ ...s, tau: null }), /field 'tau' must be a finite number > 0, got null/],
    [
      'wrong N',
      (s) => ({ ...s, config: { ...s.config, model: { ...s.config.model, latentVars: 7 } } }),
      /field 'config\.model\.latentVars' is 7 but model\.json has 6/,
    ],
    ['bad history', (s) => ({ ...s, history: [{ epoch: 0 }] }), /field 'history\[0\]\.step' must be an integer >= 0/],
  ];
  for (const [name, mutate, message] of cases) {
    writeJson(file, mutate(structuredClone(good)));
    await assert.rejects(
      loadCheckpoint(dir),
      (e: Error) => e instanceof CheckpointError && e.message.startsWith(file) && message.test(e.message) && !e.message.includes('\n'),
      name,
    );
  }
  writeJson(file, good);
  assert.equal((await loadCheckpoint(dir)).state.step, 4);
  assert.throws(() => validateStateFile({ ...good, noise: { seed: 1, calls: -1 } }), StateSchemaError);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('item 10: a weight file changed after the save (still finite, right size) fails its checksum', async () => {
  const dir = copyRun();
  const weights = path.join(dir, 'latest', 'weights.bin');
  const bytes = fs.readFileSync(weights);
  const scrambled = Buffer.from(bytes);
  scrambled.set(bytes.subarray(0, 400), 400); // copy one float block over another: finite, same size
  fs.writeFileSync(weights, scrambled);
  await assert.rejects(loadCheckpoint(dir), /weights\.bin: its sha256 differs from the one in state\.json/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('item 3: the run lock refuses a live owner or another host, takes over a dead one, and is released', () => {
  const dir = tmp();
  const file = path.join(dir, LOCK_FILE);
  writeJson(file, { pid: process.ppid, host: os.hostname(), started: 'then' });
  assert.throws(
    () => acquireRunLock(dir),
    (e: Error) => e instanceof RunLockedError && /is in use by another trainer \(pid \d+ on /.test(e.message),
  );
  writeJson(file, { pid: process.pid, host: 'elsewhere.example', started: 'then' });
  assert.throws(() => acquireRunLock(dir), RunLockedError);
  writeJson(file, { pid: 2 ** 22 + 12345, host: os.hostname(), started: 'then' }); // above Linux's pid_max: never alive
  const lock = acquireRunLock(dir);
  assert.equal(lock.tookOver?.pid, 2 ** 22 + 12345);
  assert.equal(readJson(file).pid, process.pid);
  lock.release();
  assert.ok(!fs.existsSync(file));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('item 12: file-system errors read as what they are (read-only, a folder, a full disk), not as permissions', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  assert.match(describeFsError(err('EROFS'), '/mnt/x')!, /\/mnt\/x is on a read-only file system/);
  assert.match(describeFsError(err('EISDIR'), '/a/b')!, /\/a\/b is a folder where a file was expected/);
  assert.match(describeFsError(err('ENOSPC'), '/d')!, /no space left on the device holding \/d/);
  assert.equal(describeFsError(new Error('other'), '/d'), null);
});

test('item 13: evaluate gives the same figures whatever the batch size (codes are seeded per image)', async () => {
  const { model } = await loadCheckpoint(template);
  const images = binarizeSet(data.test, 'fixed', 5);
  const a = await evaluateVae(model, images, 100, { iwSamples: 20, batchSize: 100, maxRows: 2000, seed: 3 });
  const b = await evaluateVae(model, images, 100, { iwSamples: 20, batchSize: 30, maxRows: 200, seed: 3 });
  for (const key of ['neg_elbo', 'recon', 'kl', 'nll_iw'] as const) {
    assert.ok(Math.abs(a[key]! - b[key]!) < 1e-3, `${key}: batch 100 gives ${a[key]}, batch 30 gives ${b[key]}`);
  }
  const other = await evaluateVae(model, images, 100, { iwSamples: 20, batchSize: 100, maxRows: 2000, seed: 4 });
  assert.notEqual(other.neg_elbo, a.neg_elbo, 'another seed draws other codes');
});
