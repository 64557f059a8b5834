/**
 * Picture layouts of the inspection commands, pure functions of pixel data:
 * the model's Bernoulli means (or test digits) in [0, 1] go in, one 8-bit
 * image comes out. Gray (128) separates cells, as in the training pictures.
 */
import { tileImages, unitToUint8, upscale, type ImageBatch, type PixelImage } from '../image/index.js';
import { Canvas, type Colour } from './canvas.js';

const GRAY: Colour = [128];
/** Frames the code the encoder chose in a traversal: orange stands out from gray and white. */
const HIGHLIGHT: Colour = [255, 150, 0];

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

/**
 * Traversal panels side by side. Each panel: a first column with the digit
 * over its reconstruction, then a wider gap, then N rows (variables) of K
 * columns (classes); the encoder's own class in each row has an orange frame.
 */
export function traversalPicture(panels: readonly TraversalPanel[], n: number, k: number, options: { scale?: number } = {}): PixelImage {
  if (panels.length === 0) throw new Error('pictures: no traversal to draw');
  const { width: w, height: h } = panels[0].grid;
  const cellW = w + CELL_GAP;
  const cellH = h + CELL_GAP;
  const panelWidth = cellW + PANEL_GAP + k * cellW + CELL_GAP;
  const height = Math.max(n, 2) * cellH + CELL_GAP;
  const canvas = new Canvas(
    panels.length * panelWidth + (panels.length - 1) * BETWEEN_PANELS + 2 * CELL_GAP,
    height + 2 * CELL_GAP,
    3,
    GRAY,
  );
  panels.forEach((panel, p) => {
    if (panel.grid.count !== n * k) throw new Error(`pictures: a traversal needs ${n * k} images, got ${panel.grid.count}`);
    const left = CELL_GAP + p * (panelWidth + BETWEEN_PANELS);
    const top = CELL_GAP;
    canvas.paste(panel.digit, 0, left + CELL_GAP, top + CELL_GAP);
    canvas.paste(panel.digit, 1, left + CELL_GAP, top + CELL_GAP + cellH);
    const gridLeft = left + cellW + PANEL_GAP;
    for (let v = 0; v < n; v++) {
      for (let c = 0; c < k; c++) {
        const x = gridLeft + CELL_GAP + c * cellW;
        const y = top + CELL_GAP + v * cellH;
        // The frame is drawn first and the digit over it, so it shows in the gap around the cell.
        if (panel.argmax[v] === c) canvas.fill(x - CELL_GAP, y - CELL_GAP, w + 2 * CELL_GAP, h + 2 * CELL_GAP, HIGHLIGHT);
        canvas.paste(panel.grid, v * k + c, x, y);
      }
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

/**
 * Code usage as a heat map: row v, column c is how often class c is variable
 * v's argmax. The colour is the usage relative to uniform, usage * K / 2:
 * black for never, the middle of the ramp for 1/K (a uniformly used class),
 * the lightest for 2/K or more. So a collapsed variable is one bright cell in
 * a dark row and a well-used one an even mid-tone row.
 */
export function usageHeatmap(usage: readonly (readonly number[])[], options: { scale?: number } = {}): PixelImage {
  const n = usage.length;
  const k = usage[0]?.length ?? 0;
  if (n === 0 || k === 0) throw new Error('pictures: no code usage to draw');
  const border = 1;
  const canvas = new Canvas(k * HEATMAP_CELL + 2 * border, n * HEATMAP_CELL + 2 * border, 3, GRAY);
  usage.forEach((row, v) =>
    row.forEach((p, c) =>
      canvas.fill(border + c * HEATMAP_CELL, border + v * HEATMAP_CELL, HEATMAP_CELL, HEATMAP_CELL, rampColour((p * k) / 2)),
    ),
  );
  // Cells are coarse, so a small map may grow further than a grid of digits.
  return upscale(canvas.toImage(), options.scale ?? autoScale(canvas.width, canvas.height, 800, 8));
}
