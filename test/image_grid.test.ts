import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tileImages, upscale } from '../src/image/grid.js';

/** Rows of a grayscale image as arrays, for readable expectations. */
function rows(image: { pixels: Uint8Array; height: number; width: number }): number[][] {
  return Array.from({ length: image.height }, (_, y) => [...image.pixels.subarray(y * image.width, (y + 1) * image.width)]);
}

test('three 2x2 images: 2 columns by default, padding around and between, empty cell padded', () => {
  // Image n has pixels n*10 + (0..3).
  const pixels = Uint8Array.from({ length: 12 }, (_, i) => Math.floor(i / 4) * 10 + (i % 4) + 1);
  const grid = tileImages({ pixels, count: 3, height: 2, width: 2, channels: 1 }, { padding: 1, padValue: 0 });
  assert.deepEqual([grid.height, grid.width, grid.channels], [7, 7, 1]);
  assert.deepEqual(rows(grid), [
    [0, 0, 0, 0, 0, 0, 0],
    [0, 1, 2, 0, 11, 12, 0],
    [0, 3, 4, 0, 13, 14, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 21, 22, 0, 0, 0, 0],
    [0, 23, 24, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
  ]);
});

test('columns, padding 0, default pad value, and more columns than images', () => {
  const pixels = Uint8Array.from([1, 2, 3, 4]);
  const one = { pixels, count: 4, height: 1, width: 1, channels: 1 as const };
  assert.deepEqual(rows(tileImages(one, { columns: 4, padding: 0 })), [[1, 2, 3, 4]]);
  assert.deepEqual(rows(tileImages(one, { columns: 1, padding: 0 })), [[1], [2], [3], [4]]);
  assert.deepEqual(rows(tileImages(one, { columns: 3, padding: 0 })), [
    [1, 2, 3],
    [4, 128, 128],
  ]);
  assert.equal(tileImages(one, { columns: 10, padding: 0 }).width, 4, 'columns capped at the image count');
});

test('RGB: channels stay interleaved, padding fills every channel', () => {
  const pixels = Uint8Array.from([10, 20, 30, 40, 50, 60]);
  const grid = tileImages({ pixels, count: 2, height: 1, width: 1, channels: 3 }, { padding: 1, padValue: 7 });
  assert.deepEqual([grid.height, grid.width], [3, 5]);
  const middleRow = [...grid.pixels.subarray(5 * 3, 10 * 3)];
  assert.deepEqual(middleRow, [7, 7, 7, 10, 20, 30, 7, 7, 7, 40, 50, 60, 7, 7, 7]);
});

test('integer scale: every pixel becomes a scale x scale block', () => {
  const img = { pixels: Uint8Array.from([1, 2, 3, 4]), height: 2, width: 2, channels: 1 as const };
  assert.deepEqual(rows(upscale(img, 2)), [
    [1, 1, 2, 2],
    [1, 1, 2, 2],
    [3, 3, 4, 4],
    [3, 3, 4, 4],
  ]);
  const rgb = upscale({ pixels: Uint8Array.from([1, 2, 3]), height: 1, width: 1, channels: 3 }, 3);
  assert.deepEqual([...rgb.pixels], new Array(9).fill([1, 2, 3]).flat());
  const grid = tileImages({ ...img, count: 1 }, { padding: 1, scale: 3 });
  assert.deepEqual([grid.height, grid.width], [12, 12]);
  assert.equal(upscale(img, 1), img);
});

test('bad options and buffers are refused with one line', () => {
  const batch = { pixels: new Uint8Array(8), count: 2, height: 2, width: 2, channels: 1 as const };
  assert.throws(() => tileImages(batch, { scale: 1.5 }), /grid: scale must be an integer >= 1, got 1.5/);
  assert.throws(() => tileImages(batch, { columns: 0 }), /columns must be an integer >= 1/);
  assert.throws(() => tileImages(batch, { padding: -1 }), /padding must be an integer >= 0/);
  assert.throws(() => tileImages(batch, { padValue: 256 }), /padValue must be an integer in \[0, 255\]/);
  assert.throws(() => tileImages({ ...batch, count: 3 }), /3 images of 2x2x1 need 12 pixels, got 8/);
  assert.throws(() => tileImages({ ...batch, count: 0 }), /count must be an integer >= 1/);
});
