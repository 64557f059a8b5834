/**
 * gumbelRao: the SIMD loop of Gumbel-Rao's backward pass (the op of
 * src/ops/gumbel_rao.ts), assembled into the kernel module of simd_kernels.ts.
 *
 *   gumbelRao(L, D, DY, G, OUT, SCRATCH, rows, k, samples, r0, r1, invTau, outScale, klWeight)
 *
 * For the rows r0 <= r < r1 (a multiple of 4 apart) of logits L, one-hot
 * sample D and dy DY ([rows, k] floats), and the Gumbel draws G
 * [samples, rows, k]: OUT[r] = outScale sum_i J(y_i) dy (+ klWeight q (log q
 * - sum q log q) when klWeight != 0), y_i = softmax of the i-th conditional
 * draw, outScale = 1 / (samples tau). Per element, as the plain composition:
 *
 *   z = G_D - G_j + (log Z - s_j)   (s = L - max L, Z = sum e^s; the winner's
 *                                    last term is -WINNER_LIFT, so z ~ -1e30)
 *   p = e^(-softplus(z) / tau),  softplus(z) = max(z, 0) + log(1 + e^-|z|)
 *   y = p / sum p
 *
 * The four lanes of a vector are four rows (not four classes): k need not be
 * a multiple of 4, and every row sum is a plain vector sum over the k
 * classes. Each row group's per-class vectors live in SCRATCH (8 k vectors,
 * 128 k bytes, one region per thread), filled by lane loads from the rows
 * and read back whole; the per-row work (max, log Z, the KL term) is done
 * once and shared by the samples.
 */
import { F32, I32, V128, constantLocals, forRange, op, v, type WasmFunction } from './assembler.js';
import { expNonPositive, horner, logPositive } from './simd_math.js';

type Constant = (x: number) => number[];

/**
 * out = log(1 + w) for w in [0, 1] (NaN stays NaN): log(1 + w) = 2 atanh(s),
 * s = w / (2 + w) <= 1/3, by the odd series to s^11 (the next term is below
 * 1.5e-7 relative, about 2 float32 ulp). Half the instructions of
 * logPositive, which must first split off the exponent. Scratch: s, s^2.
 */
function log1pUnit(f: Constant, w: number, out: number, [s, s2]: number[]): number[] {
  const { get, set } = op;
  return [
    ...get(w), ...f(2), ...get(w), ...v.f32x4Add, ...v.f32x4Div, ...set(s),
    ...get(s), ...get(s), ...v.f32x4Mul, ...set(s2),
    ...horner(f, out, s2, [1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]),
    ...get(out), ...get(s), ...v.f32x4Mul, ...f(2), ...v.f32x4Mul, ...set(out),
  ];
}

/** Row groups of 4 rows each (a vector's lanes) computed side by side: independent chains keep the CPU busy while one waits. */
export const GUMBEL_RAO_CHAINS = 2;
/** Rows the loop takes at a time: r1 - r0 must be a multiple. */
export const GUMBEL_RAO_ROWS = 4 * GUMBEL_RAO_CHAINS;
/** Bytes of scratch the loop needs per thread, for rows of k classes. */
export const gumbelRaoScratchBytes = (k: number): number => GUMBEL_RAO_CHAINS * 8 * 16 * k;

/** A chain's locals: 8 scratch array bases (i32), then 23 vectors. */
const CHAIN_I32 = 8;
const CHAIN_V128 = 23;

export function gumbelRaoFunction(winnerLift: number, chains = GUMBEL_RAO_CHAINS): WasmFunction {
  const { get, set } = op;
  const [L, D, DY, G, OUT, SCRATCH, ROWS, K, SAMPLES, R0, R1, INV_TAU, OUT_SCALE, KL_WEIGHT] = Array.from({ length: 14 }, (_, i) => i);
  const shared = Array.from({ length: 8 }, (_, i) => 14 + i);
  const [R, I, J, RB, SJ, BASE, GBASE, ADDR] = shared;
  // LANE[m] = m * RB: the byte offset of row m of a group.
  const LANE = Array.from({ length: 4 * chains }, (_, m) => 14 + shared.length + m);
  const firstChainI32 = 14 + shared.length + LANE.length;
  const i32Count = shared.length + LANE.length + CHAIN_I32 * chains;
  const [SINV_TAU, SOUT, SKL] = [0, 1, 2].map((i) => 14 + i32Count + i);
  const firstChainV = 14 + i32Count + 3;
  const vCount = 3 + CHAIN_V128 * chains;
  const constants = constantLocals(14 + i32Count + vCount);
  const f = constants.get;

  const accumulate = (acc: number, value: number[]) => [...get(acc), ...value, ...v.f32x4Add, ...set(acc)];
  /** for each class j (J its byte offset in a row, SJ its vector's in a scratch array), the chains' code side by side */
  const classes = (body: (c: number) => number[]) =>
    forRange(J, null, RB, 4, [...get(J), ...op.i32(4), ...op.i32Mul, ...set(SJ), ...Array.from({ length: chains }, (_, c) => body(c)).flat()]);
  const rowAddress = (tensor: number) => [...get(tensor), ...get(BASE), ...op.i32Add, ...get(J), ...op.i32Add];

  /** Chain c's code for each part of the loop, with its own locals, scratch and rows 4c..4c+3 of the group. */
  const chain = (c: number) => {
    // Scratch arrays of k vectors each: shifted logits then log q, e^s then q, z's offsets, D, dy, G, p, the sum.
    const [AS, AE, AB, AD, ADY, AG, AP, AC] = Array.from({ length: CHAIN_I32 }, (_, i) => firstChainI32 + CHAIN_I32 * c + i);
    const vl = Array.from({ length: CHAIN_V128 }, (_, i) => firstChainV + CHAIN_V128 * c + i);
    const [M, Z, LOGZ, H, GW, S, Y, X, ZV, T, EX, L1, P, INV_S, MEAN, SP] = vl;
    const [expScratch, logScratch] = [vl.slice(16, 19), vl.slice(19, 23)];
    const vec = (at: number) => [...get(at), ...get(SJ), ...op.i32Add, ...v.load];
    const storeVec = (at: number, value: number[]) => [...get(at), ...get(SJ), ...op.i32Add, ...value, ...v.store];
    const lane = (l: number) => [...get(ADDR), ...(4 * c + l === 0 ? [] : [...get(LANE[4 * c + l]), ...op.i32Add])];
    /** X = the floats at `address` (code) in the chain's four rows: one class of four rows. */
    const gather = (address: number[]) => [
      ...address,
      ...set(ADDR),
      ...[0, 1, 2, 3].flatMap((l) => [...lane(l), ...get(X), ...v.load32Lane(l), ...set(X)]),
    ];
    const scatter = (address: number[], value: number) => [
      ...address,
      ...set(ADDR),
      ...[0, 1, 2, 3].flatMap((l) => [...lane(l), ...get(value), ...v.store32Lane(l)]),
    ];
    return {
      setup: [AS, AE, AB, AD, ADY, AG, AP, AC].flatMap((local, a) => [
        // Chain c's array a starts at SCRATCH + (8 c + a) * 16 k = SCRATCH + (8 c + a) * 4 RB.
        ...get(SCRATCH), ...get(RB), ...op.i32(4 * (CHAIN_I32 * c + a)), ...op.i32Mul, ...op.i32Add, ...set(local),
      ]),
      init: [...f(-Infinity), ...set(M), ...f(0), ...set(Z), ...f(0), ...set(H)],
      // The rows: logits' maximum, D and dy; then s = L - max, e^s, Z; then z's offsets and the KL's q and log q.
      load: [
        ...gather(rowAddress(L)), ...storeVec(AS, get(X)), ...get(M), ...get(X), ...v.f32x4Max, ...set(M),
        ...gather(rowAddress(D)), ...storeVec(AD, get(X)),
        ...gather(rowAddress(DY)), ...storeVec(ADY, get(X)),
      ],
      shift: [
        ...vec(AS), ...get(M), ...v.f32x4Sub, ...set(T), ...storeVec(AS, get(T)),
        ...expNonPositive(f, T, EX, expScratch), ...storeVec(AE, get(EX)), ...accumulate(Z, get(EX)),
      ],
      logZ: logPositive(f, Z, LOGZ, logScratch),
      offsets: [
        ...vec(AS), ...set(X),
        // The winner's offset is -lift (D = 1), the others' log Z - s.
        ...storeVec(AB, [...f(-winnerLift), ...get(LOGZ), ...get(X), ...v.f32x4Sub, ...vec(AD), ...f(1), ...v.f32x4Eq, ...v.bitselect]),
        ...vec(AE), ...get(Z), ...v.f32x4Div, ...set(EX), ...storeVec(AE, get(EX)),
        ...get(X), ...get(LOGZ), ...v.f32x4Sub, ...set(T), ...storeVec(AS, get(T)),
        ...accumulate(H, [...get(EX), ...get(T), ...v.f32x4Mul]),
        ...storeVec(AC, f(0)),
      ],
      // One conditional draw: G_D (GBASE + c * 4 RB is the chain's first row of draw I), then p and its sums, then the sum's update.
      drawInit: [...f(0), ...set(GW), ...f(0), ...set(S), ...f(0), ...set(Y)],
      winner: [
        ...gather([...get(GBASE), ...get(J), ...op.i32Add]), ...storeVec(AG, get(X)),
        ...accumulate(GW, [...get(X), ...vec(AD), ...v.f32x4Mul]),
      ],
      powers: [
        ...get(GW), ...vec(AG), ...v.f32x4Sub, ...vec(AB), ...v.f32x4Add, ...set(ZV),
        // softplus(z) = max(z, 0) + log(1 + e^-|z|): -|z| is z with its sign bit set.
        ...get(ZV), ...f(-0), ...v.or, ...set(T),
        ...expNonPositive(f, T, EX, expScratch),
        ...log1pUnit(f, EX, L1, logScratch),
        // f32x4.max keeps a NaN z (pmax would drop it).
        ...get(ZV), ...f(0), ...v.f32x4Max, ...get(L1), ...v.f32x4Add, ...set(SP),
        ...get(SP), ...get(SINV_TAU), ...v.f32x4Mul, ...v.f32x4Neg, ...set(T),
        ...expNonPositive(f, T, P, expScratch),
        ...storeVec(AP, get(P)), ...accumulate(S, get(P)), ...accumulate(Y, [...get(P), ...vec(ADY), ...v.f32x4Mul]),
      ],
      normalizer: [...f(1), ...get(S), ...v.f32x4Div, ...set(INV_S), ...get(Y), ...get(INV_S), ...v.f32x4Mul, ...set(MEAN)],
      // J(y) dy = y (dy - sum y dy), y = p / S
      update: storeVec(AC, [...vec(AC), ...vec(AP), ...get(INV_S), ...v.f32x4Mul, ...vec(ADY), ...get(MEAN), ...v.f32x4Sub, ...v.f32x4Mul, ...v.f32x4Add]),
      finish: [
        ...vec(AC), ...get(SOUT), ...v.f32x4Mul, ...set(X),
        // The KL term only when asked: with a masked class it is NaN (0 log 0), which klWeight 0 must not spread.
        ...get(KL_WEIGHT), ...op.f32(0), ...op.f32Ne, ...op.ifVoid,
        ...accumulate(X, [...get(SKL), ...vec(AE), ...v.f32x4Mul, ...vec(AS), ...get(H), ...v.f32x4Sub, ...v.f32x4Mul]),
        ...op.end,
        ...scatter(rowAddress(OUT), X),
      ],
    };
  };
  const codes = Array.from({ length: chains }, (_, c) => chain(c));
  const all = (part: keyof ReturnType<typeof chain>) => codes.flatMap((code) => code[part]);
  const each = (part: keyof ReturnType<typeof chain>) => classes((c) => codes[c][part]);

  const perSample = [
    ...get(I), ...get(ROWS), ...op.i32Mul, ...get(R), ...op.i32Add, ...get(RB), ...op.i32Mul, ...get(G), ...op.i32Add, ...set(GBASE),
    ...all('drawInit'), ...each('winner'), ...each('powers'), ...all('normalizer'), ...each('update'),
  ];
  const body = [
    ...get(K), ...op.i32(4), ...op.i32Mul, ...set(RB),
    ...LANE.flatMap((local, m) => [...get(RB), ...op.i32(m), ...op.i32Mul, ...set(local)]),
    ...all('setup'),
    ...get(INV_TAU), ...v.f32x4Splat, ...set(SINV_TAU),
    ...get(OUT_SCALE), ...v.f32x4Splat, ...set(SOUT),
    ...get(KL_WEIGHT), ...v.f32x4Splat, ...set(SKL),
    ...forRange(R, R0, R1, 4 * chains, [
      ...get(R), ...get(RB), ...op.i32Mul, ...set(BASE),
      ...all('init'), ...each('load'), ...each('shift'), ...all('logZ'), ...each('offsets'),
      ...forRange(I, null, SAMPLES, 1, perSample),
      ...each('finish'),
    ]),
  ];
  return {
    name: 'gumbelRao',
    params: [...Array(11).fill(I32), F32, F32, F32],
    locals: [
      [i32Count, I32],
      [vCount + constants.count, V128],
    ],
    code: [...constants.setup(), ...body],
  };
}
