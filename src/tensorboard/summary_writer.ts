/**
 * SummaryWriter: TensorBoard event files written from plain Node, so it works
 * on every tfjs backend (tfjs-node's summaryFileWriter needs libtensorflow and
 * writes no images).
 *
 * One writer owns one file, `<logdir>/events.out.tfevents.<unix seconds>.<hostname>`.
 * Events are buffered and appended whole (see RecordWriter): every
 * `flushIntervalMs` by an unref'd timer (it never keeps the process alive),
 * when the buffer passes `maxPendingBytes`, on flush()/close(), on process
 * 'exit' for writers still open, and on SIGINT (Ctrl-C), which skips 'exit'.
 * (src/tensorboard/open_writers.ts keeps the open writers for the last two.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { RecordWriter } from './record_writer.js';
import { firstLine, installExitHook, registerClosed, registerOpen } from './open_writers.js';
import {
  Colorspace,
  encodeFileVersionEvent,
  encodeHistogramValue,
  encodeImageValue,
  encodeScalarValue,
  encodeSummaryEvent,
  encodeTextValue,
} from './event.js';
import { computeHistogram, DEFAULT_HISTOGRAM_BINS, type Histogram } from './histogram.js';
import { encodePng } from '../image/png.js';
import { checkPixelImage, tensorToPixelImage, type PixelImage } from '../image/pixels.js';

export { closeAllWriters } from './open_writers.js';

export interface SummaryWriterOptions {
  /** Milliseconds between background flushes (default 2000; 0 turns the timer off). */
  flushIntervalMs?: number;
  /** Flush as soon as this many bytes are buffered (default 1 MiB). */
  maxPendingBytes?: number;
  /** Wall time in seconds since the epoch, stamped on each event (default Date.now() / 1000). */
  clock?: () => number;
}

/** `events.out.tfevents.<10-digit seconds>.<hostname>`; TensorBoard only needs "tfevents" in it. */
export function eventFileName(wallTimeSeconds: number, hostname: string = os.hostname()): string {
  const seconds = String(Math.floor(wallTimeSeconds)).padStart(10, '0');
  const host = hostname.replace(/[^A-Za-z0-9._-]/g, '_') || 'localhost';
  return `events.out.tfevents.${seconds}.${host}`;
}

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

function checkTag(tag: unknown, method: string): asserts tag is string {
  if (typeof tag !== 'string' || tag.length === 0) throw new Error(`SummaryWriter.${method}: tag must be a non-empty string`);
}

function checkStep(step: number, method: string, tag: string): void {
  if (!Number.isSafeInteger(step)) throw new Error(`SummaryWriter.${method}('${tag}'): step must be an integer, got ${step}`);
}

export class SummaryWriter {
  readonly logdir: string;
  /** The event file this writer appends to. */
  readonly path: string;
  private readonly records: RecordWriter;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | null = null;
  /** A failure of the background flush, reported by the next call. */
  private failure: Error | null = null;

  constructor(logdir: string, options: SummaryWriterOptions = {}) {
    const { flushIntervalMs = 2000, maxPendingBytes, clock = () => Date.now() / 1000 } = options;
    if (!(Number.isFinite(flushIntervalMs) && flushIntervalMs >= 0)) {
      throw new Error(`SummaryWriter: flushIntervalMs must be a number >= 0, got ${flushIntervalMs}`);
    }
    this.logdir = logdir;
    this.clock = clock;
    try {
      fs.mkdirSync(logdir, { recursive: true });
    } catch (error) {
      throw new Error(`SummaryWriter: cannot create logdir '${logdir}': ${firstLine(error)}`);
    }
    const now = clock();
    const base = path.join(logdir, eventFileName(now));
    // Two writers started in the same second in the same logdir: give the later one a unique suffix.
    let records: RecordWriter | null = null;
    for (let attempt = 0; records === null; attempt++) {
      const file = attempt === 0 ? base : `${base}.${process.pid}.${attempt}`;
      try {
        records = new RecordWriter(file, { maxPendingBytes });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 100) continue;
        throw new Error(`SummaryWriter: cannot create event file '${file}': ${firstLine(error)}`);
      }
    }
    this.records = records;
    this.path = records.path;
    this.records.write(encodeFileVersionEvent(now));
    // On disk at once, so TensorBoard lists the run before the first flush interval.
    this.records.flush();
    if (flushIntervalMs > 0) {
      this.timer = setInterval(() => this.backgroundFlush(), flushIntervalMs);
      this.timer.unref();
    }
    registerOpen(this);
    installExitHook();
  }

  get closed(): boolean {
    return this.records.closed;
  }

  /** Bytes buffered and not yet on disk (bounded by maxPendingBytes plus one event). */
  get pendingBytes(): number {
    return this.records.pendingBytes;
  }

  /** One scalar (stored as float32, as the proto's simple_value is). */
  scalar(tag: string, value: number, step: number): void {
    checkTag(tag, 'scalar');
    checkStep(step, 'scalar', tag);
    if (typeof value !== 'number') throw new Error(`SummaryWriter.scalar('${tag}'): value must be a number, got ${typeof value}`);
    this.writeEvent(step, [encodeScalarValue(tag, value)]);
  }

  /** Several scalars at one step, in one event (e.g. every metric of a batch). */
  scalars(values: Readonly<Record<string, number>>, step: number): void {
    const encoded: Uint8Array[] = [];
    for (const [tag, value] of Object.entries(values)) {
      checkTag(tag, 'scalars');
      checkStep(step, 'scalars', tag);
      if (typeof value !== 'number') throw new Error(`SummaryWriter.scalars('${tag}'): value must be a number, got ${typeof value}`);
      encoded.push(encodeScalarValue(tag, value));
    }
    if (encoded.length > 0) this.writeEvent(step, encoded);
  }

  /**
   * A grayscale or RGB image, stored as PNG: 8-bit pixels, or a tensor
   * [h, w] / [h, w, 1] / [h, w, 3] with values in [0, 1] (clamped; not disposed).
   * Pixels are written at once; a tensor is read asynchronously (webgpu in Node
   * has no synchronous read), so it returns a promise, but a bad tag, step or
   * shape still throws at once. For a batch, tile it first with tileImages.
   */
  image(tag: string, image: PixelImage, step: number): void;
  image(tag: string, image: tf.Tensor, step: number): Promise<void>;
  image(tag: string, image: PixelImage | tf.Tensor, step: number): void | Promise<void>;
  image(tag: string, image: PixelImage | tf.Tensor, step: number): void | Promise<void> {
    checkTag(tag, 'image');
    checkStep(step, 'image', tag);
    const what = `SummaryWriter.image('${tag}')`;
    if (isTensor(image)) return tensorToPixelImage(image, what).then((img) => this.writeImage(tag, img, step));
    this.writeImage(tag, checkPixelImage(image, what), step);
  }

  private writeImage(tag: string, img: PixelImage, step: number): void {
    const colorspace = img.channels === 1 ? Colorspace.GRAYSCALE : Colorspace.RGB;
    const png = encodePng(img);
    this.writeEvent(step, [encodeImageValue(tag, { height: img.height, width: img.width, colorspace, png })]);
  }

  /**
   * A histogram of `values` in `bins` equal-width bins, over the data's
   * [min, max] or a fixed `range` (see histogram.ts). NaN and +-Infinity are
   * left out; the returned Histogram counts them in `nonFinite`. Host values
   * are written at once; a tensor is read asynchronously (a promise, as for image).
   */
  histogram(tag: string, values: ArrayLike<number>, step: number, bins?: number, range?: readonly [number, number]): Histogram;
  histogram(tag: string, values: tf.Tensor, step: number, bins?: number, range?: readonly [number, number]): Promise<Histogram>;
  histogram(
    tag: string,
    values: ArrayLike<number> | tf.Tensor,
    step: number,
    bins?: number,
    range?: readonly [number, number],
  ): Histogram | Promise<Histogram>;
  histogram(
    tag: string,
    values: ArrayLike<number> | tf.Tensor,
    step: number,
    bins: number = DEFAULT_HISTOGRAM_BINS,
    range?: readonly [number, number],
  ): Histogram | Promise<Histogram> {
    checkTag(tag, 'histogram');
    checkStep(step, 'histogram', tag);
    const write = (data: ArrayLike<number>): Histogram => {
      const histogram = computeHistogram(data, bins, range);
      this.writeEvent(step, [encodeHistogramValue(tag, histogram)]);
      return histogram;
    };
    return isTensor(values) ? values.data().then(write) : write(values);
  }

  /** Markdown for TensorBoard's Text tab. */
  text(tag: string, markdown: string, step: number): void {
    checkTag(tag, 'text');
    checkStep(step, 'text', tag);
    if (typeof markdown !== 'string') throw new Error(`SummaryWriter.text('${tag}'): markdown must be a string`);
    this.writeEvent(step, [encodeTextValue(tag, markdown)]);
  }

  /** Appends everything buffered to the file now. */
  flush(): void {
    this.throwIfFailed();
    this.records.flush();
  }

  /** Flushes and closes the file. Idempotent; later writes throw. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    registerClosed(this);
    this.records.close();
    // Report a background failure once, here, rather than on every later close().
    const failure = this.failure;
    this.failure = null;
    if (failure) throw failure;
  }

  private writeEvent(step: number, values: Uint8Array[]): void {
    this.throwIfFailed();
    if (this.records.closed) throw new Error(`SummaryWriter: '${this.path}' is closed`);
    this.records.write(encodeSummaryEvent(this.clock(), step, values));
  }

  private backgroundFlush(): void {
    try {
      this.records.flush();
    } catch (error) {
      // A timer cannot throw to anyone: keep the error for the next call, and stop retrying.
      this.failure = new Error(`SummaryWriter: writing '${this.path}' failed: ${firstLine(error)}`);
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
