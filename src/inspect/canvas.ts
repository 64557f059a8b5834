/**
 * A small raster to lay pictures out on: fill rectangles, paste 8-bit images.
 * The grids of `sample`, `reconstruct`, `traverse` and `codes` are built on it.
 */
import type { Channels, ImageBatch, PixelImage } from '../image/index.js';

export type Colour = readonly number[];

export class Canvas {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly channels: Channels,
    background: Colour,
  ) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new Error(`canvas: width and height must be positive integers, got ${width}x${height}`);
    }
    this.pixels = new Uint8Array(width * height * channels);
    this.fill(0, 0, width, height, background);
  }

  /** A rectangle of one colour (gray: one value; RGB: three), clipped to the canvas. */
  fill(x: number, y: number, w: number, h: number, colour: Colour): void {
    const c = this.colour(colour);
    for (let row = Math.max(0, y); row < Math.min(this.height, y + h); row++) {
      for (let col = Math.max(0, x); col < Math.min(this.width, x + w); col++) {
        this.pixels.set(c, (row * this.width + col) * this.channels);
      }
    }
  }

  /** Image `index` of a batch with its top-left corner at (x, y); gray images go into every channel. */
  paste(batch: ImageBatch, index: number, x: number, y: number): void {
    const { width, height, channels } = batch;
    if (channels !== 1 && channels !== this.channels)
      throw new Error(`canvas: cannot paste ${channels}-channel images on ${this.channels}`);
    if (x < 0 || y < 0 || x + width > this.width || y + height > this.height) {
      throw new Error(`canvas: a ${width}x${height} image at (${x}, ${y}) does not fit in ${this.width}x${this.height}`);
    }
    const base = index * width * height * channels;
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const out = ((y + row) * this.width + x + col) * this.channels;
        const src = base + (row * width + col) * channels;
        for (let c = 0; c < this.channels; c++) this.pixels[out + c] = batch.pixels[channels === 1 ? src : src + c];
      }
    }
  }

  toImage(): PixelImage {
    return { pixels: this.pixels, width: this.width, height: this.height, channels: this.channels };
  }

  private colour(colour: Colour): Uint8Array {
    if (colour.length === this.channels) return Uint8Array.from(colour);
    if (colour.length === 1) return new Uint8Array(this.channels).fill(colour[0]);
    throw new Error(`canvas: a colour of ${colour.length} values on a ${this.channels}-channel canvas`);
  }
}
