/**
 * Labels on pictures: a 3x5 pixel font (digits and the few signs the
 * pictures need) drawn on a Canvas, so a picture names its own rows, columns
 * and colour scale without a font library. Glyphs are scaled by whole pixels.
 */
import type { Canvas, Colour } from './canvas.js';

/** Each glyph: 5 rows of 3 pixels, '#' set. */
const GLYPHS: Record<string, readonly string[]> = {
  '0': ['###', '#.#', '#.#', '#.#', '###'],
  '1': ['.#.', '##.', '.#.', '.#.', '###'],
  '2': ['###', '..#', '###', '#..', '###'],
  '3': ['###', '..#', '.##', '..#', '###'],
  '4': ['#.#', '#.#', '###', '..#', '..#'],
  '5': ['###', '#..', '###', '..#', '###'],
  '6': ['###', '#..', '###', '#.#', '###'],
  '7': ['###', '..#', '.#.', '.#.', '.#.'],
  '8': ['###', '#.#', '###', '#.#', '###'],
  '9': ['###', '#.#', '###', '..#', '###'],
  '/': ['..#', '..#', '.#.', '#..', '#..'],
  '+': ['...', '.#.', '###', '.#.', '...'],
  '.': ['...', '...', '...', '...', '.#.'],
  '-': ['...', '...', '###', '...', '...'],
  K: ['#.#', '#.#', '##.', '#.#', '#.#'],
  v: ['...', '#.#', '#.#', '#.#', '.#.'],
  c: ['...', '###', '#..', '#..', '###'],
  ' ': ['...', '...', '...', '...', '...'],
};

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/** Pixels `text` takes across at `size` (one blank column between glyphs). */
export function textWidth(text: string, size = 1): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * size;
}

/** Draws `text` with its top-left corner at (x, y); characters without a glyph are refused. */
export function drawText(canvas: Canvas, text: string, x: number, y: number, colour: Colour, size = 1): void {
  [...text].forEach((char, i) => {
    const glyph = GLYPHS[char];
    if (!glyph) throw new Error(`labels: no glyph for '${char}'`);
    const left = x + i * (GLYPH_WIDTH + 1) * size;
    glyph.forEach((row, r) => {
      for (let c = 0; c < GLYPH_WIDTH; c++) if (row[c] === '#') canvas.fill(left + c * size, y + r * size, size, size, colour);
    });
  });
}

/** Draws `text` centred on x. */
export function drawCentred(canvas: Canvas, text: string, cx: number, y: number, colour: Colour, size = 1): void {
  drawText(canvas, text, Math.round(cx - textWidth(text, size) / 2), y, colour, size);
}

/**
 * Every how many of `count` cells of `cell` pixels a label fits (1: each cell
 * labelled; 5: every fifth), so labels never overlap.
 */
export function labelStride(count: number, cell: number, size = 1): number {
  const widest = textWidth(String(Math.max(0, count - 1)), size) + 2 * size;
  const stride = Math.max(1, Math.ceil(widest / cell));
  // Prefer round strides (1, 2, 5, 10, ...), which people read as an axis.
  const round = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].find((s) => s >= stride);
  return round ?? stride;
}
