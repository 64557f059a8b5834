/**
 * Counts what a WebGPU step costs beyond arithmetic: compute dispatches
 * (one per tfjs program run), GPU-to-CPU reads (each one a queue submit and a
 * wait for the GPU), and host-to-GPU uploads. A counting wrapper around the
 * tfjs-backend-webgpu instance's methods; `stop()` puts them back.
 */
import * as tf from '@tensorflow/tfjs';
import { inPlaceDispatches } from './adam_in_place.js';

export interface WebGpuCounts {
  dispatches: number;
  reads: number;
  uploads: number;
  /** Bytes of tensor data those uploads carried (programs' small uniform buffers not included). */
  uploadBytes: number;
  /** Command buffers handed to the GPU queue. */
  submits: number;
}

interface TensorData {
  resource?: unknown;
  values?: { byteLength?: number } | null;
}

interface WebGpuBackendLike {
  tensorMap: { get(dataId: object): TensorData | undefined };
}

type Method = 'recordAndSubmit' | 'getBufferData' | 'readSync' | 'uploadToGPU' | 'submitQueue';
/** The method that marks each counted event, and when a call counts. */
const COUNTED: Record<Method, [Exclude<keyof WebGpuCounts, 'uploadBytes'>, (backend: WebGpuBackendLike, args: unknown[]) => boolean]> = {
  recordAndSubmit: ['dispatches', () => true],
  getBufferData: ['reads', () => true],
  // A value already on the host costs nothing.
  readSync: ['reads', (b, [dataId]) => b.tensorMap.get(dataId as object)?.values == null],
  // Called for every input and output of every program; an upload only when the data is on the host alone.
  uploadToGPU: [
    'uploads',
    (b, [dataId]) => {
      const data = b.tensorMap.get(dataId as object);
      return data?.resource == null && data?.values != null;
    },
  ],
  submitQueue: ['submits', () => true],
};

/** Starts counting on the current webgpu backend; throws elsewhere. */
export function countWebGpuWork(): { counts: WebGpuCounts; reset(): void; stop(): void } {
  if (tf.getBackend() !== 'webgpu') throw new Error(`countWebGpuWork: the current backend is ${tf.getBackend()}, not webgpu`);
  const backend = tf.backend() as unknown as WebGpuBackendLike & Record<string, unknown>;
  const counts: WebGpuCounts = { dispatches: 0, reads: 0, uploads: 0, uploadBytes: 0, submits: 0 };
  const saved: Array<[Method, unknown]> = [];
  for (const [method, [field, counts_]] of Object.entries(COUNTED) as Array<[Method, (typeof COUNTED)[Method]]>) {
    const original = backend[method] as (...args: unknown[]) => unknown;
    if (typeof original !== 'function') continue;
    saved.push([method, Object.prototype.hasOwnProperty.call(backend, method) ? original : undefined]);
    backend[method] = function (this: WebGpuBackendLike, ...args: unknown[]) {
      if (counts_(this, args)) {
        counts[field]++;
        if (field === 'uploads') counts.uploadBytes += this.tensorMap.get(args[0] as object)?.values?.byteLength ?? 0;
      }
      return original.apply(this, args);
    };
  }
  // catvae's own passes (in-place Adam) bypass recordAndSubmit: counted at the source, added here.
  let ownBase = inPlaceDispatches.count;
  let ownAtStop: number | null = null;
  const own = () => (ownAtStop ?? inPlaceDispatches.count) - ownBase;
  const raw = counts;
  const view: WebGpuCounts = {
    get dispatches() {
      return raw.dispatches + own();
    },
    get reads() {
      return raw.reads;
    },
    get uploads() {
      return raw.uploads;
    },
    get uploadBytes() {
      return raw.uploadBytes;
    },
    get submits() {
      return raw.submits;
    },
  };
  return {
    counts: view,
    reset() {
      raw.dispatches = raw.reads = raw.uploads = raw.uploadBytes = raw.submits = 0;
      ownBase = inPlaceDispatches.count;
    },
    stop() {
      ownAtStop = inPlaceDispatches.count;
      for (const [method, own] of saved) {
        if (own === undefined) delete backend[method];
        else backend[method] = own;
      }
    },
  };
}
