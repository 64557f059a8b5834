import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ProtoWriter } from '../src/tensorboard/proto.js';
import {
  encodeFileVersionEvent,
  encodeHistogramValue,
  encodeImageValue,
  encodeScalarValue,
  encodeSummaryEvent,
  encodeTextValue,
} from '../src/tensorboard/event.js';
import { decodeEvent } from './helpers/tfevents_reader.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const ascii = (s: string) => Buffer.from(s, 'utf8').toString('hex');

test('varint: protobuf encoding of small, multi-byte, >32-bit and negative values', () => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [2 ** 32, '8080808010'],
    [2 ** 53 - 1, 'ffffffffffffff0f'],
    [-1, 'ffffffffffffffffff01'], // int64 two's complement: always 10 bytes
    [-2, 'feffffffffffffffff01'],
  ];
  for (const [n, expected] of cases) assert.equal(hex(new ProtoWriter().varint(n).finish()), expected, `varint(${n})`);
  assert.throws(() => new ProtoWriter().varint(1.5), /not a safe integer/);
  assert.throws(() => new ProtoWriter().varint(2 ** 53), /not a safe integer/);
});

test('field keys: (field << 3) | wire type, field numbers checked', () => {
  assert.equal(hex(new ProtoWriter().int(2, 5).finish()), '1005');
  assert.equal(hex(new ProtoWriter().int(16, 1).finish()), '800101'); // key 128 needs two bytes
  assert.equal(hex(new ProtoWriter().bool(1, true).bool(2, false).finish()), '08011000');
  assert.throws(() => new ProtoWriter().int(0, 1), /field number/);
  assert.throws(() => new ProtoWriter().int(2 ** 29, 1), /field number/);
});

test('double is wire type 1 (8 bytes LE), float is wire type 5 (4 bytes LE)', () => {
  assert.equal(hex(new ProtoWriter().double(1, 1.5).finish()), '09' + '000000000000f83f');
  assert.equal(hex(new ProtoWriter().double(4, -2).finish()), '21' + '00000000000000c0');
  assert.equal(hex(new ProtoWriter().float(2, 0.5).finish()), '15' + '0000003f');
  // float rounds to float32, as simple_value holds it.
  const f = new ProtoWriter().float(2, 0.1).finish();
  assert.equal(new DataView(f.buffer).getFloat32(1, true), Math.fround(0.1));
});

test('length-delimited: strings (UTF-8), bytes, packed doubles', () => {
  assert.equal(hex(new ProtoWriter().string(1, 'hi').finish()), '0a026869');
  assert.equal(hex(new ProtoWriter().string(1, 'é').finish()), '0a02c3a9');
  assert.equal(hex(new ProtoWriter().bytes(4, new Uint8Array([1, 2, 3])).finish()), '2203010203');
  assert.equal(hex(new ProtoWriter().bytes(2, new Uint8Array(0)).finish()), '1200');
  assert.equal(hex(new ProtoWriter().packedDoubles(6, [1, 2]).finish()), '3210' + '000000000000f03f' + '0000000000000040');
  // Lengths past 127 take a two-byte varint.
  const long = new ProtoWriter().bytes(1, new Uint8Array(200)).finish();
  assert.equal(hex(long.subarray(0, 3)), '0ac801');
  assert.equal(long.length, 203);
});

test('the writer grows past its initial buffer without losing bytes', () => {
  const w = new ProtoWriter();
  for (let i = 0; i < 1000; i++) w.int(1, i);
  const out = w.finish();
  // 128 one-byte values (2 bytes each with key) + 872 two-byte values (3 bytes each).
  assert.equal(out.length, 128 * 2 + 872 * 3);
  assert.equal(hex(out.subarray(out.length - 3)), '08e707'); // 999
});

test('Event{file_version}: exact bytes', () => {
  const bytes = encodeFileVersionEvent(1.5);
  assert.equal(hex(bytes), '09' + '000000000000f83f' + '1a0d' + ascii('brain.Event:2'));
});

test('Event{wall_time, step, summary{value{tag, simple_value}}}: exact bytes', () => {
  const value = encodeScalarValue('a', 1);
  assert.equal(hex(value), '0a0161' + '15' + '0000803f');
  const event = encodeSummaryEvent(1.5, 300, [value]);
  const summary = '0a08' + hex(value); // Summary.value = 1, 8 bytes
  assert.equal(hex(event), '09' + '000000000000f83f' + '10ac02' + '2a0a' + summary);
});

test('image, histogram and text values decode field by field with the strict reader', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
  const histo = { min: -1, max: 2, num: 3, sum: 1.5, sumSquares: 5.25, bucketLimit: [0, 2], bucket: [1, 2] };
  const event = decodeEvent(
    encodeSummaryEvent(10, 7, [
      encodeImageValue('img', { height: 28, width: 30, colorspace: 1, png }),
      encodeHistogramValue('h', histo),
      encodeTextValue('t', '**bold** é'),
    ]),
  );
  assert.equal(event.step, 7);
  assert.equal(event.wallTime, 10);
  const [img, h, t] = event.summary ?? [];
  assert.equal(img.tag, 'img');
  assert.deepEqual({ ...img.image, encoded: [...(img.image?.encoded ?? [])] }, { height: 28, width: 30, colorspace: 1, encoded: [...png] });
  assert.equal(h.tag, 'h');
  assert.deepEqual(h.histo, histo);
  assert.equal(t.tag, 't');
  assert.deepEqual(t.tensor, { dtype: 7, shapeDims: [], stringVal: ['**bold** é'] });
  assert.equal(t.metadata?.pluginName, 'text');
  assert.equal(t.metadata?.dataClass, 2);
  assert.throws(() => encodeHistogramValue('bad', { ...histo, bucket: [1] }), /2 bucket limits for 1 buckets/);
});

test('negative and large steps survive the int64 varint', () => {
  for (const step of [0, -1, 2 ** 40 + 3]) assert.equal(decodeEvent(encodeSummaryEvent(0, step, [])).step, step);
});
