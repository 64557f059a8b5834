/**
 * Seeded random numbers on the host.
 *
 * Everything random in catvae (Gumbel noise, shuffles, Bernoulli
 * binarisation, prior samples) draws from counter-based streams: the numbers
 * of stream `(seed, ...keys)` depend only on those integers, never on how many
 * numbers were drawn elsewhere before. That is what makes a resumed run replay
 * exactly the run it continues.
 */

const TWO_POW_32 = 4294967296;

/** One round of the murmur3 finaliser: a cheap bijective 32-bit mixer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a seed and any number of integer keys into one 32-bit seed. */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const key of keys) {
    // Split keys above 2^32 (steps of very long runs) into two words.
    const lo = key >>> 0;
    const hi = Math.floor(key / TWO_POW_32) >>> 0;
    h = fmix32(h ^ fmix32(lo + 0x7f4a7c15));
    h = fmix32(h ^ fmix32(hi + 0x165667b1));
  }
  return h;
}

/** A seed for runs that asked for none: 32 bits from Math.random. */
export function randomSeed(): number {
  return Math.floor(Math.random() * TWO_POW_32) >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator): 128-bit state,
 * passes PractRand, and is about as fast as a JS generator gets.
 */
export class Rng {
  // The state is kept as int32 (| 0), which V8 stores unboxed; only outputs
  // are made unsigned. Unsigned state words above 2^31 would be heap doubles.
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, ...keys: number[]) {
    const s = deriveSeed(seed, ...keys);
    this.a = 0x9e3779b9 | 0;
    this.b = 0x243f6a88 | 0;
    this.c = 0xb7e15162 | 0;
    this.d = s | 0;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform on the OPEN interval (0, 1): never exactly 0 or 1. */
  nextOpen01(): number {
    return (this.nextUint32() + 0.5) / TWO_POW_32;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextOpen01() * n);
  }
}

/** Fisher-Yates permutation of 0..n-1, fully determined by the generator. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
