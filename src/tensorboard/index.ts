/** TensorBoard event files from plain Node: works on every tfjs backend. */
export { SummaryWriter, closeAllWriters, eventFileName } from './summary_writer.js';
export type { SummaryWriterOptions } from './summary_writer.js';
export { TensorBoardCallback, tensorBoardCallback } from './fit_callback.js';
export type { TensorBoardCallbackArgs, UpdateFreq } from './fit_callback.js';
export { computeHistogram, DEFAULT_HISTOGRAM_BINS } from './histogram.js';
export type { Histogram } from './histogram.js';
export { RecordWriter, frameRecord, RECORD_OVERHEAD } from './record_writer.js';
export { crc32c, maskCrc, unmaskCrc, maskedCrc32c } from './crc32c.js';
export { FILE_VERSION } from './event.js';
