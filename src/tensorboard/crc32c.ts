/**
 * CRC32C (Castagnoli) as TFRecord framing uses it.
 *
 * The checksum is the classic table-driven CRC (reflected polynomial
 * 0x82f63b78, one table lookup per byte): a dependency for it brought AWS
 * packages and tslib's helpers on globalThis. On top, TensorFlow's masking:
 * it exists because a CRC computed over data that itself contains CRCs is
 * weak; TFRecord readers (TensorBoard included) unmask before comparing, so
 * an unmasked CRC is rejected as corruption.
 */

/** CRC32C of every byte value: entry n is the register after shifting n through 8 times. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC32C of `data` (check value: crc32c("123456789") = 0xe3069283). */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/** ((crc >>> 15) | (crc << 17)) + 0xa282ead8, mod 2^32. */
export function maskCrc(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + MASK_DELTA) >>> 0;
}

/** Inverse of maskCrc (readers use it; tests check the pair round-trips). */
export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

/** The masked CRC32C of `data`, as stored in a TFRecord. */
export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}
