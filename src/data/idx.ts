/**
 * Reader for IDX, the file format MNIST ships in: a 4-byte magic number
 * (0, 0, data type, number of dimensions), one big-endian uint32 per
 * dimension, then the data. Only unsigned-byte data (type 0x08) is read:
 * images are [n, rows, cols], labels [n].
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { DataError } from './errors.js';
import { NUM_CLASSES } from './types.js';

export type IdxKind = 'images' | 'labels';

/** Magic numbers of uint8 IDX files: 0x08 = unsigned byte, then the rank. */
const MAGIC: Record<IdxKind, number> = { images: 0x00000803, labels: 0x00000801 };
const UBYTE = 0x08;
const REDOWNLOAD = 'download the file again';

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** A view into the file's bytes, not a copy. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  labels: Uint8Array;
}

const hex8 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** gzip streams start with 1f 8b. Decided by content, not by name: browsers often save a .gz already unpacked. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The file's bytes, gunzipped when they are gzip. */
export function unpack(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return zlib.gunzipSync(bytes);
  } catch (error) {
    const reason = String((error as Error)?.message ?? error).split('\n')[0];
    throw new DataError(file, `the gzip data is damaged or truncated (${reason})`, REDOWNLOAD);
  }
}

/** Says what a file with the wrong magic number most likely is. */
function magicHint(bytes: Uint8Array, magic: number, kind: IdxKind): string {
  const other: IdxKind = kind === 'images' ? 'labels' : 'images';
  if (magic === MAGIC[other]) return `; it looks like an IDX ${other === 'images' ? 'image' : 'label'} file`;
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  if (head.startsWith('<')) return '; it looks like an HTML page, maybe a failed download';
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] !== UBYTE)
    return `; its data type is 0x${bytes[2].toString(16)}, only unsigned bytes (0x08) are read`;
  return '';
}

/**
 * Checks the header and size of uint8 IDX bytes (already gunzipped) and
 * returns the dimensions and a view of the data. `file` only names the
 * source in errors.
 */
export function parseIdx(bytes: Uint8Array, file: string, kind: IdxKind): { dims: number[]; data: Uint8Array } {
  const rank = kind === 'images' ? 3 : 1;
  const header = 4 + 4 * rank;
  if (bytes.length < 4) {
    throw new DataError(file, `truncated: ${bytes.length} bytes, too short for an IDX header`, REDOWNLOAD);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== MAGIC[kind]) {
    throw new DataError(
      file,
      `wrong magic number ${hex8(magic)} (an IDX ${kind === 'images' ? 'image' : 'label'} file starts with ${hex8(MAGIC[kind])})${magicHint(bytes, magic, kind)}`,
      `check that this is the right file, or ${REDOWNLOAD}`,
    );
  }
  if (bytes.length < header) {
    throw new DataError(file, `truncated: ${bytes.length} bytes, the header alone takes ${header}`, REDOWNLOAD);
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = header + dims.reduce((a, b) => a * b, 1);
  const what = kind === 'images' ? `${dims[0]} images of ${dims[1]}x${dims[2]}` : `${dims[0]} labels`;
  if (bytes.length < expected) {
    throw new DataError(
      file,
      `truncated: the header promises ${what} (${expected} bytes) but the file holds ${bytes.length} bytes`,
      REDOWNLOAD,
    );
  }
  if (bytes.length > expected) {
    throw new DataError(
      file,
      `oversized: the header promises ${what} (${expected} bytes) but the file holds ${bytes.length} bytes (${bytes.length - expected} extra)`,
      `check that this is the right file, or ${REDOWNLOAD}`,
    );
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + header, expected - header) };
}

/** Gunzips if needed; sizes in a gzip file's errors are those of its unpacked content, and say so. */
function parseFile(bytes: Uint8Array, file: string, kind: IdxKind): { dims: number[]; data: Uint8Array } {
  return parseIdx(unpack(bytes, file), isGzip(bytes) ? `${file} (once gunzipped)` : file, kind);
}

export function parseIdxImages(bytes: Uint8Array, file: string): IdxImages {
  const { dims, data } = parseFile(bytes, file, 'images');
  const [count, rows, cols] = dims;
  return { count, rows, cols, pixels: data };
}

export function parseIdxLabels(bytes: Uint8Array, file: string): IdxLabels {
  const { dims, data } = parseFile(bytes, file, 'labels');
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= NUM_CLASSES) {
      throw new DataError(
        file,
        `label ${data[i]} at index ${i} is outside 0-${NUM_CLASSES - 1}`,
        `use a ${NUM_CLASSES}-class dataset in the MNIST layout`,
      );
    }
  }
  return { count: dims[0], labels: data };
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return await fs.promises.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT') throw new DataError(file, 'no such file', 'check the path or --data-dir');
    if (code === 'EISDIR') throw new DataError(file, 'is a folder, not an IDX file', 'put the IDX file itself there');
    throw new DataError(file, `cannot be read (${code ?? String(error)})`, code === 'EACCES' ? 'check its permissions' : 'check the file');
  }
}

/** Reads an IDX image file, plain or gzipped. */
export async function readIdxImages(file: string): Promise<IdxImages> {
  return parseIdxImages(await readBytes(file), file);
}

/** Reads an IDX label file, plain or gzipped, and checks every label is a class 0-9. */
export async function readIdxLabels(file: string): Promise<IdxLabels> {
  return parseIdxLabels(await readBytes(file), file);
}

/** IDX bytes of uint8 data (for tests and for writing small datasets). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UBYTE << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}
