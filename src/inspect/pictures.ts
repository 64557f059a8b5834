/**
 * Picture layouts of the inspection commands, pure functions of pixel data:
 * the model's Bernoulli means (or test digits) in [0, 1] go in, one 8-bit
 * image comes out. Gray (128) separates cells, as in the training pictures.
 */
import { tileImages, unitToUint8, upscale, type ImageBatch, type PixelImage } from '../image/index.js';
import { Canvas, type Colour } from './canvas.js';
import { drawCentred, drawText, GLYPH_HEIGHT, labelStride, textWidth } from './labels.js';

const GRAY: Colour = [128];
/** Frames the code the encoder chose in a traversal: orange stands out from gray and white. */
const HIGHLIGHT: Colour = [255, 150, 0];
/** Labels: black on the gray background. */
const INK: Colour = [0, 0, 0];

/** Pixel probabilities [count * rows * cols] as a gray image batch. */
export function toBatch(values: ArrayLike<number>, count: number, rows: number, cols: number): ImageBatch {
  if (values.length !== count * rows * cols)
    throw new Error(`pictures: ${values.length} values are not ${count} images of ${rows}x${cols}`);
  return { pixels: unitToUint8(values), count, height: rows, width: cols, channels: 1 };
}

/**
 * The default enlargement: the largest integer (1 to `max`) that keeps the
 * longer side within `target` pixels, so small grids are not tiny and big
 * ones are not huge.
 */
export function autoScale(width: number, height: number, target = 800, max = 4): number {
  return Math.max(1, Math.min(max, Math.floor(target / Math.max(width, height))));
}

const finish = (image: PixelImage, scale: number | undefined) => upscale(image, scale ?? autoScale(image.width, image.height));

/** Samples: a plain grid, about square (ceil(sqrt(count)) columns unless given). */
export function sampleGrid(batch: ImageBatch, options: { columns?: number; scale?: number } = {}): PixelImage {
  return finish(tileImages(batch, { columns: options.columns ?? Math.ceil(Math.sqrt(batch.count)), padding: 2 }), options.scale);
}

/** Cells of a group of images shown side by side are 1 px apart; groups are GROUP_GAP apart. */
const INNER_GAP = 1;
const GROUP_GAP = 4;

/**
 * Groups of images side by side (an original and its reconstructions):
 * group i is image i of each batch, left to right. Groups fill rows of
 * `groupsPerRow` (default: about a square picture).
 */
export function groupGrid(batches: readonly ImageBatch[], options: { groupsPerRow?: number; scale?: number } = {}): PixelImage {
  const first = batches[0];
  if (!first || batches.some((b) => b.count !== first.count || b.width !== first.width || b.height !== first.height)) {
    throw new Error('pictures: every batch of a group grid must hold the same number of images of the same size');
  }
  const { count, width: w, height: h } = first;
  const size = batches.length;
  const perRow = Math.min(count, options.groupsPerRow ?? Math.ceil(Math.sqrt(count / size)));
  const rows = Math.ceil(count / perRow);
  const groupWidth = size * w + (size - 1) * INNER_GAP;
  const canvas = new Canvas(perRow * groupWidth + (perRow + 1) * GROUP_GAP, rows * h + (rows + 1) * GROUP_GAP, 1, GRAY);
  for (let i = 0; i < count; i++) {
    const x = GROUP_GAP + (i % perRow) * (groupWidth + GROUP_GAP);
    const y = GROUP_GAP + Math.floor(i / perRow) * (h + GROUP_GAP);
    batches.forEach((batch, j) => canvas.paste(batch, i, x + j * (w + INNER_GAP), y));
  }
  return finish(canvas.toImage(), options.scale);
}

/** One digit's traversal: the digit, its argmax reconstruction, and its N x K decoded variations. */
export interface TraversalPanel {
  /** The input digit and its reconstruction from the argmax code (2 images). */
  digit: ImageBatch;
  /** N * K images, variable by variable: image v*K + c has variable v set to class c. */
  grid: ImageBatch;
  /** The argmax class of each variable: the cell that equals the reconstruction. */
  argmax: ArrayLike<number>;
}

const CELL_GAP = 2;
const PANEL_GAP = 6;
const BETWEEN_PANELS = 16;
/** Traversal labels are drawn at twice the font's size: they sit beside 28-pixel digits. */
const TRAVERSE_TEXT = 2;

/** Where a traversal's parts go (before --scale): the labels take a strip on top and a gutter before each grid. */
export function traversalLayout(n: number, k: number, cell: { width: number; height: number }, panels: number) {
  const cellW = cell.width + CELL_GAP;
  const cellH = cell.height + CELL_GAP;
  const top = CELL_GAP + GLYPH_HEIGHT * TRAVERSE_TEXT + 4;
  const gutter = Math.max(PANEL_GAP, textWidth(String(n - 1), TRAVERSE_TEXT) + 6);
  const panelWidth = cellW + gutter + k * cellW + CELL_GAP;
  return {
    cellW,
    cellH,
    top,
    gutter,
    panelWidth,
    width: panels * panelWidth + (panels - 1) * BETWEEN_PANELS + 2 * CELL_GAP,
    height: top + Math.max(n, 2) * cellH + 3 * CELL_GAP,
    /** Top-left corner of grid cell (v, c) of panel p. */
    cellAt: (p: number, v: number, c: number) => ({
      x: CELL_GAP + p * (panelWidth + BETWEEN_PANELS) + cellW + gutter + CELL_GAP + c * cellW,
      y: top + CELL_GAP + v * cellH,
    }),
  };
}

/**
 * Traversal panels side by side. Each panel: a first column with the digit
 * over its reconstruction, then a wider gap, then N rows (variables) of K
 * columns (classes); the encoder's own class in each row has an orange frame.
 */
export function traversalPicture(panels: readonly TraversalPanel[], n: number, k: number, options: { scale?: number } = {}): PixelImage {
  if (panels.length === 0) throw new Error('pictures: no traversal to draw');
  const { width: w, height: h } = panels[0].grid;
  const layout = traversalLayout(n, k, { width: w, height: h }, panels.length);
  const { cellW, cellH, top, panelWidth } = layout;
  const canvas = new Canvas(layout.width, layout.height, 3, GRAY);
  const columnStride = labelStride(k, cellW, TRAVERSE_TEXT);
  // Tall labels on small cells (tests, tiny images) go on every few rows so they never overlap.
  const rowStride = Math.ceil((GLYPH_HEIGHT * TRAVERSE_TEXT + 2) / cellH);
  panels.forEach((panel, p) => {
    if (panel.grid.count !== n * k) throw new Error(`pictures: a traversal needs ${n * k} images, got ${panel.grid.count}`);
    const left = CELL_GAP + p * (panelWidth + BETWEEN_PANELS);
    canvas.paste(panel.digit, 0, left + CELL_GAP, top + CELL_GAP);
    canvas.paste(panel.digit, 1, left + CELL_GAP, top + CELL_GAP + cellH);
    for (let v = 0; v < n; v++) {
      for (let c = 0; c < k; c++) {
        const { x, y } = layout.cellAt(p, v, c);
        // The frame is drawn first and the digit over it, so it shows in the gap around the cell.
        if (panel.argmax[v] === c) canvas.fill(x - CELL_GAP, y - CELL_GAP, w + 2 * CELL_GAP, h + 2 * CELL_GAP, HIGHLIGHT);
        canvas.paste(panel.grid, v * k + c, x, y);
      }
      // Variable index, right-aligned in the gutter before the row.
      if (v % rowStride === 0) {
        const label = String(v);
        const { x, y } = layout.cellAt(p, v, 0);
        drawText(
          canvas,
          label,
          x - CELL_GAP - 3 - textWidth(label, TRAVERSE_TEXT),
          y + Math.floor((h - GLYPH_HEIGHT * TRAVERSE_TEXT) / 2),
          INK,
          TRAVERSE_TEXT,
        );
      }
    }
    // Class index above each column.
    for (let c = 0; c < k; c += columnStride) {
      const { x } = layout.cellAt(p, 0, c);
      drawCentred(canvas, String(c), x + w / 2, CELL_GAP, INK, TRAVERSE_TEXT);
    }
  });
  return finish(canvas.toImage(), options.scale);
}

/** Colours of a perceptual dark-to-light ramp (close to matplotlib's 'inferno'). */
const RAMP: readonly Colour[] = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

/** t in [0, 1] to an RGB colour of the ramp (linear between its anchors). */
export function rampColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [RAMP[i], RAMP[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c]))) as [number, number, number];
}

/** Pixels per heat-map cell before --scale. */
export const HEATMAP_CELL = 10;
/** The colour scale under a heat map is at least this wide, so its three labels fit. */
const SCALE_MIN_WIDTH = 60;
const SCALE_HEIGHT = 5;

/** Where a heat map's parts go (before --scale): row labels on the left, column labels on top, the colour scale below. */
export function heatmapLayout(n: number, k: number) {
  const left = textWidth(String(n - 1)) + 3;
  const top = GLYPH_HEIGHT + 3;
  const mapWidth = k * HEATMAP_CELL;
  const barWidth = Math.max(mapWidth, SCALE_MIN_WIDTH);
  const bar = { x: left, y: top + n * HEATMAP_CELL + 4, width: barWidth, height: SCALE_HEIGHT };
  return {
    left,
    top,
    bar,
    width: left + barWidth + 2,
    height: bar.y + SCALE_HEIGHT + 2 + GLYPH_HEIGHT + 2,
    /** Top-left corner of cell (v, c). */
    cellAt: (v: number, c: number) => ({ x: left + c * HEATMAP_CELL, y: top + v * HEATMAP_CELL }),
  };
}

/**
 * Code usage as a heat map: row v, column c is how often class c is variable
 * v's argmax. The colour is the usage relative to uniform, usage * K / 2:
 * black for never, the middle of the ramp for 1/K (a uniformly used class),
 * the lightest for 2/K or more. So a collapsed variable is one bright cell in
 * a dark row and a well-used one an even mid-tone row. Rows are labelled with
 * the variable index, columns with the class index, and a colour scale under
 * the map reads 0, 1/K and 2/K+.
 */
export function usageHeatmap(usage: readonly (readonly number[])[], options: { scale?: number } = {}): PixelImage {
  const n = usage.length;
  const k = usage[0]?.length ?? 0;
  if (n === 0 || k === 0) throw new Error('pictures: no code usage to draw');
  const layout = heatmapLayout(n, k);
  const canvas = new Canvas(layout.width, layout.height, 3, GRAY);
  usage.forEach((row, v) =>
    row.forEach((p, c) => {
      const { x, y } = layout.cellAt(v, c);
      canvas.fill(x, y, HEATMAP_CELL, HEATMAP_CELL, rampColour((p * k) / 2));
    }),
  );
  const rowStride = Math.ceil((GLYPH_HEIGHT + 1) / HEATMAP_CELL);
  for (let v = 0; v < n; v += rowStride) {
    const label = String(v);
    const { y } = layout.cellAt(v, 0);
    drawText(canvas, label, layout.left - 2 - textWidth(label), y + Math.floor((HEATMAP_CELL - GLYPH_HEIGHT) / 2), INK);
  }
  for (let c = 0; c < k; c += labelStride(k, HEATMAP_CELL)) {
    const { x } = layout.cellAt(0, c);
    drawCentred(canvas, String(c), x + HEATMAP_CELL / 2, 1, INK);
  }
  const { bar } = layout;
  for (let i = 0; i < bar.width; i++) canvas.fill(bar.x + i, bar.y, 1, bar.height, rampColour(i / (bar.width - 1)));
  const labelY = bar.y + bar.height + 2;
  drawText(canvas, '0', bar.x, labelY, INK);
  drawCentred(canvas, '1/K', bar.x + bar.width / 2, labelY, INK);
  drawText(canvas, '2/K+', bar.x + bar.width - textWidth('2/K+'), labelY, INK);
  // Cells are coarse, so a small map may grow further than a grid of digits.
  return upscale(canvas.toImage(), options.scale ?? autoScale(canvas.width, canvas.height, 800, 8));
}
