/**
 * A minimal protocol-buffer encoder: just the wire types TensorBoard's event
 * protos use. A full library (protobufjs, @bufbuild/protobuf) would bring a
 * schema compiler or runtime reflection for five small messages; this is a
 * hundred lines, and the tests check it byte by byte against the wire format.
 *
 * Wire format: each field is a varint key (field << 3 | wire type) then
 *   0 VARINT  base-128 little-endian groups, high bit = "more"
 *   1 I64     8 bytes little-endian (double, fixed64)
 *   2 LEN     varint length, then the bytes (string, bytes, sub-message, packed)
 *   5 I32     4 bytes little-endian (float, fixed32)
 */

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const MAX_FIELD = 2 ** 29 - 1;
const utf8 = new TextEncoder();

/** Builds one message; nest messages by encoding the inner one first and passing its bytes. */
export class ProtoWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /**
   * Raw varint. Non-negative safe integers are split with arithmetic (bit ops
   * stop at 32 bits); negatives are int64 two's complement, always 10 bytes,
   * as protobuf encodes negative int32/int64.
   */
  varint(n: number): this {
    if (!Number.isSafeInteger(n)) throw new Error(`protobuf varint: ${n} is not a safe integer`);
    if (n < 0) {
      let u = BigInt.asUintN(64, BigInt(n));
      while (u >= 128n) {
        this.byte(Number(u & 127n) | 128);
        u >>= 7n;
      }
      this.byte(Number(u));
      return this;
    }
    while (n >= 128) {
      this.byte((n % 128) | 128);
      n = Math.floor(n / 128);
    }
    this.byte(n);
    return this;
  }

  /** A field key. */
  tag(field: number, wire: WireType): this {
    if (!(Number.isInteger(field) && field >= 1 && field <= MAX_FIELD)) {
      throw new Error(`protobuf: field number must be an integer in [1, ${MAX_FIELD}], got ${field}`);
    }
    return this.varint(field * 8 + wire);
  }

  /** int64 / uint64 / int32 / enum field (varint). */
  int(field: number, n: number): this {
    return this.tag(field, WireType.VARINT).varint(n);
  }

  bool(field: number, b: boolean): this {
    return this.int(field, b ? 1 : 0);
  }

  /** double field: 8 bytes little-endian (wire type 1). */
  double(field: number, x: number): this {
    this.tag(field, WireType.I64);
    this.reserve(8);
    this.view.setFloat64(this.len, x, true);
    this.len += 8;
    return this;
  }

  /** float field: rounded to float32, 4 bytes little-endian (wire type 5). */
  float(field: number, x: number): this {
    this.tag(field, WireType.I32);
    this.reserve(4);
    this.view.setFloat32(this.len, x, true);
    this.len += 4;
    return this;
  }

  /** bytes field, or an already-encoded sub-message. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WireType.LEN).varint(data.length);
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  /** string field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** repeated double [packed = true]: one LEN field holding 8 bytes per value. */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    const size = values.length * 8;
    this.tag(field, WireType.LEN).varint(size);
    this.reserve(size);
    for (let i = 0; i < values.length; i++) this.view.setFloat64(this.len + 8 * i, values[i], true);
    this.len += size;
    return this;
  }

  /** The encoded bytes (a copy: the writer can be dropped or reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
