/**
 * Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011; the generator of cuRAND, JAX and PyTorch's CUDA
 * streams): a counter-based generator. Block `c` of the stream with key `k`
 * is a pure function of (c, k), so any element can be computed alone, in any
 * order, on any device: a GPU draws a tensor's noise in parallel and gets the
 * same bits as the host. Only u32 arithmetic is used (shifts, xor, 16-bit
 * products), which is exact in JS and in WGSL alike.
 *
 * The noise stream of catvae: element i of a tensor drawn with key k is word
 * i % 4 of block philox4x32(counter [floor(i / 4), 0, 0, 0], key k).
 */
import { deriveSeed } from '../random.js';

// The state is kept as int32 bit patterns (| 0, Math.imul), which V8 keeps
// unboxed; words are made unsigned only when they leave (>>> 0, a Uint32Array).
const M0 = 0xd2511f53 | 0;
const M1 = 0xcd9e8d57 | 0;
/** The Weyl sequence that bumps the key between rounds (golden ratio and sqrt(3) - 1). */
const W0 = 0x9e3779b9 | 0;
const W1 = 0xbb67ae85 | 0;
/** Salmon et al.'s recommended round count, with a safety margin (7 pass BigCrush). */
export const PHILOX_ROUNDS = 10;

/** The high word of the 64-bit product of two u32 (given as any 32-bit pattern), as an int32 bit pattern, from 16-bit halves. */
function mulhiBits(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loHi = Math.imul(aLo, bHi);
  const hiLo = Math.imul(aHi, bLo);
  // Each partial product's bits are exact (Math.imul wraps only the sign); the carry out of the low word is at most 2.
  const carry = ((Math.imul(aLo, bLo) >>> 16) + (loHi & 0xffff) + (hiLo & 0xffff)) >>> 16;
  return (Math.imul(aHi, bHi) + (loHi >>> 16) + (hiLo >>> 16) + carry) | 0;
}

/** The high 32 bits of the 64-bit product a * b of two u32 (JS and WGSL have no 32x32 -> 64 multiply). */
export function mulhi32(a: number, b: number): number {
  return mulhiBits(a, b) >>> 0;
}

/**
 * Philox4x32 with `rounds` rounds, in place: `block` holds the counter's 4
 * words on entry and the output's on return (int32 bit patterns). The key is
 * bumped after each round, which is the same as before each but the first.
 */
function philoxInPlace(block: Int32Array, key0: number, key1: number, rounds: number): void {
  let c0 = block[0];
  let c1 = block[1];
  let c2 = block[2];
  let c3 = block[3];
  let k0 = key0 | 0;
  let k1 = key1 | 0;
  for (let r = 0; r < rounds; r++) {
    const hi0 = mulhiBits(M0, c0);
    const lo0 = Math.imul(M0, c0);
    const hi1 = mulhiBits(M1, c2);
    const lo1 = Math.imul(M1, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 = (k0 + W0) | 0;
    k1 = (k1 + W1) | 0;
  }
  block[0] = c0;
  block[1] = c1;
  block[2] = c2;
  block[3] = c3;
}

/** The 4 output words of Philox4x32 with `rounds` rounds for a counter of 4 words and a key of 2 (all u32). */
export function philox4x32(counter: readonly number[], key: readonly number[], rounds = PHILOX_ROUNDS): [number, number, number, number] {
  const block = Int32Array.from(counter.slice(0, 4), (c) => c | 0);
  philoxInPlace(block, key[0], key[1], rounds);
  return [block[0] >>> 0, block[1] >>> 0, block[2] >>> 0, block[3] >>> 0];
}

/** A Philox key: two u32 words. */
export type PhiloxKey = readonly [number, number];

/** Tags the key derivation so that a Philox key never equals a seed that deriveSeed gives sfc32 for the same integers. */
const KEY_TAG = 0x50484c58;

/** The key of the stream (seed, ...keys): two independent 32-bit hashes of the same integers. */
export function philoxKey(seed: number, ...keys: number[]): PhiloxKey {
  return [deriveSeed(seed, KEY_TAG, 0, ...keys), deriveSeed(seed, KEY_TAG, 1, ...keys)];
}

/**
 * The first `size` u32 words of the stream with `key`: word i is word i % 4
 * of block floor(i / 4). Nothing is allocated per block: this runs at every
 * training step on backends without the GPU kernel.
 */
export function philoxWords(size: number, key: PhiloxKey): Uint32Array {
  const out = new Uint32Array(size);
  const block = new Int32Array(4);
  const blocks = Math.ceil(size / 4);
  for (let b = 0; b < blocks; b++) {
    block[0] = b;
    block[1] = block[2] = block[3] = 0;
    philoxInPlace(block, key[0], key[1], PHILOX_ROUNDS);
    const i = 4 * b;
    for (let w = 0; w < 4 && i + w < size; w++) out[i + w] = block[w];
  }
  return out;
}

/**
 * The word u32 as a uniform on the open (0, 1) that float32 holds exactly:
 * (2m + 1) / 2^24 with m its top 23 bits (as openUniformFloat32 makes them).
 */
export function openUniformOfWord(word: number): number {
  return ((word >>> 9) * 2 + 1) / 16777216;
}

/** The first `size` open uniforms of the stream with `key`. */
export function philoxUniforms(size: number, key: PhiloxKey): Float32Array {
  const words = philoxWords(size, key);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = openUniformOfWord(words[i]);
  return out;
}
