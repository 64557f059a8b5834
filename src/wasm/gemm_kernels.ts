/**
 * Matrix-product loops for the wasm heap, generated at run time (assembler.ts)
 * as register-tiled SIMD kernels that read both operands where they lie,
 * row-major and unpacked:
 *
 * - nn: C = A B      (A [m,k], B [k,n])  the forward x W;
 * - tn: C = A^T B    (A [k,m], B [k,n])  the weight gradient x^T dy;
 * - nt: C = A B^T    (A [m,k], B [n,k])  the input gradient dy W^T.
 *
 * XNNPACK packs its right-hand operand into its own layout first, and in
 * training that operand (a weight the optimizer has just replaced, or a
 * batch's gradient) is new at every call: for a batch of 100 the packing
 * costs half as much as the product. These kernels need no packing and no
 * transposes; their inner loops run at XNNPACK's speed per thread.
 *
 * Each function computes a block of rows [row 0, rowBlocks * mr) by a range
 * of columns [j0, j1) of C, as act(bias + product) with flags bit 0 = ReLU,
 * bit 1 = bias (a row of n floats added to every row of C). nn and tn tiles
 * are mr rows x 4*nv columns, accumulated as mr*nv vectors: per k step,
 * nv vector loads of B, mr broadcast loads of A and mr*nv multiply-adds. nt
 * tiles are mr rows x 4 columns, each a dot product of a row of A and a row
 * of B summed 4 lanes at a time, the lanes reduced at the end.
 *
 * Addresses are byte offsets into the heap; strides (lda, ldb, ldc) are in
 * bytes; k >= 1 (nt: k a multiple of 4); j0, j1 multiples of the tile width.
 */
import { I32, V128, forRange, op, v, type WasmFunction } from './assembler.js';

export type GemmKind = 'nn' | 'tn' | 'nt';

/** Tile shapes: rows per tile, and vectors of 4 columns per tile (nt: always 1). */
export const GEMM_TILE: Record<GemmKind, { mr: number; nv: number }> = {
  nn: { mr: 4, nv: 2 },
  tn: { mr: 4, nv: 2 },
  nt: { mr: 2, nv: 1 },
};

/** The exported name of a kernel for `mr` rows and `nv` column vectors. */
export function gemmName(kind: GemmKind, mr: number, nv: number): string {
  return `gemm_${kind}_${mr}x${nv}`;
}

/** Every kernel the module exports: full tiles, and narrower tiles for the edges. */
export function gemmVariants(): Array<{ kind: GemmKind; mr: number; nv: number }> {
  const out: Array<{ kind: GemmKind; mr: number; nv: number }> = [];
  for (const kind of ['nn', 'tn', 'nt'] as const) {
    const { mr, nv } = GEMM_TILE[kind];
    for (let rows = 1; rows <= mr; rows++) for (const vectors of new Set([nv, 1])) out.push({ kind, mr: rows, nv: vectors });
  }
  return out;
}

const PARAMS = ['A', 'B', 'C', 'BIAS', 'ROW_BLOCKS', 'J0', 'J1', 'K', 'LDA', 'LDB', 'LDC', 'FLAGS'] as const;
const P = Object.fromEntries(PARAMS.map((name, i) => [name, i])) as Record<(typeof PARAMS)[number], number>;

/** Locals are numbered after the parameters; this hands them out. */
class Locals {
  private next = PARAMS.length;
  private i32s = 0;
  private v128s = 0;
  i32(): number {
    this.i32s++;
    return this.next++;
  }
  /** v128 locals come after all i32 locals: call i32() first. */
  v128(): number {
    this.v128s++;
    return this.next++;
  }
  declared(): Array<[number, number]> {
    return [[this.i32s, I32], [this.v128s, V128]];
  }
}

const { get, set } = op;
/** local += step */
const bump = (local: number, step: number[]) => [...get(local), ...step, ...op.i32Add, ...set(local)];
/** acc += a * b, fused when `fma` (relaxed SIMD) */
const madd = (acc: number, a: number[], b: number[], fma: boolean) =>
  fma ? [...a, ...b, ...get(acc), ...v.f32x4RelaxedMadd, ...set(acc)] : [...get(acc), ...a, ...b, ...v.f32x4Mul, ...v.f32x4Add, ...set(acc)];

/** do { body } while (--counter != 0) */
const countdown = (counter: number, body: number[]) => [
  ...op.loop, ...body, ...get(counter), ...op.i32(1), ...op.i32Sub, ...op.tee(counter), ...op.brIf(0), ...op.end,
];

/** if (flags & bit) { body } */
const ifFlag = (bit: number, body: number[]) => [...get(P.FLAGS), ...op.i32(bit), ...op.i32And, ...op.ifVoid, ...body, ...op.end];

/** nn or tn: tiles of mr x 4nv, B read along its rows. */
function broadcastKernel(kind: 'nn' | 'tn', mr: number, nv: number, fma: boolean): WasmFunction {
  const locals = new Locals();
  const [J, IB, COUNT, PB, PBCOL, PC] = [locals.i32(), locals.i32(), locals.i32(), locals.i32(), locals.i32(), locals.i32()];
  // nn: one pointer per row of A, each moving along its row; tn: one pointer moving down A's rows.
  const pa = Array.from({ length: kind === 'nn' ? mr : 1 }, () => locals.i32());
  const acc = Array.from({ length: mr * nv }, () => locals.v128());
  const bv = Array.from({ length: nv }, () => locals.v128());
  const [AS, ZERO] = [locals.v128(), locals.v128()];
  const at = (r: number, q: number) => acc[r * nv + q];

  const step: number[] = [];
  bv.forEach((b, q) => step.push(...get(PB), ...v.loadAt(16 * q), ...set(b)));
  for (let r = 0; r < mr; r++) {
    const splat = kind === 'nn' ? [...get(pa[r]), ...v.load32SplatAt(0)] : [...get(pa[0]), ...v.load32SplatAt(4 * r)];
    step.push(...splat, ...set(AS));
    for (let q = 0; q < nv; q++) step.push(...madd(at(r, q), get(AS), get(bv[q]), fma));
  }
  if (kind === 'nn') pa.forEach((p) => step.push(...bump(p, op.i32(4))));
  else step.push(...bump(pa[0], get(P.LDA)));
  step.push(...bump(PB, get(P.LDB)));

  const tile: number[] = [];
  // Start from the bias (the same for every row) or zero.
  for (let q = 0; q < nv; q++) {
    tile.push(...get(P.FLAGS), ...op.i32(2), ...op.i32And, ...op.ifV128, ...get(P.BIAS), ...get(J), ...op.i32(4), ...op.i32Mul, ...op.i32Add);
    tile.push(...v.loadAt(16 * q), ...op.else, ...get(ZERO), ...op.end, ...set(at(0, q)));
    for (let r = 1; r < mr; r++) tile.push(...get(at(0, q)), ...set(at(r, q)));
  }
  // Row block IB starts at row IB * mr: nn, A + row * lda; tn, column `row` of A.
  const firstRow = [...get(IB), ...op.i32(mr), ...op.i32Mul];
  if (kind === 'nn') {
    pa.forEach((p, r) => tile.push(...get(P.A), ...firstRow, ...op.i32(r), ...op.i32Add, ...get(P.LDA), ...op.i32Mul, ...op.i32Add, ...set(p)));
  } else {
    tile.push(...get(P.A), ...firstRow, ...op.i32(4), ...op.i32Mul, ...op.i32Add, ...set(pa[0]));
  }
  tile.push(...get(PBCOL), ...set(PB), ...get(P.K), ...set(COUNT), ...countdown(COUNT, step));
  tile.push(...ifFlag(1, acc.flatMap((a) => [...get(a), ...get(ZERO), ...v.f32x4Max, ...set(a)])));
  tile.push(...get(P.C), ...firstRow, ...get(P.LDC), ...op.i32Mul, ...op.i32Add, ...get(J), ...op.i32(4), ...op.i32Mul, ...op.i32Add, ...set(PC));
  for (let r = 0; r < mr; r++) {
    for (let q = 0; q < nv; q++) tile.push(...get(PC), ...get(at(r, q)), ...v.storeAt(16 * q));
    if (r < mr - 1) tile.push(...bump(PC, get(P.LDC)));
  }

  const code = [...op.f32(0), ...v.f32x4Splat, ...set(ZERO)];
  const columns = [...get(P.B), ...get(J), ...op.i32(4), ...op.i32Mul, ...op.i32Add, ...set(PBCOL), ...forRange(IB, null, P.ROW_BLOCKS, 1, tile)];
  code.push(...forRange(J, P.J0, P.J1, 4 * nv, columns));
  return { name: gemmName(kind, mr, nv), params: Array(PARAMS.length).fill(I32), locals: locals.declared(), code };
}

/** f32 lane picks as i8x16.shuffle bytes (0-3 the first vector, 4-7 the second). */
const lanes = (picks: number[]): number[] => picks.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

/** nt: tiles of mr rows x 4 columns; C[i][j] = sum over k of A[i][k] B[j][k]. */
function dotKernel(mr: number, fma: boolean): WasmFunction {
  const locals = new Locals();
  const [J, IB, COUNT, PC] = [locals.i32(), locals.i32(), locals.i32(), locals.i32()];
  const pa = Array.from({ length: mr }, () => locals.i32());
  const pb = Array.from({ length: 4 }, () => locals.i32());
  const acc = Array.from({ length: mr * 4 }, () => locals.v128());
  const av = Array.from({ length: mr }, () => locals.v128());
  const [BV, T0, T1, ZERO] = [locals.v128(), locals.v128(), locals.v128(), locals.v128()];
  const at = (r: number, c: number) => acc[r * 4 + c];

  const step: number[] = [];
  av.forEach((a, r) => step.push(...get(pa[r]), ...v.loadAt(0), ...set(a)));
  for (let c = 0; c < 4; c++) {
    step.push(...get(pb[c]), ...v.loadAt(0), ...set(BV));
    for (let r = 0; r < mr; r++) step.push(...madd(at(r, c), get(av[r]), get(BV), fma));
  }
  [...pa, ...pb].forEach((p) => step.push(...bump(p, op.i32(16))));

  const tile: number[] = [];
  acc.forEach((a) => tile.push(...get(ZERO), ...set(a)));
  const firstRow = [...get(IB), ...op.i32(mr), ...op.i32Mul];
  pa.forEach((p, r) => tile.push(...get(P.A), ...firstRow, ...op.i32(r), ...op.i32Add, ...get(P.LDA), ...op.i32Mul, ...op.i32Add, ...set(p)));
  pb.forEach((p, c) => tile.push(...get(P.B), ...get(J), ...op.i32(c), ...op.i32Add, ...get(P.LDB), ...op.i32Mul, ...op.i32Add, ...set(p)));
  tile.push(...get(P.K), ...op.i32(2), ...op.i32ShrU, ...set(COUNT), ...countdown(COUNT, step));
  tile.push(...get(P.C), ...firstRow, ...get(P.LDC), ...op.i32Mul, ...op.i32Add, ...get(J), ...op.i32(4), ...op.i32Mul, ...op.i32Add, ...set(PC));
  const mix = (a: number[], b: number[], x: number[], y: number[]) => [...a, ...b, ...v.shuffle(lanes(x)), ...a, ...b, ...v.shuffle(lanes(y)), ...v.f32x4Add];
  for (let r = 0; r < mr; r++) {
    // Lane sums of the 4 accumulators of row r, as one vector [s0, s1, s2, s3].
    tile.push(...mix(get(at(r, 0)), get(at(r, 1)), [0, 4, 1, 5], [2, 6, 3, 7]), ...set(T0));
    tile.push(...mix(get(at(r, 2)), get(at(r, 3)), [0, 4, 1, 5], [2, 6, 3, 7]), ...set(T1));
    tile.push(...mix(get(T0), get(T1), [0, 1, 4, 5], [2, 3, 6, 7]), ...set(T0));
    tile.push(...ifFlag(2, [...get(T0), ...get(P.BIAS), ...get(J), ...op.i32(4), ...op.i32Mul, ...op.i32Add, ...v.loadAt(0), ...v.f32x4Add, ...set(T0)]));
    tile.push(...ifFlag(1, [...get(T0), ...get(ZERO), ...v.f32x4Max, ...set(T0)]));
    tile.push(...get(PC), ...get(T0), ...v.storeAt(0));
    if (r < mr - 1) tile.push(...bump(PC, get(P.LDC)));
  }

  const code = [...op.f32(0), ...v.f32x4Splat, ...set(ZERO)];
  code.push(...forRange(J, P.J0, P.J1, 4, forRange(IB, null, P.ROW_BLOCKS, 1, tile)));
  return { name: gemmName('nt', mr, 1), params: Array(PARAMS.length).fill(I32), locals: locals.declared(), code };
}

/** All gemm kernels, with fused multiply-adds when `fma` (the engine must support relaxed SIMD). */
export function gemmFunctions(fma: boolean): WasmFunction[] {
  return gemmVariants().map(({ kind, mr, nv }) => (kind === 'nt' ? dotKernel(mr, fma) : broadcastKernel(kind, mr, nv, fma)));
}

/** A kernel's signature: (a, b, c, bias, rowBlocks, j0, j1, k, lda, ldb, ldc, flags). */
export type GemmKernel = (...args: number[]) => void;
