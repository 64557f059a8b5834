/**
 * PNG encoding of 8-bit grayscale or RGB images, with fast-png (pure JS, so
 * it works wherever the wasm and cpu backends do). Decoding is here for tests
 * and tools that read images back.
 */
import * as tf from '@tensorflow/tfjs';
import { decode, encode } from 'fast-png';
import { checkPixelImage, tensorToPixelImage, type PixelImage } from './pixels.js';

function encodePixels(img: PixelImage): Uint8Array {
  return encode({ width: img.width, height: img.height, data: img.pixels, channels: img.channels, depth: 8 });
}

/**
 * PNG file bytes of an image: pixels (at once), or a tensor [h, w] / [h, w, 1] / [h, w, 3]
 * in [0, 1] (a promise: tensors are read asynchronously; a wrong shape still throws at once).
 */
export function encodePng(image: PixelImage): Uint8Array;
export function encodePng(image: tf.Tensor): Promise<Uint8Array>;
export function encodePng(image: PixelImage | tf.Tensor): Uint8Array | Promise<Uint8Array>;
export function encodePng(image: PixelImage | tf.Tensor): Uint8Array | Promise<Uint8Array> {
  if (image instanceof tf.Tensor) return tensorToPixelImage(image).then(encodePixels);
  return encodePixels(checkPixelImage(image));
}

/** Pixels of an 8-bit grayscale or RGB PNG (anything else throws). */
export function decodePng(bytes: Uint8Array): PixelImage {
  const png = decode(bytes);
  if (png.depth !== 8 || !(png.data instanceof Uint8Array) || png.palette) {
    throw new Error(`decodePng: only 8-bit grayscale or RGB PNGs are supported (got depth ${png.depth}${png.palette ? ', palette' : ''})`);
  }
  if (png.channels !== 1 && png.channels !== 3) throw new Error(`decodePng: expected 1 or 3 channels, got ${png.channels}`);
  return { pixels: png.data, height: png.height, width: png.width, channels: png.channels };
}
