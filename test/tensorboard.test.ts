import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { decode } from 'fast-png';
import { SummaryWriter, closeAllWriters, eventFileName } from '../src/tensorboard/summary_writer.js';
import { RECORD_OVERHEAD } from '../src/tensorboard/record_writer.js';
import { readEventFile, readRecords, scalarsOf } from './helpers/tfevents_reader.js';

await useTestBackend();

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-tb-'));
const noTimer = { flushIntervalMs: 0 };

test('file name: events.out.tfevents.<10-digit seconds>.<hostname>, created in a new logdir', () => {
  assert.equal(eventFileName(1700000000.9, 'host-1.lan'), 'events.out.tfevents.1700000000.host-1.lan');
  assert.equal(eventFileName(12, 'a/b c'), 'events.out.tfevents.0000000012.a_b_c');
  const logdir = path.join(tmp(), 'runs', 'a');
  const writer = new SummaryWriter(logdir, noTimer);
  writer.close();
  assert.equal(path.dirname(writer.path), logdir);
  assert.match(path.basename(writer.path), new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.`));
});

test('the first record is file_version "brain.Event:2", on disk as soon as the writer exists', () => {
  const writer = new SummaryWriter(tmp(), { ...noTimer, clock: () => 1234.5 });
  const events = readEventFile(writer.path);
  assert.deepEqual(events, [{ wallTime: 1234.5, step: 0, fileVersion: 'brain.Event:2' }]);
  writer.close();
});

test('scalars, image, histogram and text read back exactly as written', async () => {
  let now = 1000;
  const writer = new SummaryWriter(tmp(), { ...noTimer, clock: () => (now += 0.5) });
  writer.scalar('loss/train', 0.25, 0);
  writer.scalar('loss/train', 0.125, 1);
  writer.scalar('nan', NaN, 2);
  writer.scalars({ a: 1, 'b/c': -3.5 }, 3);

  const pixels = Uint8Array.from({ length: 4 * 6 }, (_, i) => i * 10);
  writer.image('gray', { pixels, height: 4, width: 6, channels: 1 }, 4);
  const rgbTensor = tf.tensor3d([[[1, 0, 0.5]], [[0, 1, 0.25]]]); // [2, 1, 3]
  await writer.image('rgb', rgbTensor, 5);
  rgbTensor.dispose();

  const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
  const valuesTensor = tf.tensor1d(values);
  const returned = await writer.histogram('weights', valuesTensor, 6, 20);
  valuesTensor.dispose();
  writer.text('notes', '# Run\n*tau* = 0.5', 7);
  writer.close();

  const events = readEventFile(writer.path);
  assert.equal(events[0].fileVersion, 'brain.Event:2');
  assert.equal(events.length, 1 + 4 + 2 + 1 + 1);
  const wallTimes = events.map((e) => e.wallTime);
  assert.deepEqual(
    wallTimes,
    [...wallTimes].sort((a, b) => a - b),
    'wall times in write order',
  );

  const scalars = scalarsOf(events);
  assert.equal(scalars.length, 5);
  assert.deepEqual(
    scalars.filter(([tag]) => tag !== 'nan'),
    [
      ['loss/train', 0, 0.25],
      ['loss/train', 1, 0.125],
      ['a', 3, 1],
      ['b/c', 3, -3.5],
    ],
  );
  assert.ok(Number.isNaN(scalars.find(([tag]) => tag === 'nan')?.[2]), 'NaN is written as NaN, not dropped');

  const gray = events[5].summary?.[0];
  assert.equal(events[5].step, 4);
  assert.equal(gray?.tag, 'gray');
  assert.deepEqual([gray?.image?.height, gray?.image?.width, gray?.image?.colorspace], [4, 6, 1]);
  const grayPng = decode(gray?.image?.encoded ?? new Uint8Array());
  assert.deepEqual([grayPng.width, grayPng.height, grayPng.channels], [6, 4, 1]);
  assert.deepEqual([...grayPng.data], [...pixels]);

  const rgb = events[6].summary?.[0];
  assert.deepEqual([rgb?.image?.height, rgb?.image?.width, rgb?.image?.colorspace], [2, 1, 3]);
  assert.deepEqual([...decode(rgb?.image?.encoded ?? new Uint8Array()).data], [255, 0, 128, 0, 255, 64]);

  const h = events[7].summary?.[0].histo;
  assert.ok(h);
  assert.equal(events[7].step, 6);
  assert.equal(h.bucket.length, 20);
  assert.equal(
    h.bucket.reduce((a, b) => a + b, 0),
    1000,
    'counts sum to n',
  );
  assert.equal(h.num, 1000);
  for (let i = 1; i < h.bucketLimit.length; i++) assert.ok(h.bucketLimit[i] > h.bucketLimit[i - 1], 'limits ascend');
  assert.equal(h.min, Math.min(...values));
  assert.equal(h.max, Math.max(...values));
  assert.equal(h.bucketLimit[19], h.max);
  assert.deepEqual(h.bucket, [...returned.bucket]);

  const text = events[8].summary?.[0];
  assert.equal(text?.tag, 'notes');
  assert.deepEqual(text?.tensor, { dtype: 7, shapeDims: [], stringVal: ['# Run\n*tau* = 0.5'] });
  assert.equal(text?.metadata?.pluginName, 'text');
});

test('10,000 scalars: the buffer stays bounded and every one reads back', () => {
  const maxPendingBytes = 16 * 1024;
  const writer = new SummaryWriter(tmp(), { ...noTimer, maxPendingBytes });
  let maxPending = 0;
  let sizeMidway = 0;
  for (let step = 0; step < 10_000; step++) {
    writer.scalar('loss', step / 10_000, step);
    maxPending = Math.max(maxPending, writer.pendingBytes);
    if (step === 5_000) sizeMidway = fs.statSync(writer.path).size;
  }
  const eventBytes = 64; // one scalar event framed is ~40 bytes
  assert.ok(maxPending < maxPendingBytes + eventBytes, `pending grew to ${maxPending} bytes`);
  assert.ok(sizeMidway > 100_000, 'records reach the disk while writing, not only at close');
  writer.close();
  const scalars = scalarsOf(readEventFile(writer.path));
  assert.equal(scalars.length, 10_000);
  scalars.forEach(([tag, step, value], i) => {
    assert.equal(tag, 'loss');
    assert.equal(step, i);
    assert.equal(value, Math.fround(i / 10_000));
  });
});

test('with default options, 10,000 scalars stay under the default 1 MiB buffer', () => {
  const writer = new SummaryWriter(tmp());
  let maxPending = 0;
  for (let step = 0; step < 10_000; step++) {
    writer.scalar('a/long/tag/name/for/size', step, step);
    maxPending = Math.max(maxPending, writer.pendingBytes);
  }
  assert.ok(maxPending <= 1 << 20, `pending grew to ${maxPending}`);
  writer.close();
  assert.equal(readRecords(new Uint8Array(fs.readFileSync(writer.path))).length, 10_001);
});

test('the interval timer flushes without a call to flush()', async () => {
  const writer = new SummaryWriter(tmp(), { flushIntervalMs: 20 });
  writer.scalar('x', 1, 0);
  assert.equal(readEventFile(writer.path).length, 1, 'only file_version before the timer fires');
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(scalarsOf(readEventFile(writer.path)), [['x', 0, 1]]);
  writer.close();
});

test('each flush appends whole records: the file always parses', () => {
  const writer = new SummaryWriter(tmp(), noTimer);
  for (let i = 0; i < 50; i++) {
    writer.scalar('x', i, i);
    if (i % 7 === 0) writer.flush();
    assert.doesNotThrow(() => readEventFile(writer.path));
  }
  writer.close();
  const size = fs.statSync(writer.path).size;
  const records = readRecords(new Uint8Array(fs.readFileSync(writer.path)));
  assert.equal(
    size,
    records.reduce((a, r) => a + r.length + RECORD_OVERHEAD, 0),
    'no stray bytes',
  );
});

test('two writers in the same logdir and second get separate files', () => {
  const logdir = tmp();
  const a = new SummaryWriter(logdir, { ...noTimer, clock: () => 1e9 });
  const b = new SummaryWriter(logdir, { ...noTimer, clock: () => 1e9 });
  a.scalar('x', 1, 0);
  b.scalar('x', 2, 0);
  a.close();
  b.close();
  assert.notEqual(a.path, b.path);
  assert.match(path.basename(b.path), /tfevents/);
  assert.deepEqual(scalarsOf(readEventFile(a.path)), [['x', 0, 1]]);
  assert.deepEqual(scalarsOf(readEventFile(b.path)), [['x', 0, 2]]);
});

test('errors are one line: bad logdir names the path; bad tag, step, value; closed writer', () => {
  const file = path.join(tmp(), 'a-file');
  fs.writeFileSync(file, '');
  const bad = path.join(file, 'logs');
  assert.throws(
    () => new SummaryWriter(bad, noTimer),
    (error: Error) => error.message.startsWith(`SummaryWriter: cannot create logdir '${bad}'`) && !error.message.includes('\n'),
  );
  const writer = new SummaryWriter(tmp(), noTimer);
  assert.throws(() => writer.scalar('', 1, 0), /tag must be a non-empty string/);
  assert.throws(() => writer.scalar('x', 1, 0.5), /SummaryWriter.scalar\('x'\): step must be an integer, got 0.5/);
  assert.throws(() => writer.scalar('x', '1' as unknown as number, 0), /value must be a number/);
  const twoChannels = tf.zeros([2, 2, 2]);
  assert.throws(() => writer.image('img', twoChannels, 0), /SummaryWriter.image\('img'\): last dimension must be 1 or 3/);
  twoChannels.dispose();
  assert.throws(() => writer.histogram('h', [1], 0, 0), /bins must be an integer >= 1/);
  writer.close();
  writer.close();
  assert.throws(() => writer.scalar('x', 1, 1), /is closed/);
  assert.equal(writer.closed, true);
});

test('one SIGINT listener while writers are open, none after; closeAllWriters flushes and closes open writers', () => {
  closeAllWriters();
  const before = process.listenerCount('SIGINT');
  const a = new SummaryWriter(tmp(), noTimer);
  const b = new SummaryWriter(tmp(), noTimer);
  assert.equal(process.listenerCount('SIGINT'), before + 1);
  a.scalar('x', 1, 0);
  b.scalar('y', 2, 0);
  closeAllWriters();
  assert.equal(process.listenerCount('SIGINT'), before);
  assert.equal(a.closed && b.closed, true);
  assert.deepEqual(scalarsOf(readEventFile(a.path)), [['x', 0, 1]]);
  assert.deepEqual(scalarsOf(readEventFile(b.path)), [['y', 0, 2]]);
});

/** Runs `body` in a child process with a SummaryWriter `w` on `<logdir>/run`; returns the child and the scalars on disk. */
function runWriterChild(body: string): { child: ReturnType<typeof spawnSync>; scalars: Array<[string, number, number]> } {
  const logdir = tmp();
  const src = new URL('../src/tensorboard/summary_writer.ts', import.meta.url).href;
  const script = path.join(logdir, 'child.ts');
  fs.writeFileSync(script, `import { SummaryWriter } from '${src}';\nconst w = new SummaryWriter(process.argv[2]);\n${body}\n`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, path.join(logdir, 'run')], {
    cwd: fileURLToPath(new URL('..', import.meta.url)), // where --import tsx resolves
    encoding: 'utf8',
    timeout: 20_000,
  });
  const [file] = fs.readdirSync(path.join(logdir, 'run'));
  return { child, scalars: scalarsOf(readEventFile(path.join(logdir, 'run', file))) };
}

test('Ctrl-C with no handler of the application: events are flushed, then the process dies of SIGINT as it would anyway', () => {
  // The 2 s flush timer has not fired, and the pending timeout would keep the process alive: only the signal ends it.
  const { child, scalars } = runWriterChild(
    `for (let i = 0; i < 100; i++) w.scalar('x', i, i);\nsetTimeout(() => {}, 10_000);\nprocess.kill(process.pid, 'SIGINT');`,
  );
  assert.equal(child.signal, 'SIGINT', String(child.stderr));
  assert.equal(scalars.length, 100);
});

test("Ctrl-C with the application's own handler: the writer only flushes, and the application's handler decides", () => {
  // SIGKILL runs no hook at all, so the events on disk were flushed by the writer's SIGINT listener (registered first).
  const { child, scalars } = runWriterChild(
    `process.on('SIGINT', () => process.kill(process.pid, 'SIGKILL'));\nfor (let i = 0; i < 50; i++) w.scalar('x', i, i);\nsetTimeout(() => {}, 10_000);\nprocess.kill(process.pid, 'SIGINT');`,
  );
  assert.equal(child.signal, 'SIGKILL', String(child.stderr));
  assert.equal(scalars.length, 50);
});

test('a process that exits without close() still flushes, and the timer does not keep it alive', () => {
  const { child, scalars } = runWriterChild(`for (let i = 0; i < 100; i++) w.scalar('x', i, i);`);
  assert.equal(child.status, 0, String(child.stderr));
  assert.equal(scalars.length, 100);
  assert.deepEqual(scalars[99], ['x', 99, 99]);
});

test('process.exit() without close() flushes too (the exit hook, not beforeExit)', () => {
  const { child, scalars } = runWriterChild(`for (let i = 0; i < 100; i++) w.scalar('x', i, i);\nprocess.exit(3);`);
  assert.equal(child.status, 3, String(child.stderr));
  assert.equal(scalars.length, 100);
});
