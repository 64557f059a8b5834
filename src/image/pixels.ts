/**
 * 8-bit pixel buffers: the one format the PNG and grid helpers share.
 * Row-major, channels interleaved (grayscale: 1, RGB: 3).
 */
import * as tf from '@tensorflow/tfjs';

export type Channels = 1 | 3;

/** One image. */
export interface PixelImage {
  pixels: Uint8Array;
  height: number;
  width: number;
  channels: Channels;
}

/** `count` images of the same size, one after the other. */
export interface ImageBatch {
  pixels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: Channels;
}

function positiveInt(value: number, name: string, what: string): void {
  if (!(Number.isInteger(value) && value >= 1)) throw new Error(`${what}: ${name} must be an integer >= 1, got ${value}`);
}

function checkLayout(image: PixelImage | ImageBatch, what: string): void {
  positiveInt(image.height, 'height', what);
  positiveInt(image.width, 'width', what);
  if (image.channels !== 1 && image.channels !== 3) throw new Error(`${what}: channels must be 1 or 3, got ${image.channels}`);
  if (!(image.pixels instanceof Uint8Array)) throw new Error(`${what}: pixels must be a Uint8Array`);
}

/** Checks sizes and buffer length; throws one line saying what is wrong. */
export function checkPixelImage(image: PixelImage, what = 'image'): PixelImage {
  checkLayout(image, what);
  const expected = image.height * image.width * image.channels;
  if (image.pixels.length !== expected) {
    throw new Error(`${what}: ${image.height}x${image.width}x${image.channels} needs ${expected} pixels, got ${image.pixels.length}`);
  }
  return image;
}

/** Checks an ImageBatch like checkPixelImage. */
export function checkImageBatch(batch: ImageBatch, what = 'images'): ImageBatch {
  positiveInt(batch.count, 'count', what);
  checkLayout(batch, what);
  const expected = batch.count * batch.height * batch.width * batch.channels;
  if (batch.pixels.length !== expected) {
    throw new Error(
      `${what}: ${batch.count} images of ${batch.height}x${batch.width}x${batch.channels} need ${expected} pixels, got ${batch.pixels.length}`,
    );
  }
  return batch;
}

/** Intensities in [0, 1] to bytes: clamped, rounded to nearest; NaN becomes 0. */
export function unitToUint8(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // NaN fails both comparisons and lands on 0.
    out[i] = v >= 1 ? 255 : v > 0 ? Math.round(v * 255) : 0;
  }
  return out;
}

function channelsOf(size: number, what: string, shape: number[]): Channels {
  if (size === 1 || size === 3) return size;
  throw new Error(`${what}: last dimension must be 1 or 3 channels, got shape [${shape}]`);
}

/** The layout of an image tensor [h, w] / [h, w, 1] / [h, w, 3]; throws one line when it is not one. */
function pixelImageLayout(tensor: tf.Tensor, what: string): Omit<PixelImage, 'pixels'> {
  const shape = tensor.shape as number[];
  if (shape.length !== 2 && shape.length !== 3) throw new Error(`${what}: expected a tensor [h, w] or [h, w, c], got shape [${shape}]`);
  const channels = shape.length === 2 ? 1 : channelsOf(shape[2], what, shape);
  return { height: shape[0], width: shape[1], channels };
}

/**
 * A tensor [h, w], [h, w, 1] or [h, w, 3] with values in [0, 1] (clamped) as
 * bytes; the tensor is not disposed. The read is asynchronous (webgpu in Node
 * has no synchronous read); a wrong shape throws at once, before any read.
 */
export function tensorToPixelImage(tensor: tf.Tensor, what = 'image'): Promise<PixelImage> {
  const layout = pixelImageLayout(tensor, what);
  return tensor.data().then((values) => checkPixelImage({ pixels: unitToUint8(values), ...layout }, what));
}

/** A tensor [n, h, w], [n, h, w, 1] or [n, h, w, 3] with values in [0, 1] as a batch of bytes (read like tensorToPixelImage). */
export function tensorToImageBatch(tensor: tf.Tensor, what = 'images'): Promise<ImageBatch> {
  const shape = tensor.shape as number[];
  if (shape.length !== 3 && shape.length !== 4) {
    throw new Error(`${what}: expected a tensor [n, h, w] or [n, h, w, c], got shape [${shape}]`);
  }
  const channels = shape.length === 3 ? 1 : channelsOf(shape[3], what, shape);
  return tensor
    .data()
    .then((values) => checkImageBatch({ pixels: unitToUint8(values), count: shape[0], height: shape[1], width: shape[2], channels }, what));
}
