/**
 * An event-file reader for tests, written independently of src/tensorboard:
 * its own bitwise CRC32C and mask, its own protobuf decoder. It is strict:
 * an unknown field number or a wrong wire type throws, so a writer that
 * drifts from the .proto files fails the tests instead of being read leniently.
 */
import * as fs from 'node:fs';

// ---- framing ----

/** Bitwise CRC32C (reflected Castagnoli polynomial 0x82F63B78): slow, obviously right. */
export function crc32cBitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function masked(data: Uint8Array): number {
  const crc = crc32cBitwise(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** The payloads of a TFRecord file; throws on a bad CRC or a truncated record. */
export function readRecords(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) throw new Error(`truncated record header at offset ${offset}`);
    const length = view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 2 ** 32;
    if (view.getUint32(offset + 8, true) !== masked(bytes.subarray(offset, offset + 8))) {
      throw new Error(`length CRC mismatch in record ${records.length} at offset ${offset}`);
    }
    const start = offset + 12;
    const end = start + length;
    if (end + 4 > bytes.length) throw new Error(`truncated record ${records.length} at offset ${offset}`);
    const data = bytes.subarray(start, end);
    if (view.getUint32(end, true) !== masked(data)) throw new Error(`data CRC mismatch in record ${records.length} at offset ${offset}`);
    records.push(data);
    offset = end + 4;
  }
  return records;
}

// ---- protobuf ----

type Raw =
  | { field: number; wire: 0; value: bigint }
  | { field: number; wire: 1 | 5; value: DataView }
  | { field: number; wire: 2; value: Uint8Array };

function decodeRaw(bytes: Uint8Array): Raw[] {
  const out: Raw[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new Error('truncated varint');
      const b = bytes[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint longer than 10 bytes');
    }
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > bytes.length) throw new Error('truncated field');
    const s = bytes.subarray(pos, pos + n);
    pos += n;
    return s;
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1 || wire === 5) {
      const s = take(wire === 1 ? 8 : 4);
      out.push({ field, wire, value: new DataView(s.buffer, s.byteOffset, s.byteLength) });
    } else if (wire === 2) out.push({ field, wire, value: take(Number(varint())) });
    else throw new Error(`unsupported wire type ${wire} (field ${field})`);
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Walks the fields of a message, dispatching by field number with the wire type the proto requires. */
function fields(bytes: Uint8Array, message: string, handlers: Record<number, [wire: 0 | 1 | 2 | 5, (raw: Raw) => void]>): void {
  for (const raw of decodeRaw(bytes)) {
    const handler = handlers[raw.field];
    if (!handler) throw new Error(`${message}: unexpected field ${raw.field}`);
    if (handler[0] !== raw.wire) throw new Error(`${message}.${raw.field}: wire type ${raw.wire}, expected ${handler[0]}`);
    handler[1](raw);
  }
}

const asInt64 = (r: Raw): number => Number(BigInt.asIntN(64, r.value as bigint));
const asDouble = (r: Raw): number => (r.value as DataView).getFloat64(0, true);
const asFloat = (r: Raw): number => (r.value as DataView).getFloat32(0, true);
const asBytes = (r: Raw): Uint8Array => r.value as Uint8Array;
const asString = (r: Raw): string => utf8.decode(r.value as Uint8Array);

function packedDoubles(bytes: Uint8Array): number[] {
  if (bytes.length % 8) throw new Error('packed doubles: length not a multiple of 8');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, i) => view.getFloat64(8 * i, true));
}

export interface DecodedImage {
  height: number;
  width: number;
  colorspace: number;
  encoded: Uint8Array;
}
export interface DecodedHistogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}
export interface DecodedTensor {
  dtype: number;
  shapeDims: number[] | null;
  stringVal: string[];
}
export interface DecodedMetadata {
  pluginName?: string;
  pluginContent?: Uint8Array;
  dataClass?: number;
}
export interface DecodedValue {
  tag: string;
  simpleValue?: number;
  image?: DecodedImage;
  histo?: DecodedHistogram;
  tensor?: DecodedTensor;
  metadata?: DecodedMetadata;
}
export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: DecodedValue[];
}

function decodeImage(bytes: Uint8Array): DecodedImage {
  const img: DecodedImage = { height: 0, width: 0, colorspace: 0, encoded: new Uint8Array(0) };
  fields(bytes, 'Summary.Image', {
    1: [0, (r) => (img.height = asInt64(r))],
    2: [0, (r) => (img.width = asInt64(r))],
    3: [0, (r) => (img.colorspace = asInt64(r))],
    4: [2, (r) => (img.encoded = asBytes(r))],
  });
  return img;
}

function decodeHisto(bytes: Uint8Array): DecodedHistogram {
  const h: DecodedHistogram = { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  fields(bytes, 'HistogramProto', {
    1: [1, (r) => (h.min = asDouble(r))],
    2: [1, (r) => (h.max = asDouble(r))],
    3: [1, (r) => (h.num = asDouble(r))],
    4: [1, (r) => (h.sum = asDouble(r))],
    5: [1, (r) => (h.sumSquares = asDouble(r))],
    6: [2, (r) => h.bucketLimit.push(...packedDoubles(asBytes(r)))],
    7: [2, (r) => h.bucket.push(...packedDoubles(asBytes(r)))],
  });
  return h;
}

function decodeTensor(bytes: Uint8Array): DecodedTensor {
  const t: DecodedTensor = { dtype: 0, shapeDims: null, stringVal: [] };
  fields(bytes, 'TensorProto', {
    1: [0, (r) => (t.dtype = asInt64(r))],
    2: [
      2,
      (r) => {
        const dims: number[] = [];
        fields(asBytes(r), 'TensorShapeProto', {
          2: [2, (d) => fields(asBytes(d), 'TensorShapeProto.Dim', { 1: [0, (s) => dims.push(asInt64(s))] })],
        });
        t.shapeDims = dims;
      },
    ],
    8: [2, (r) => t.stringVal.push(asString(r))],
  });
  return t;
}

function decodeMetadata(bytes: Uint8Array): DecodedMetadata {
  const m: DecodedMetadata = {};
  fields(bytes, 'SummaryMetadata', {
    1: [
      2,
      (r) =>
        fields(asBytes(r), 'SummaryMetadata.PluginData', {
          1: [2, (p) => (m.pluginName = asString(p))],
          2: [2, (p) => (m.pluginContent = asBytes(p))],
        }),
    ],
    4: [0, (r) => (m.dataClass = asInt64(r))],
  });
  return m;
}

function decodeValue(bytes: Uint8Array): DecodedValue {
  const v: DecodedValue = { tag: '' };
  let kinds = 0;
  fields(bytes, 'Summary.Value', {
    1: [2, (r) => (v.tag = asString(r))],
    2: [5, (r) => ((v.simpleValue = asFloat(r)), kinds++)],
    4: [2, (r) => ((v.image = decodeImage(asBytes(r))), kinds++)],
    5: [2, (r) => ((v.histo = decodeHisto(asBytes(r))), kinds++)],
    8: [2, (r) => ((v.tensor = decodeTensor(asBytes(r))), kinds++)],
    9: [2, (r) => (v.metadata = decodeMetadata(asBytes(r)))],
  });
  if (kinds !== 1) throw new Error(`Summary.Value '${v.tag}': ${kinds} members of the 'value' oneof set`);
  return v;
}

export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  const e: DecodedEvent = { wallTime: 0, step: 0 };
  fields(bytes, 'Event', {
    1: [1, (r) => (e.wallTime = asDouble(r))],
    2: [0, (r) => (e.step = asInt64(r))],
    3: [2, (r) => (e.fileVersion = asString(r))],
    5: [
      2,
      (r) => {
        const values: DecodedValue[] = [];
        fields(asBytes(r), 'Summary', { 1: [2, (s) => values.push(decodeValue(asBytes(s)))] });
        e.summary = values;
      },
    ],
  });
  return e;
}

/** Every event of an event file, in order. */
export function readEventFile(file: string): DecodedEvent[] {
  return readRecords(new Uint8Array(fs.readFileSync(file))).map(decodeEvent);
}

/** Scalars as [tag, step, value] in file order. */
export function scalarsOf(events: DecodedEvent[]): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  for (const e of events) for (const v of e.summary ?? []) if (v.simpleValue !== undefined) out.push([v.tag, e.step, v.simpleValue]);
  return out;
}
