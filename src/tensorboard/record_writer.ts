/**
 * TFRecord files: framing, and an append-only writer that never leaves half a
 * record behind it.
 *
 * Each record is
 *   uint64 length (LE) | uint32 masked CRC32C of those 8 bytes | data | uint32 masked CRC32C of data.
 * Records are buffered in memory and a flush appends all of them with one
 * write, so the file only ever grows by whole records: TensorBoard, which
 * tails the file while training runs, never sees a torn one (a killed process
 * may lose the unflushed tail, never corrupt what is there).
 */
import * as fs from 'node:fs';
import { maskedCrc32c } from './crc32c.js';

/** Bytes TFRecord adds around each payload: 8 length + 4 + 4 CRCs. */
export const RECORD_OVERHEAD = 16;

/** One framed record: the bytes to append to the file for `data`. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + RECORD_OVERHEAD);
  const view = new DataView(out.buffer);
  // uint64 as two uint32 halves: lengths never approach 2^53, so the split is exact.
  view.setUint32(0, data.length >>> 0, true);
  view.setUint32(4, Math.floor(data.length / 0x100000000), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export interface RecordWriterOptions {
  /** Flush as soon as this many bytes are pending (default 1 MiB): bounds memory. */
  maxPendingBytes?: number;
}

/**
 * Appends framed records to a file that it creates. Not thread-safe, not
 * async: one writeSync per flush keeps ordering trivial and works the same
 * on every backend.
 */
export class RecordWriter {
  readonly path: string;
  private fd: number | null;
  private pending: Uint8Array[] = [];
  private pendingSize = 0;
  private readonly maxPendingBytes: number;

  /** Creates `path` exclusively ('ax'): an existing file is never appended to or clobbered. */
  constructor(path: string, options: RecordWriterOptions = {}) {
    this.path = path;
    this.maxPendingBytes = options.maxPendingBytes ?? 1 << 20;
    if (!(Number.isFinite(this.maxPendingBytes) && this.maxPendingBytes >= 0)) {
      throw new Error(`RecordWriter: maxPendingBytes must be a number >= 0, got ${options.maxPendingBytes}`);
    }
    this.fd = fs.openSync(path, 'ax');
  }

  /** Bytes buffered and not yet written. */
  get pendingBytes(): number {
    return this.pendingSize;
  }

  get closed(): boolean {
    return this.fd === null;
  }

  /** Queues one record; flushes when the buffer passes maxPendingBytes. */
  write(data: Uint8Array): void {
    if (this.fd === null) throw new Error(`RecordWriter: '${this.path}' is closed`);
    const framed = frameRecord(data);
    this.pending.push(framed);
    this.pendingSize += framed.length;
    if (this.pendingSize >= this.maxPendingBytes) this.flush();
  }

  /** Appends everything pending with one write. */
  flush(): void {
    if (this.fd === null || this.pendingSize === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingSize);
    // Clear first: if the write throws, retrying would duplicate records that may be partly on disk.
    this.pending = [];
    this.pendingSize = 0;
    let offset = 0;
    // writeSync to a regular file writes everything in practice; the loop covers the short writes POSIX allows.
    while (offset < chunk.length) {
      offset += fs.writeSync(this.fd, chunk, offset, chunk.length - offset);
    }
  }

  /** Flushes and closes the file; calling it again does nothing. */
  close(): void {
    if (this.fd === null) return;
    try {
      this.flush();
    } finally {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}
