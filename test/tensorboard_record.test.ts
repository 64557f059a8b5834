import { test, mock } from 'node:test';
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from '../src/tensorboard/crc32c.js';
import { frameRecord, RecordWriter, RECORD_OVERHEAD } from '../src/tensorboard/record_writer.js';
import { encodeFileVersionEvent } from '../src/tensorboard/event.js';
import { crc32cBitwise, readRecords } from './helpers/tfevents_reader.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-record-'));

test('CRC32C is Castagnoli: check value and agreement with a bitwise implementation', () => {
  const check = new TextEncoder().encode('123456789');
  assert.equal(crc32c(check), 0xe3069283);
  assert.equal(crc32cBitwise(check), 0xe3069283);
  // zlib's CRC32 of the same string is 0xcbf43926: make sure that is not what we compute.
  assert.notEqual(crc32c(check), 0xcbf43926);
  // RFC 3720 (iSCSI) test vectors.
  const vectors: Array<[Uint8Array, number]> = [
    [new Uint8Array(32), 0x8a9136aa],
    [new Uint8Array(32).fill(0xff), 0x62a8ab43],
    [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    [Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ];
  for (const [bytes, crc] of vectors) {
    assert.equal(crc32c(bytes), crc);
    assert.equal(crc32cBitwise(bytes), crc);
  }
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 255);
  assert.equal(crc32c(data), crc32cBitwise(data));
});

test('mask: ((crc >>> 15) | (crc << 17)) + 0xa282ead8 mod 2^32, and unmask inverts it', () => {
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.equal(maskCrc(0x8000), 0xa282ead9); // rotates right by 15
  assert.equal(maskCrc(1), 0xa284ead8); // bit 0 goes to bit 17
  assert.equal(maskCrc(0xffffffff), (0xffffffff + 0xa282ead8) % 2 ** 32); // wraps mod 2^32
  for (const crc of [0, 1, 0xe3069283, 0xffffffff, 0x80000000]) assert.equal(unmaskCrc(maskCrc(crc)), crc);
  assert.equal(maskedCrc32c(new Uint8Array(0)), maskCrc(0));
});

test('frameRecord: uint64 LE length, masked CRC of the length, data, masked CRC of the data', () => {
  const data = new Uint8Array([1, 2, 3, 4, 5]);
  const framed = frameRecord(data);
  assert.equal(framed.length, data.length + RECORD_OVERHEAD);
  const view = new DataView(framed.buffer);
  assert.deepEqual([...framed.subarray(0, 8)], [5, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(view.getUint32(8, true), maskCrc(crc32cBitwise(framed.subarray(0, 8))));
  assert.deepEqual([...framed.subarray(12, 17)], [...data]);
  assert.equal(view.getUint32(17, true), maskCrc(crc32cBitwise(data)));
  assert.deepEqual(
    readRecords(framed).map((r) => [...r]),
    [[...data]],
  );
});

test('the file_version record starts like every TensorFlow event file: 18 00.. a3 7f 4b 22 09', () => {
  // Real tfevents files begin with a 24-byte first record whose header is these 12 bytes.
  const framed = frameRecord(encodeFileVersionEvent(1.5));
  assert.equal(Buffer.from(framed.subarray(0, 13)).toString('hex'), '1800000000000000' + 'a37f4b22' + '09');
});

test('the reader detects a corrupted byte anywhere in a record', () => {
  const records = [new Uint8Array([9, 8, 7]), new Uint8Array(300).fill(42)];
  const file = Buffer.concat(records.map(frameRecord));
  assert.equal(readRecords(file).length, 2);
  // A byte of the length, of each CRC, of the data; in the first and the second record.
  const second = records[0].length + RECORD_OVERHEAD;
  const positions = [0, 9, 13, 3 + 12 + 1, second + 12 + 150, second + 12 + 300 + 2];
  for (const pos of positions) {
    const bad = Uint8Array.from(file);
    bad[pos] ^= 0x01;
    assert.throws(() => readRecords(bad), /CRC mismatch|truncated/, `flipped byte ${pos}`);
  }
  assert.throws(() => readRecords(file.subarray(0, file.length - 1)), /truncated/);
});

test('RecordWriter buffers, appends all pending records with one write, and refuses an existing file', (t) => {
  const file = path.join(tmp(), 'records');
  const writer = new RecordWriter(file, { maxPendingBytes: 1 << 20 });
  for (let i = 0; i < 100; i++) writer.write(new Uint8Array([i]));
  assert.equal(fs.statSync(file).size, 0, 'nothing on disk before a flush');
  assert.equal(writer.pendingBytes, 100 * (1 + RECORD_OVERHEAD));

  const spy = mock.method(fs, 'writeSync');
  syncBuiltinESMExports(); // the module's `import * as fs` sees the spy
  t.after(() => {
    spy.mock.restore();
    syncBuiltinESMExports();
  });
  writer.flush();
  assert.equal(spy.mock.callCount(), 1, 'one write per flush');
  assert.equal(writer.pendingBytes, 0);
  writer.close();
  writer.close(); // idempotent
  assert.deepEqual(
    readRecords(new Uint8Array(fs.readFileSync(file))).map((r) => r[0]),
    [...Array(100).keys()],
  );
  assert.throws(() => writer.write(new Uint8Array(1)), /closed/);
  assert.throws(() => new RecordWriter(file), /EEXIST/);
});

test('RecordWriter flushes by itself once maxPendingBytes is passed', () => {
  const file = path.join(tmp(), 'records');
  const writer = new RecordWriter(file, { maxPendingBytes: 100 });
  writer.write(new Uint8Array(50));
  assert.equal(fs.statSync(file).size, 0);
  writer.write(new Uint8Array(50)); // 132 bytes pending >= 100
  assert.equal(fs.statSync(file).size, 2 * (50 + RECORD_OVERHEAD));
  assert.equal(writer.pendingBytes, 0);
  writer.close();
});
