/**
 * philoxUniform / philoxGumbel: the counter-based noise stream of
 * src/ops/philox.ts drawn by a SIMD loop, assembled into the kernel module
 * of simd_kernels.ts.
 *
 *   philoxUniform(OUT, block0, units, key0, key1)
 *   philoxGumbel(OUT, block0, units, key0, key1)
 *
 * write units x COUNTER_NOISE_FLOATS floats at OUT: element i is made from
 * word i % 4 of the Philox4x32-10 block block0 + floor(i / 4) with the key
 * (key0, key1), as the open uniform u = (2m + 1) / 2^24 of the word's top 23
 * bits m (philoxUniform), or as -log(-log u) (philoxGumbel).
 *
 * The four lanes of a vector are four blocks: vector w holds word w of each,
 * so a round is the same few instructions on four blocks at once. The
 * 32 x 32 -> 64-bit products come exact from i64x2.extmul_{low,high}_i32x4_u,
 * their high and low words gathered by one shuffle each. The key schedule is
 * the same for every block: its 20 words are splatted once, before the loop.
 * At the end a 4 x 4 transpose turns the word vectors into the blocks'
 * elements in stream order. (2m + 1) is (word >>> 8) | 1, an integer below
 * 2^24 that converts to float exactly, and times 2^-24 is exact too: the
 * uniforms are the host's bit for bit.
 */
import { I32, V128, constantLocals, forRange, op, v, type WasmFunction } from './assembler.js';
import { logPositive } from './simd_math.js';

/** Groups of 4 blocks computed side by side per turn: independent chains keep the CPU busy while one waits. */
export const COUNTER_NOISE_CHAINS = 2;
/** Floats per turn of the loop (a unit): 4 words x 4 blocks per chain. */
export const COUNTER_NOISE_FLOATS = 16 * COUNTER_NOISE_CHAINS;

// The constants of src/ops/philox.ts (Salmon et al.'s Philox4x32).
const M0 = 0xd2511f53 | 0;
const M1 = 0xcd9e8d57 | 0;
const W0 = 0x9e3779b9 | 0;
const W1 = 0xbb67ae85 | 0;
const ROUNDS = 10;
/** -log(u) at u = 1 - 2^-24, in float32: the floor gumbelFromUniform keeps for logs of limited accuracy. */
const MIN_EXPONENTIAL = 2 ** -24;

/** i8x16.shuffle bytes picking i32 lanes (0-3 from the first vector, 4-7 from the second). */
const lanes = (picks: number[]): number[] => picks.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

/** Per chain: the counter, the 4 words, 4 product halves, 2 i64x2 products, 4 log scratch, 1 log result. */
const CHAIN_V128 = 16;

export function counterNoiseFunction(gumbel: boolean, chains = COUNTER_NOISE_CHAINS): WasmFunction {
  const { get, set } = op;
  const [OUT, BLOCK0, UNITS, KEY0, KEY1] = [0, 1, 2, 3, 4];
  const [P, END] = [5, 6];
  const firstV = 7;
  const SHARED = 5;
  const [SM0, SM1, ZERO, STEP, ONE] = Array.from({ length: SHARED }, (_, i) => firstV + i);
  const K0 = Array.from({ length: ROUNDS }, (_, r) => firstV + SHARED + r);
  const K1 = Array.from({ length: ROUNDS }, (_, r) => firstV + SHARED + ROUNDS + r);
  const firstChain = firstV + SHARED + 2 * ROUNDS;
  const vCount = SHARED + 2 * ROUNDS + CHAIN_V128 * chains;
  const constants = constantLocals(firstV + vCount);
  const f = constants.get;

  /** hi, lo = the high and low words of the products m * x, lane by lane. */
  const product = (x: number, m: number, hi: number, lo: number, [a, b]: number[]) => [
    ...get(x), ...get(m), ...v.i64x2ExtmulLowI32x4U, ...set(a),
    ...get(x), ...get(m), ...v.i64x2ExtmulHighI32x4U, ...set(b),
    ...get(a), ...get(b), ...v.shuffle(lanes([1, 3, 5, 7])), ...set(hi),
    ...get(a), ...get(b), ...v.shuffle(lanes([0, 2, 4, 6])), ...set(lo),
  ];
  const xor3 = (a: number, b: number, c: number) => [...get(a), ...get(b), ...v.xor, ...get(c), ...v.xor];

  const chain = (c: number) => {
    const vl = Array.from({ length: CHAIN_V128 }, (_, i) => firstChain + CHAIN_V128 * c + i);
    const [CNT, C0, C1, C2, C3, HI0, LO0, HI1, LO1, A, B, L] = vl;
    const logScratch = vl.slice(12, 16);
    const words = [C0, C1, C2, C3];
    // Round 0 starts from the counter (block, 0, 0, 0): the product of word 2 is 0.
    const rounds = [
      ...product(CNT, SM0, HI0, LO0, [A, B]),
      ...get(K0[0]), ...set(C0), ...get(ZERO), ...set(C1),
      ...get(HI0), ...get(K1[0]), ...v.xor, ...set(C2), ...get(LO0), ...set(C3),
    ];
    for (let r = 1; r < ROUNDS; r++) {
      rounds.push(
        ...product(C0, SM0, HI0, LO0, [A, B]),
        ...product(C2, SM1, HI1, LO1, [A, B]),
        ...xor3(HI1, C1, K0[r]), ...set(C0), ...get(LO1), ...set(C1),
        ...xor3(HI0, C3, K1[r]), ...set(C2), ...get(LO0), ...set(C3),
      );
    }
    const transform = words.flatMap((w) => [
      // u = ((word >>> 8) | 1) 2^-24
      ...get(w), ...op.i32(8), ...v.i32x4ShrU, ...get(ONE), ...v.or, ...v.f32x4ConvertI32x4S, ...f(2 ** -24), ...v.f32x4Mul, ...set(w),
      ...(gumbel
        ? [
            // e = -log u, kept at least -log(1 - 2^-24) (only a log error could cross it); then g = -log e.
            ...logPositive(f, w, L, logScratch), ...get(L), ...v.f32x4Neg, ...f(MIN_EXPONENTIAL), ...v.f32x4Pmax, ...set(w),
            ...logPositive(f, w, L, logScratch), ...get(L), ...v.f32x4Neg, ...set(w),
          ]
        : []),
    ]);
    // Column j of the 4 x 4 (word, block) matrix is block j's 4 elements: interleave pairs, then pairs of pairs.
    const mix = (a: number, b: number, picks: number[], out: number) => [...get(a), ...get(b), ...v.shuffle(lanes(picks)), ...set(out)];
    const transpose = [
      ...mix(C0, C1, [0, 4, 1, 5], HI0), ...mix(C0, C1, [2, 6, 3, 7], LO0),
      ...mix(C2, C3, [0, 4, 1, 5], HI1), ...mix(C2, C3, [2, 6, 3, 7], LO1),
      ...mix(HI0, HI1, [0, 1, 4, 5], C0), ...mix(HI0, HI1, [2, 3, 6, 7], C1),
      ...mix(LO0, LO1, [0, 1, 4, 5], C2), ...mix(LO0, LO1, [2, 3, 6, 7], C3),
    ];
    const store = words.flatMap((w, j) => [...get(P), ...get(w), ...v.storeAt(64 * c + 16 * j)]);
    return {
      // Chain c's counter: blocks block0 + 4c + (0, 1, 2, 3); every turn moves on by 4 chains.
      setup: [...get(BLOCK0), ...v.i32x4Splat, ...v.i32x4ConstLanes([0, 1, 2, 3].map((l) => 4 * c + l)), ...v.i32x4Add, ...set(CNT)],
      body: [...rounds, ...transform, ...transpose, ...store, ...get(CNT), ...get(STEP), ...v.i32x4Add, ...set(CNT)],
    };
  };
  const codes = Array.from({ length: chains }, (_, c) => chain(c));
  const keys = [
    ...get(KEY0), ...v.i32x4Splat, ...set(K0[0]),
    ...get(KEY1), ...v.i32x4Splat, ...set(K1[0]),
    ...K0.slice(1).flatMap((k, r) => [...get(K0[r]), ...v.i32x4Const(W0), ...v.i32x4Add, ...set(k)]),
    ...K1.slice(1).flatMap((k, r) => [...get(K1[r]), ...v.i32x4Const(W1), ...v.i32x4Add, ...set(k)]),
  ];
  const code = [
    ...constants.setup(),
    ...v.i32x4Const(M0), ...set(SM0), ...v.i32x4Const(M1), ...set(SM1), ...v.i32x4Const(0), ...set(ZERO),
    ...v.i32x4Const(4 * chains), ...set(STEP), ...v.i32x4Const(1), ...set(ONE),
    ...keys,
    ...codes.flatMap((c) => c.setup),
    ...get(OUT), ...get(UNITS), ...op.i32(4 * 16 * chains), ...op.i32Mul, ...op.i32Add, ...set(END),
    ...forRange(P, OUT, END, 4 * 16 * chains, codes.flatMap((c) => c.body)),
  ];
  return {
    name: gumbel ? 'philoxGumbel' : 'philoxUniform',
    params: Array(5).fill(I32),
    locals: [
      [2, I32],
      [vCount + constants.count, V128],
    ],
    code,
  };
}
