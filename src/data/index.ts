/** The MNIST data pipeline: IDX files -> splits -> seeded, binarised batches. */
export { DataError } from './errors.js';
export { BINARIZATIONS, NUM_CLASSES, isBinarization } from './types.js';
export type { Binarization, ImageSet } from './types.js';
export { parseIdx, parseIdxImages, parseIdxLabels, readIdxImages, readIdxLabels, encodeIdx, isGzip } from './idx.js';
export type { IdxImages, IdxLabels, IdxKind } from './idx.js';
export {
  loadDataset,
  locateIdxFiles,
  mnistDataDir,
  candidateNames,
  makeImageSet,
  sliceSet,
  IDX_FILES,
  DEFAULT_VALIDATION_SIZE,
  MNIST_SOURCE,
} from './mnist.js';
export type { DataOptions, Dataset, IdxPaths, IdxFileKey } from './mnist.js';
export { binarizeSet, gatherImages, FIXED_STREAM, DYNAMIC_STREAM, SHUFFLE_STREAM } from './binarize.js';
export type { DrawKeys } from './binarize.js';
export { batchesPerEpoch, epochBatches, epochOrder } from './batches.js';
export type { BatchOptions, Batch } from './batches.js';
export { toTfDataset, oneHotLabels } from './tf_dataset.js';
export type { TfDatasetOptions, DatasetTarget, XsYs } from './tf_dataset.js';
