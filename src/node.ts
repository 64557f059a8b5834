/**
 * catvae's Node entry (`import ... from 'catvae/node'`): everything in
 * 'catvae', plus what needs Node: backend selection, file:// model IO
 * (registered on import, so `model.save('file://...')` works under plain
 * @tensorflow/tfjs), TensorBoard event files, the
 * IDX/MNIST data, the trainer, checkpoints and evaluation.
 */
import { ensureFileSystemHandlers } from './io/file_io.js';

export * from './index.js';

// Backends and disk IO.
export { selectBackend, defaultLoaders, BACKENDS, BACKEND_CHOICES, BackendUnavailable } from './backend.js';
export type { BackendName, BackendChoice, BackendSelection, WasmOptions } from './backend.js';
export { fileSystem, ensureFileSystemHandlers, readModelArtifacts, writeModelArtifacts } from './io/file_io.js';
// The wasm speed-ups need the optional peer @tensorflow/tfjs-backend-wasm: they are
// in 'catvae/wasm' (selectBackend('wasm') installs them itself). Only their types here.
export type { WasmSpeedupOptions } from './wasm/index.js';

// The trainer and checkpoints (files on disk).
export { train } from './model/trainer.js';
export type { TrainOptions, TrainResult, TrainerHooks, StepLog } from './model/trainer.js';
export { saveCheckpoint, loadCheckpoint, resolveCheckpointDir, CheckpointError } from './model/checkpoint.js';
export type { LoadedCheckpoint, TrainState, EpochRecord } from './model/checkpoint.js';

// Data.
export * from './data/index.js';

// TensorBoard event files and pictures.
export * from './tensorboard/index.js';
export { encodePng, decodePng, tileImages } from './image/index.js';
export type { PixelImage, ImageBatch } from './image/index.js';

ensureFileSystemHandlers();
