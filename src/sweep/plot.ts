/**
 * A small line-plot rasteriser for the sweep report: coloured polylines on
 * white with axes, ticks and numeric tick labels (a built-in 3x5 pixel font),
 * returned as RGB pixels for the project's PNG encoder. Pure.
 */
import type { PixelImage } from '../image/pixels.js';

export interface Series {
  colour: [number, number, number];
  points: Array<{ x: number; y: number }>;
  /** Line width in pixels (default 2). */
  width?: number;
}

/** A colour mixed with white: `amount` 0 keeps it, 1 is white. */
export function tint([r, g, b]: [number, number, number], amount: number): [number, number, number] {
  const mix = (c: number) => Math.round(c + (255 - c) * amount);
  return [mix(r), mix(g), mix(b)];
}

/** Line colours in order (matplotlib's tab10), with the names the Markdown legend uses. */
export const PALETTE: Array<{ name: string; rgb: [number, number, number] }> = [
  { name: 'blue', rgb: [31, 119, 180] },
  { name: 'orange', rgb: [255, 127, 14] },
  { name: 'green', rgb: [44, 160, 44] },
  { name: 'red', rgb: [214, 39, 40] },
  { name: 'purple', rgb: [148, 103, 189] },
  { name: 'brown', rgb: [140, 86, 75] },
  { name: 'pink', rgb: [227, 119, 194] },
  { name: 'grey', rgb: [127, 127, 127] },
  { name: 'olive', rgb: [188, 189, 34] },
  { name: 'cyan', rgb: [23, 190, 207] },
];

// 3x5 glyphs, rows top to bottom, 3 bits each (4 = left column).
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 1, 1],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  '-': [0, 0, 7, 0, 0],
  e: [0, 7, 5, 6, 7],
  k: [4, 5, 6, 5, 5],
};

class Canvas {
  readonly pixels: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 3).fill(255);
  }
  set(x: number, y: number, [r, g, b]: [number, number, number]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.pixels[i] = r;
    this.pixels[i + 1] = g;
    this.pixels[i + 2] = b;
  }
  /** A line `thickness` pixels wide, by stepping along the longer axis. */
  line(x0: number, y0: number, x1: number, y1: number, colour: [number, number, number], thickness = 1): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const half = (thickness - 1) / 2;
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      for (let dx = -half; dx <= half; dx++) for (let dy = -half; dy <= half; dy++) this.set(x + dx, y + dy, colour);
    }
  }
  /** Text in the 3x5 font, `scale` pixels per font pixel; (x, y) is the top-left corner. */
  text(x: number, y: number, text: string, scale = 2, colour: [number, number, number] = [0, 0, 0]): void {
    [...text].forEach((ch, k) => {
      const rows = GLYPHS[ch];
      if (!rows) return;
      rows.forEach((bits, row) => {
        for (let col = 0; col < 3; col++) {
          if (!(bits & (4 >> col))) continue;
          for (let sx = 0; sx < scale; sx++)
            for (let sy = 0; sy < scale; sy++) this.set(x + (k * 4 + col) * scale + sx, y + row * scale + sy, colour);
        }
      });
    });
  }
}

/** Width in pixels of `text` drawn at `scale`. */
const textWidth = (text: string, scale: number) => (text.length * 4 - 1) * scale;

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A tick label that fits the font: 12000 -> 12k, 0.5, 1e-3. */
export function tickLabel(value: number): string {
  if (value !== 0 && Math.abs(value) >= 10000 && value % 1000 === 0) return `${value / 1000}k`;
  if (value !== 0 && Math.abs(value) < 0.01) return value.toExponential(0).replace('+', '');
  return String(Number(value.toPrecision(6)));
}

/** Plots the series (x right, y up) with axes and tick labels. */
export function plotLines(series: Series[], options: { width?: number; height?: number } = {}): PixelImage {
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const canvas = new Canvas(width, height);
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const left = 70;
  const right = width - 20;
  const top = 20;
  const bottom = height - 40;
  const black: [number, number, number] = [0, 0, 0];
  const grey: [number, number, number] = [225, 225, 225];
  if (all.length > 0) {
    let [x0, x1] = [Math.min(...all.map((p) => p.x)), Math.max(...all.map((p) => p.x))];
    let [y0, y1] = [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
    if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
    if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
    const pad = (y1 - y0) * 0.05;
    [y0, y1] = [y0 - pad, y1 + pad];
    const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - left);
    const py = (y: number) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);
    for (const t of niceTicks(x0, x1)) {
      canvas.line(px(t), top, px(t), bottom, grey);
      canvas.line(px(t), bottom, px(t), bottom + 5, black);
      const label = tickLabel(t);
      canvas.text(px(t) - textWidth(label, 2) / 2, bottom + 10, label);
    }
    for (const t of niceTicks(y0, y1)) {
      canvas.line(left, py(t), right, py(t), grey);
      canvas.line(left - 5, py(t), left, py(t), black);
      const label = tickLabel(t);
      canvas.text(left - 10 - textWidth(label, 2), py(t) - 5, label);
    }
    for (const s of series) {
      const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
      for (let i = 1; i < pts.length; i++)
        canvas.line(px(pts[i - 1].x), py(pts[i - 1].y), px(pts[i].x), py(pts[i].y), s.colour, s.width ?? 2);
      if (pts.length === 1) canvas.line(px(pts[0].x) - 2, py(pts[0].y), px(pts[0].x) + 2, py(pts[0].y), s.colour, 3);
    }
  }
  canvas.line(left, top, left, bottom, black);
  canvas.line(left, bottom, right, bottom, black);
  return { pixels: canvas.pixels, width, height, channels: 3 };
}
