import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './helpers/backend.js';
import { decode } from 'fast-png';
import { decodePng, encodePng } from '../src/image/png.js';
import { tensorToImageBatch, tensorToPixelImage, unitToUint8 } from '../src/image/pixels.js';

await useTestBackend();

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

test('grayscale pixels: PNG round trip is exact', () => {
  const pixels = Uint8Array.from({ length: 5 * 7 }, (_, i) => (i * 37) & 255);
  const png = encodePng({ pixels, height: 5, width: 7, channels: 1 });
  assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  const back = decode(png); // fast-png directly, not our wrapper
  assert.deepEqual([back.width, back.height, back.channels, back.depth], [7, 5, 1, 8]);
  assert.deepEqual([...back.data], [...pixels]);
});

test('RGB pixels: PNG round trip is exact, channels interleaved', () => {
  const pixels = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => 255 - i * 10);
  const back = decodePng(encodePng({ pixels, height: 3, width: 2, channels: 3 }));
  assert.deepEqual(back, { pixels, height: 3, width: 2, channels: 3 });
});

test('unitToUint8: [0,1] to 0..255, rounded, clamped, NaN to 0', () => {
  assert.deepEqual(
    [...unitToUint8([0, 1, 0.5, 1 / 255, 0.499 / 255, -0.5, 1.5, NaN, Infinity, -Infinity])],
    [0, 255, 128, 1, 0, 0, 255, 0, 255, 0],
  );
});

test('tensors [h,w], [h,w,1], [h,w,3] in [0,1] encode to the expected pixels', async () => {
  const values = [0, 0.25, 0.5, 1, 1.2, -0.1];
  const expected = [0, 64, 128, 255, 255, 0];
  for (const shape of [
    [2, 3],
    [2, 3, 1],
  ]) {
    const t = tf.tensor(values, shape);
    const back = decodePng(await encodePng(t));
    assert.deepEqual(back, { pixels: Uint8Array.from(expected), height: 2, width: 3, channels: 1 }, `shape [${shape}]`);
    assert.equal(t.isDisposed, false, 'the caller keeps its tensor');
    t.dispose();
  }
  const rgb = tf.tensor3d([
    [
      [1, 0, 0],
      [0, 1, 0],
    ],
  ]);
  assert.deepEqual(decodePng(await encodePng(rgb)), { pixels: Uint8Array.from([255, 0, 0, 0, 255, 0]), height: 1, width: 2, channels: 3 });
  rgb.dispose();
});

test('bad shapes and buffers are refused with one line', () => {
  const t4 = tf.zeros([1, 2, 2, 1]);
  const rgba = tf.zeros([2, 2, 4]);
  assert.throws(() => encodePng(t4), /^Error: image: expected a tensor \[h, w\] or \[h, w, c\], got shape \[1,2,2,1\]$/);
  assert.throws(() => encodePng(rgba), /last dimension must be 1 or 3 channels/);
  assert.throws(() => encodePng({ pixels: new Uint8Array(5), height: 2, width: 3, channels: 1 }), /2x3x1 needs 6 pixels, got 5/);
  assert.throws(() => encodePng({ pixels: new Uint8Array(0), height: 0, width: 3, channels: 1 }), /height must be an integer >= 1/);
  tf.dispose([t4, rgba]);
});

test('batches: [n,h,w] and [n,h,w,3] tensors', async () => {
  const t = tf.ones([4, 2, 3]);
  const batch = await tensorToImageBatch(t);
  assert.deepEqual([batch.count, batch.height, batch.width, batch.channels, batch.pixels.length], [4, 2, 3, 1, 24]);
  assert.ok(batch.pixels.every((p) => p === 255));
  const rgb = tf.zeros([2, 2, 2, 3]);
  assert.equal((await tensorToImageBatch(rgb)).channels, 3);
  assert.throws(() => tensorToImageBatch(tf.zeros([2, 2])), /expected a tensor \[n, h, w\]/);
  assert.throws(() => tensorToPixelImage(tf.zeros([2])), /expected a tensor \[h, w\]/);
  tf.dispose([t, rgb]);
});
