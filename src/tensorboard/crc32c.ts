/**
 * CRC32C (Castagnoli) as TFRecord framing uses it.
 *
 * The checksum itself comes from @aws-crypto/crc32c (maintained, table-driven);
 * this module only adds TensorFlow's masking. The mask exists because a CRC
 * computed over data that itself contains CRCs is weak; TFRecord readers
 * (TensorBoard included) unmask before comparing, so an unmasked CRC is
 * rejected as corruption.
 */
import { crc32c } from '@aws-crypto/crc32c';

export { crc32c };

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
