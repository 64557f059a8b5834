import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ImageBatch } from '../src/image/index.js';
import { checkOutputPath, OutputError, writeFileAtomic } from '../src/inspect/output.js';
import {
  autoScale,
  groupGrid,
  heatmapLayout,
  rampColour,
  sampleGrid,
  toBatch,
  traversalLayout,
  traversalPicture,
  usageHeatmap,
} from '../src/inspect/pictures.js';
import { Canvas } from '../src/inspect/canvas.js';
import { drawText, labelStride, textWidth } from '../src/inspect/labels.js';

/** `count` images of h x w, image i filled with value 10 * (i + 1). */
function batch(count: number, h: number, w: number): ImageBatch {
  const pixels = new Uint8Array(count * h * w);
  for (let i = 0; i < count; i++) pixels.fill(10 * (i + 1), i * h * w, (i + 1) * h * w);
  return { pixels, count, height: h, width: w, channels: 1 };
}

const rgbAt = (img: { pixels: Uint8Array; width: number }, x: number, y: number) => [
  ...img.pixels.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
];

test('probabilities become gray bytes; the default scale aims at ~800 px, 1 to 4', () => {
  assert.deepEqual([...toBatch([0, 0.5, 1, 2], 1, 2, 2).pixels], [0, 128, 255, 255]);
  assert.throws(() => toBatch([0, 1, 0], 1, 2, 2), /3 values are not 1 images of 2x2/);
  assert.equal(autoScale(302, 302), 2);
  assert.equal(autoScale(100, 50), 4);
  assert.equal(autoScale(1200, 300), 1);
});

test('sample grid: about square, 2 px padding, scaled', () => {
  const grid = sampleGrid(batch(10, 28, 28), { scale: 1 });
  // ceil(sqrt(10)) = 4 columns, 3 rows.
  assert.deepEqual([grid.width, grid.height], [4 * 28 + 5 * 2, 3 * 28 + 4 * 2]);
  const big = sampleGrid(batch(10, 28, 28), { columns: 5, scale: 3 });
  assert.deepEqual([big.width, big.height], [3 * (5 * 28 + 6 * 2), 3 * (2 * 28 + 3 * 2)]);
});

test('group grid: images of a group side by side 1 px apart, groups 4 px apart, in rows', () => {
  const a = batch(3, 2, 2);
  const b = batch(3, 2, 2);
  b.pixels.fill(200);
  const img = groupGrid([a, b], { groupsPerRow: 2, scale: 1 });
  // 2 groups of (2 + 1 + 2) px per row, 2 rows.
  assert.deepEqual([img.width, img.height], [2 * 5 + 3 * 4, 2 * 2 + 3 * 4]);
  const row = (y: number) => [...img.pixels.subarray(y * img.width, (y + 1) * img.width)];
  assert.deepEqual(row(4), [128, 128, 128, 128, 10, 10, 128, 200, 200, 128, 128, 128, 128, 20, 20, 128, 200, 200, 128, 128, 128, 128]);
  assert.throws(() => groupGrid([a, batch(2, 2, 2)]), /same number of images/);
  // Default: about square, 50 pairs -> 5 per row.
  const pairs = groupGrid([batch(50, 28, 28), batch(50, 28, 28)], { scale: 1 });
  assert.deepEqual([pairs.width, pairs.height], [5 * 57 + 6 * 4, 10 * 28 + 11 * 4]);
});

test('traversal: digit column, N x K grid, the chosen class framed in orange', () => {
  const n = 2;
  const k = 3;
  const panel = { digit: batch(2, 4, 4), grid: batch(n * k, 4, 4), argmax: [1, 2] };
  const img = traversalPicture([panel, panel], n, k, { scale: 1 });
  assert.equal(img.channels, 3);
  // Per panel: (4 + 2) + gutter for the row labels + 3 * (4 + 2) + 2 px; two panels 16 px apart and a 2 px margin each side;
  // a strip of labels on top.
  const layout = traversalLayout(n, k, { width: 4, height: 4 }, 2);
  assert.equal(layout.gutter, 6 + 6);
  assert.deepEqual([img.width, img.height], [2 * (6 + layout.gutter + 3 * 6 + 2) + 16 + 4, layout.top + Math.max(n, 2) * 6 + 6]);
  const cell = (v: number, c: number) => layout.cellAt(0, v, c);
  assert.deepEqual(cell(1, 2), { x: 2 + 6 + layout.gutter + 2 + 12, y: layout.top + 2 + 6 });
  const { x, y } = cell(0, 1);
  assert.deepEqual(rgbAt(img, x - 1, y - 1), [255, 150, 0], 'chosen class framed');
  assert.deepEqual(rgbAt(img, x, y), [20, 20, 20], 'image (v=0, c=1) is the second of the grid');
  const other = cell(0, 0);
  assert.deepEqual(rgbAt(img, other.x - 1, other.y - 1), [128, 128, 128], 'other classes not framed');
  assert.deepEqual(rgbAt(img, 4, layout.top + 2), [10, 10, 10], 'the digit in the first column');
  assert.deepEqual(rgbAt(img, 4, layout.top + 8), [20, 20, 20], 'its reconstruction under it');
  assert.throws(() => traversalPicture([{ ...panel, grid: batch(5, 4, 4) }], n, k), /needs 6 images/);
});

test('usage heat map: N rows x K columns of 10 px cells; colour by usage relative to uniform', () => {
  const usage = [
    [1, 0, 0, 0],
    [0.25, 0.25, 0.25, 0.25],
  ];
  const img = usageHeatmap(usage, { scale: 1 });
  const layout = heatmapLayout(2, 4);
  assert.deepEqual([img.width, img.height, img.channels], [layout.width, layout.height, 3]);
  const centre = (v: number, c: number) => rgbAt(img, layout.cellAt(v, c).x + 5, layout.cellAt(v, c).y + 5);
  assert.deepEqual(centre(0, 0), rampColour(1), 'a collapsed variable: its one class is lightest');
  assert.deepEqual(centre(0, 1), rampColour(0), 'never used: darkest');
  assert.deepEqual(centre(1, 2), rampColour(0.5), 'uniform use: mid-ramp');
  assert.deepEqual(rampColour(0), [0, 0, 4]);
  assert.deepEqual(rampColour(1), [252, 255, 164]);
  assert.deepEqual(rampColour(NaN), rampColour(0));
  assert.equal(usageHeatmap(usage, { scale: 5 }).width, 5 * layout.width);
});

/** The text drawn alone on a blank canvas, as a string of '#' and '.' rows, to compare with a region of a picture. */
function glyphs(text: string, size = 1): string {
  const canvas = new Canvas(textWidth(text, size), 5 * size, 3, [128]);
  drawText(canvas, text, 0, 0, [0, 0, 0], size);
  return region(canvas.toImage(), 0, 0, canvas.width, canvas.height);
}
function region(img: { pixels: Uint8Array; width: number }, x: number, y: number, w: number, h: number): string {
  const rows: string[] = [];
  for (let r = 0; r < h; r++) {
    let row = '';
    for (let c = 0; c < w; c++) row += rgbAt(img, x + c, y + r).every((v) => v === 0) ? '#' : '.';
    rows.push(row);
  }
  return rows.join('\n');
}

test('item 16: the heat map names its rows (variables), columns (classes) and has a colour scale 0, 1/K, 2/K+', () => {
  const usage = Array.from({ length: 12 }, () => [0.5, 0.5, 0, 0]);
  const img = usageHeatmap(usage, { scale: 1 });
  const layout = heatmapLayout(12, 4);
  // Row 11's label ends 2 px before the map, vertically centred in its row.
  const y11 = layout.cellAt(11, 0).y + 2;
  assert.equal(region(img, layout.left - 2 - textWidth('11'), y11, textWidth('11'), 5), glyphs('11'));
  // Column 3's label is centred over its column, in the top strip.
  const x3 = Math.round(layout.cellAt(0, 3).x + 5 - textWidth('3') / 2);
  assert.equal(region(img, x3, 1, textWidth('3'), 5), glyphs('3'));
  // The scale runs the ramp from dark to light, with its labels under it.
  const { bar } = layout;
  assert.deepEqual(rgbAt(img, bar.x, bar.y + 2), rampColour(0));
  assert.deepEqual(rgbAt(img, bar.x + bar.width - 1, bar.y + 2), rampColour(1));
  const labelY = bar.y + bar.height + 2;
  assert.equal(region(img, bar.x, labelY, 3, 5), glyphs('0'));
  assert.equal(region(img, bar.x + bar.width - textWidth('2/K+'), labelY, textWidth('2/K+'), 5), glyphs('2/K+'));
  assert.equal(labelStride(4, 10), 1);
  assert.equal(labelStride(200, 10), 2, 'three-digit class indices on every other column');
});

test('item 16: the traversal names each row (variable) and column (class) of every panel', () => {
  const n = 12;
  const k = 3;
  const panel = { digit: batch(2, 28, 28), grid: batch(n * k, 28, 28), argmax: new Array(n).fill(0) };
  const img = traversalPicture([panel, panel], n, k, { scale: 1 });
  const layout = traversalLayout(n, k, { width: 28, height: 28 }, 2);
  for (const p of [0, 1]) {
    const row = layout.cellAt(p, 10, 0);
    assert.equal(region(img, row.x - 5 - textWidth('10', 2), row.y + 9, textWidth('10', 2), 10), glyphs('10', 2), `panel ${p} row 10`);
    const column = layout.cellAt(p, 0, 2);
    assert.equal(region(img, column.x + 14 - textWidth('2', 2) / 2, 2, textWidth('2', 2), 10), glyphs('2', 2), `panel ${p} column 2`);
  }
});

test('output paths: a missing folder, a file as folder, a folder as file: one line each; writes leave no temp file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-out-'));
  try {
    const missing = path.join(dir, 'nope', 'x.png');
    assert.throws(
      () => checkOutputPath(missing),
      (e: Error) =>
        e instanceof OutputError && e.message === `folder ${path.join(dir, 'nope')} does not exist; create it or choose another --out`,
    );
    const file = path.join(dir, 'file.txt');
    fs.writeFileSync(file, 'x');
    assert.throws(() => checkOutputPath(path.join(file, 'x.png')), /file\.txt is not a folder; choose another --out/);
    assert.throws(() => checkOutputPath(dir), /is a folder; give a file name in it/);
    const target = checkOutputPath(path.join(dir, 'a.png'));
    writeFileAtomic(target, Uint8Array.from([1, 2, 3]));
    writeFileAtomic(target, Uint8Array.from([4, 5]));
    assert.deepEqual([...fs.readFileSync(target)], [4, 5]);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a.png', 'file.txt']);
    assert.throws(() => writeFileAtomic(path.join(dir, 'gone', 'b.png'), Uint8Array.from([1])), /cannot write .*b\.png: ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
