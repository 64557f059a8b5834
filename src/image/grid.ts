/**
 * Tiles a batch of images into one grid image (like torchvision's make_grid),
 * so a page of samples or reconstructions is one TensorBoard image. Pure, on
 * typed arrays.
 */
import { checkImageBatch, checkPixelImage, type ImageBatch, type PixelImage } from './pixels.js';

export interface GridOptions {
  /** Images per row (default ceil(sqrt(count))). */
  columns?: number;
  /** Pixels of padding between cells and around the border (default 2). */
  padding?: number;
  /**
   * Padding intensity, 0..255, the same in every channel (default 128: mid
   * grey stays visible against MNIST's black background and white strokes).
   */
  padValue?: number;
  /** Integer nearest-neighbour upscaling of the finished grid (default 1). */
  scale?: number;
}

function nonNegativeInt(value: number, name: string, min: number): void {
  if (!(Number.isInteger(value) && value >= min)) throw new Error(`grid: ${name} must be an integer >= ${min}, got ${value}`);
}

/**
 * Lays the images out row by row, `columns` per row; cells past the last
 * image are left as padding.
 */
export function tileImages(batch: ImageBatch, options: GridOptions = {}): PixelImage {
  checkImageBatch(batch);
  const { count, height, width, channels, pixels } = batch;
  const columns = options.columns ?? Math.ceil(Math.sqrt(count));
  const padding = options.padding ?? 2;
  const padValue = options.padValue ?? 128;
  const scale = options.scale ?? 1;
  nonNegativeInt(columns, 'columns', 1);
  nonNegativeInt(padding, 'padding', 0);
  nonNegativeInt(scale, 'scale', 1);
  if (!(Number.isInteger(padValue) && padValue >= 0 && padValue <= 255)) {
    throw new Error(`grid: padValue must be an integer in [0, 255], got ${padValue}`);
  }

  const cols = Math.min(columns, count);
  const rows = Math.ceil(count / cols);
  const gridHeight = rows * height + (rows + 1) * padding;
  const gridWidth = cols * width + (cols + 1) * padding;
  const out = new Uint8Array(gridHeight * gridWidth * channels).fill(padValue);
  const rowBytes = width * channels;
  const imageBytes = height * rowBytes;
  for (let n = 0; n < count; n++) {
    const top = padding + Math.floor(n / cols) * (height + padding);
    const left = padding + (n % cols) * (width + padding);
    for (let y = 0; y < height; y++) {
      const src = n * imageBytes + y * rowBytes;
      out.set(pixels.subarray(src, src + rowBytes), ((top + y) * gridWidth + left) * channels);
    }
  }
  return upscale({ pixels: out, height: gridHeight, width: gridWidth, channels }, scale);
}

/** Each pixel becomes a scale x scale block (nearest neighbour: digits stay crisp). */
export function upscale(image: PixelImage, scale: number): PixelImage {
  checkPixelImage(image);
  nonNegativeInt(scale, 'scale', 1);
  if (scale === 1) return image;
  const { height, width, channels, pixels } = image;
  const outWidth = width * scale;
  const outRowBytes = outWidth * channels;
  const out = new Uint8Array(height * scale * outRowBytes);
  for (let y = 0; y < height; y++) {
    const row = y * scale * outRowBytes;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = pixels[(y * width + x) * channels + c];
        for (let dx = 0; dx < scale; dx++) out[row + ((x * scale + dx) * channels + c)] = v;
      }
    }
    // The other scale-1 rows of this block are copies of the first.
    for (let dy = 1; dy < scale; dy++) out.copyWithin(row + dy * outRowBytes, row, row + outRowBytes);
  }
  return { pixels: out, height: height * scale, width: outWidth, channels };
}
