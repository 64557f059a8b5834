/** The shapes shared by every part of the data pipeline. */

/**
 * How grayscale pixels become model inputs:
 * - `dynamic`: a fresh seeded Bernoulli(pixel/255) draw each time an image is served (training default);
 * - `fixed`: one seeded Bernoulli draw per image, the same on every call (evaluation default);
 * - `threshold`: pixel/255 > 0.5;
 * - `none`: pixel/255, grayscale in [0, 1].
 */
export type Binarization = 'dynamic' | 'fixed' | 'threshold' | 'none';
export const BINARIZATIONS: readonly Binarization[] = ['dynamic', 'fixed', 'threshold', 'none'];

/** MNIST and its look-alikes (Fashion-MNIST, KMNIST) have ten classes. */
export const NUM_CLASSES = 10;

/** A set of uint8 images with their labels; kept uint8 on the host (MNIST is ~55 MB so). */
export interface ImageSet {
  /** count * rows * cols pixels, row-major, image after image. Often a view into the file's buffer. */
  images: Uint8Array;
  /** count labels in 0..NUM_CLASSES-1. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export function isBinarization(value: unknown): value is Binarization {
  return typeof value === 'string' && (BINARIZATIONS as readonly string[]).includes(value);
}
