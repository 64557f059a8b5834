/**
 * SIMD loops that tfjs's wasm build lacks or runs slowly, assembled at
 * run time (assembler.ts) into a module that imports the backend's own
 * memory, so they read and write tensors where the backend keeps them:
 *
 * - adam(p, g, m, v, outP, outM, outV, bytes, b1, g1, b2, g2, step, epsHat):
 *   Adam's update 4 weights at a time in float32 (tfjs's own precision):
 *     m' = b1 m + g1 g;  v' = b2 v + g2 g^2   (|m'|, v' < FLT_MIN -> 0)
 *     p' = p - step m' / (sqrt(v') + epsHat)
 *   over `bytes` bytes (a multiple of 16) at those byte offsets.
 * - transpose(src, dst, rows, cols, rows4, cols4): dst[c][r] = src[r][c] for
 *   the r < rows4, c < cols4 part (multiples of 4), by 4x4 blocks of shuffles;
 *   the caller does the edges. tfjs's Transpose kernel moves one float at a
 *   time with a cache-hostile stride and is 2-8x slower.
 * - sparseScan(...): a product with a mostly-zero left operand, its
 *   non-zeros gathered per row or column (see below): for binarised images
 *   (~13% ones) about 8x fewer operations than the dense product.
 * - softplus(src, dst, bytes): log(1 + e^x) by polynomials (softplus_kernel.ts).
 * - expNonPositive, gumbel, reluGrad, bernoulliGrad: element-wise loops (elementwise_kernels.ts).
 * - rowShift, rowNormalize, latentGrad: the latent block's row loops (latent_kernels.ts).
 * - gumbelRao: Gumbel-Rao's backward pass (gumbel_rao_kernel.ts).
 * - philoxUniform, philoxGumbel: the counter-based noise stream (counter_gumbel_kernel.ts).
 * - gemm_*: matrix products (gemm_kernels.ts).
 *
 * Arguments are byte offsets into the heap and element counts.
 */
import { F32, I32, V128, assemble, forRange, op, v, type WasmFunction } from './assembler.js';
import { gemmFunctions, type GemmKernel } from './gemm_kernels.js';
import { elementwiseFunctions } from './elementwise_kernels.js';
import { latentFunctions } from './latent_kernels.js';
import { gumbelRaoFunction } from './gumbel_rao_kernel.js';
import { counterNoiseFunction } from './counter_gumbel_kernel.js';
import { WINNER_LIFT } from '../ops/gumbel_rao.js';
import { relaxedSimdAvailable } from './relaxed_simd.js';
import { softplusFunction } from './softplus_kernel.js';

/** Adam: parameters 0-7 offsets and byte count, 8-13 the constants; then locals. */
function adamFunction(): WasmFunction {
  const [P, G, M, V, OUT_P, OUT_M, OUT_V, BYTES] = [0, 1, 2, 3, 4, 5, 6, 7];
  const I = 14;
  const [SB1, SG1, SB2, SG2, SSTEP, SEPS, SMIN, VG, VM, VV] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
  const at = (base: number) => [...op.get(base), ...op.get(I), ...op.i32Add];
  const load = (base: number) => [...at(base), ...v.load];
  const code: number[] = [];
  [SB1, SG1, SB2, SG2, SSTEP, SEPS].forEach((local, k) => code.push(...op.get(8 + k), ...v.f32x4Splat, ...op.set(local)));
  code.push(...op.f32(2 ** -126), ...v.f32x4Splat, ...op.set(SMIN));
  code.push(...op.block, ...op.loop, ...op.get(I), ...op.get(BYTES), ...op.i32GeU, ...op.brIf(1));
  code.push(...load(G), ...op.set(VG));
  // m' = b1 m + g1 g, then zero the lanes where |m'| < FLT_MIN.
  code.push(...load(M), ...op.get(SB1), ...v.f32x4Mul, ...op.get(VG), ...op.get(SG1), ...v.f32x4Mul, ...v.f32x4Add, ...op.set(VM));
  code.push(...op.get(VM), ...op.get(VM), ...v.f32x4Abs, ...op.get(SMIN), ...v.f32x4Lt, ...v.andnot, ...op.set(VM));
  // v' = b2 v + g2 g g, flushed the same way (v' >= 0).
  code.push(...load(V), ...op.get(SB2), ...v.f32x4Mul, ...op.get(VG), ...op.get(VG), ...v.f32x4Mul, ...op.get(SG2), ...v.f32x4Mul);
  code.push(...v.f32x4Add, ...op.set(VV));
  code.push(...op.get(VV), ...op.get(VV), ...op.get(SMIN), ...v.f32x4Lt, ...v.andnot, ...op.set(VV));
  code.push(...at(OUT_M), ...op.get(VM), ...v.store, ...at(OUT_V), ...op.get(VV), ...v.store);
  // p' = p - step m' / (sqrt(v') + epsHat)
  code.push(...at(OUT_P), ...load(P), ...op.get(SSTEP), ...op.get(VM), ...v.f32x4Mul);
  code.push(...op.get(VV), ...v.f32x4Sqrt, ...op.get(SEPS), ...v.f32x4Add, ...v.f32x4Div, ...v.f32x4Sub, ...v.store);
  code.push(...op.get(I), ...op.i32(16), ...op.i32Add, ...op.set(I), ...op.br(0), ...op.end, ...op.end);
  return { name: 'adam', params: [...Array(8).fill(I32), ...Array(6).fill(F32)], locals: [[1, I32], [10, V128]], code };
}

/** i8x16.shuffle bytes picking f32 lanes (0-3 from the first vector, 4-7 from the second). */
const lanes = (picks: number[]): number[] => picks.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

/**
 * The 4x4 blocks go in 16x16 tiles: a tile's 16 source rows and 16
 * destination rows stay in L1. Block by block along whole rows, the
 * destination is written with a stride of rows * 4 bytes, and strides that
 * are multiples of 2 KiB (512 rows) evict each other: 4x slower.
 */
function transposeFunction(): WasmFunction {
  const [SRC, DST, ROWS, COLS, ROWS4, COLS4] = [0, 1, 2, 3, 4, 5];
  const [I, J, SSTRIDE, DSTRIDE, BASE, I0, J0, IEND, JEND] = [6, 7, 8, 9, 10, 11, 12, 13, 14];
  const [R0, R1, R2, R3, T0, T1, T2, T3] = [15, 16, 17, 18, 19, 20, 21, 22];
  const TILE = 16;
  const code: number[] = [];
  const block: number[] = [];
  // Rows i..i+3, columns j..j+3 of src.
  block.push(...op.get(SRC), ...op.get(I), ...op.get(COLS), ...op.i32Mul, ...op.get(J), ...op.i32Add, ...op.i32(4), ...op.i32Mul);
  block.push(...op.i32Add, ...op.set(BASE));
  [R0, R1, R2, R3].forEach((r, k) => {
    block.push(...op.get(BASE), ...(k ? [...op.get(SSTRIDE), ...op.i32(k), ...op.i32Mul, ...op.i32Add] : []), ...v.load, ...op.set(r));
  });
  // Interleave pairs, then pairs of pairs: column k of the block becomes a vector.
  const mix = (a: number, b: number, picks: number[], out: number) => block.push(...op.get(a), ...op.get(b), ...v.shuffle(lanes(picks)), ...op.set(out));
  mix(R0, R1, [0, 4, 1, 5], T0);
  mix(R0, R1, [2, 6, 3, 7], T1);
  mix(R2, R3, [0, 4, 1, 5], T2);
  mix(R2, R3, [2, 6, 3, 7], T3);
  mix(T0, T2, [0, 1, 4, 5], R0);
  mix(T0, T2, [2, 3, 6, 7], R1);
  mix(T1, T3, [0, 1, 4, 5], R2);
  mix(T1, T3, [2, 3, 6, 7], R3);
  // Rows j..j+3, columns i..i+3 of dst.
  block.push(...op.get(DST), ...op.get(J), ...op.get(ROWS), ...op.i32Mul, ...op.get(I), ...op.i32Add, ...op.i32(4), ...op.i32Mul);
  block.push(...op.i32Add, ...op.set(BASE));
  [R0, R1, R2, R3].forEach((r, k) => {
    block.push(...op.get(BASE), ...(k ? [...op.get(DSTRIDE), ...op.i32(k), ...op.i32Mul, ...op.i32Add] : []), ...op.get(r), ...v.store);
  });
  /** local = min(start + TILE, limit) */
  const tileEnd = (local: number, start: number, limit: number) => [
    ...op.get(start), ...op.i32(TILE), ...op.i32Add, ...op.get(limit),
    ...op.get(start), ...op.i32(TILE), ...op.i32Add, ...op.get(limit), ...op.i32LtU, ...op.select, ...op.set(local),
  ];
  code.push(...op.get(COLS), ...op.i32(4), ...op.i32Mul, ...op.set(SSTRIDE));
  code.push(...op.get(ROWS), ...op.i32(4), ...op.i32Mul, ...op.set(DSTRIDE));
  code.push(
    ...forRange(I0, null, ROWS4, TILE, [
      ...tileEnd(IEND, I0, ROWS4),
      ...forRange(J0, null, COLS4, TILE, [
        ...tileEnd(JEND, J0, COLS4),
        ...forRange(I, I0, IEND, 4, forRange(J, J0, JEND, 4, block)),
      ]),
    ]),
  );
  return { name: 'transpose', params: Array(6).fill(I32), locals: [[9, I32], [8, V128]], code };
}

/** Floats of an output row that sparseScan sums in registers at a time (n must be a multiple). */
export const SPARSE_SLICE = 32;

/**
 * sparseScan: a product whose left operand is mostly zeros, read as `lists`
 * lists of `len` floats (list l's element q at x + l * listStride + q *
 * elemStride): out[l, :] = act(init + sum over q with x_lq != 0 of x_lq *
 * mat[q, :]), rows of n floats (n a multiple of SPARSE_SLICE), init = bias
 * (flags & 2) or 0, act = ReLU (flags & 1) or identity. The lists of x's
 * rows give act(x W + b); of its columns, x^T dy. Each list's non-zeros are
 * first gathered into `scratch` (len i32 row offsets, then len floats),
 * without branches; then each 32-float slice of the output row is summed in
 * 8 registers over them. For binarised images (~13% ones) that is ~8x fewer
 * operations than the dense product, and no list is built on the host.
 */
function sparseScanFunction(fma: boolean): WasmFunction {
  const [X, LIST_STRIDE, ELEM_STRIDE, LEN, LISTS, MAT, BIAS, OUT, N, FLAGS, SCRATCH] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [L, Q, CNT, BASE, NB, J, P, SRC, ROW, VALUES, OFFSET] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
  const VAL = 22; // f32
  const [SX, ZERO, A0] = [23, 24, 25];
  const acc = Array.from({ length: SPARSE_SLICE / 4 }, (_, q) => A0 + q);
  const { get, set } = op;
  const code: number[] = [...get(N), ...op.i32(4), ...op.i32Mul, ...set(NB), ...op.f32(0), ...v.f32x4Splat, ...set(ZERO)];
  code.push(...get(SCRATCH), ...get(LEN), ...op.i32(4), ...op.i32Mul, ...op.i32Add, ...set(VALUES));
  // Gather: every element is written at position CNT, which moves on only past a non-zero.
  const gather = [
    ...get(BASE), ...op.f32Load, ...set(VAL),
    ...get(CNT), ...op.i32(4), ...op.i32Mul, ...set(OFFSET),
    ...get(SCRATCH), ...get(OFFSET), ...op.i32Add, ...get(Q), ...get(NB), ...op.i32Mul, ...op.i32Store,
    ...get(VALUES), ...get(OFFSET), ...op.i32Add, ...get(VAL), ...op.f32Store,
    ...get(CNT), ...get(VAL), ...op.f32(0), ...op.f32Ne, ...op.i32Add, ...set(CNT),
    ...get(BASE), ...get(ELEM_STRIDE), ...op.i32Add, ...set(BASE),
  ];
  const slice: number[] = [];
  // Start from the bias slice or zeros.
  acc.forEach((a, q) => slice.push(...get(FLAGS), ...op.i32(2), ...op.i32And, ...op.ifV128, ...get(BIAS), ...get(J), ...op.i32Add, ...v.loadAt(16 * q), ...op.else, ...get(ZERO), ...op.end, ...set(a)));
  const term = [
    ...get(MAT), ...get(SCRATCH), ...get(P), ...op.i32Add, ...op.i32Load, ...op.i32Add, ...get(J), ...op.i32Add, ...set(SRC),
    ...get(VALUES), ...get(P), ...op.i32Add, ...v.load32SplatAt(0), ...set(SX),
  ];
  acc.forEach((a, q) => {
    const row = [...get(SRC), ...v.loadAt(16 * q)];
    term.push(...(fma ? [...get(SX), ...row, ...get(a), ...v.f32x4RelaxedMadd] : [...get(a), ...get(SX), ...row, ...v.f32x4Mul, ...v.f32x4Add]), ...set(a));
  });
  // P steps through the gathered entries in bytes.
  slice.push(...get(CNT), ...op.i32(4), ...op.i32Mul, ...set(OFFSET), ...forRange(P, null, OFFSET, 4, term));
  slice.push(...get(FLAGS), ...op.i32(1), ...op.i32And, ...op.ifVoid, ...acc.flatMap((a) => [...get(a), ...get(ZERO), ...v.f32x4Pmax, ...set(a)]), ...op.end);
  acc.forEach((a, q) => slice.push(...get(ROW), ...get(J), ...op.i32Add, ...get(a), ...v.storeAt(16 * q)));
  code.push(
    ...forRange(L, null, LISTS, 1, [
      ...get(X), ...get(L), ...get(LIST_STRIDE), ...op.i32Mul, ...op.i32Add, ...set(BASE),
      ...op.i32(0), ...set(CNT),
      ...forRange(Q, null, LEN, 1, gather),
      ...get(OUT), ...get(L), ...get(NB), ...op.i32Mul, ...op.i32Add, ...set(ROW),
      ...forRange(J, null, NB, SPARSE_SLICE * 4, slice),
    ]),
  );
  return { name: 'sparseScan', params: Array(11).fill(I32), locals: [[11, I32], [1, F32], [2 + acc.length, V128]], code };
}

function kernelFunctions(fma: boolean): WasmFunction[] {
  return [adamFunction(), transposeFunction(), sparseScanFunction(fma), softplusFunction(), ...elementwiseFunctions(), ...latentFunctions(), gumbelRaoFunction(WINNER_LIFT), counterNoiseFunction(false), counterNoiseFunction(true), ...gemmFunctions(fma)];
}

/** Each exported kernel's name and parameter types ('i' i32, 'f' f32), in module order. */
export const KERNEL_SIGNATURES: ReadonlyArray<{ name: string; types: string }> = kernelFunctions(false).map((f) => ({
  name: f.name,
  types: f.params.map((t) => (t === F32 ? 'f' : 'i')).join(''),
}));

/** The module's bytes, for a shared (threaded build) or plain memory; gemm kernels fused when `fma`. */
export function simdModuleBytes(sharedMemory: boolean, fma = relaxedSimdAvailable()): Uint8Array {
  return assemble(kernelFunctions(fma), sharedMemory);
}

export interface SimdKernels {
  adam(p: number, g: number, m: number, v: number, outP: number, outM: number, outV: number, bytes: number,
    b1: number, g1: number, b2: number, g2: number, step: number, epsHat: number): void;
  transpose(src: number, dst: number, rows: number, cols: number, rows4: number, cols4: number): void;
  sparseScan(x: number, listStride: number, elemStride: number, len: number, lists: number, mat: number, bias: number, out: number,
    n: number, flags: number, scratch: number): void;
  softplus(src: number, dst: number, bytes: number): void;
  expNonPositive(src: number, dst: number, bytes: number): void;
  gumbel(src: number, dst: number, bytes: number): void;
  reluGrad(dy: number, x: number, dst: number, bytes: number): void;
  bernoulliGrad(z: number, x: number, dst: number, bytes: number, scale: number): void;
  rowShift(a: number, b: number, dst: number, rows: number, k: number, scale: number): void;
  rowNormalize(e: number, dst: number, rows: number, k: number): void;
  latentGrad(e: number, dy: number, y: number, logits: number, dst: number, rows: number, k: number, invTau: number, klWeight: number): void;
  gumbelRao(logits: number, sample: number, dy: number, gumbels: number, out: number, scratch: number, rows: number, k: number,
    samples: number, r0: number, r1: number, invTau: number, outScale: number, klWeight: number): void;
  philoxUniform(out: number, block0: number, units: number, key0: number, key1: number): void;
  philoxGumbel(out: number, block0: number, units: number, key0: number, key1: number): void;
  /** The gemm kernels by name (gemm_kernels.ts). */
  [gemm: `gemm_${string}`]: GemmKernel;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: SimdKernels };
}

/** The wasm module of a tfjs backend: its memory is in one of these places. */
export interface EmscriptenMemoryHolder {
  wasmMemory?: { buffer: ArrayBufferLike };
  asm?: { memory?: { buffer: ArrayBufferLike } };
}

/** A backend's memory, and the kernel module compiled for it (a worker can instantiate it on the same memory). */
export interface KernelModule {
  memory: { buffer: ArrayBufferLike };
  module: object;
  kernels: SimdKernels;
}

const instances = new WeakMap<object, KernelModule | null>();

/**
 * The kernel module bound to a wasm backend's memory, or null where SIMD wasm
 * cannot run; compiled on first use, with fused multiply-adds when `fma`.
 */
export function kernelModuleFor(holder: EmscriptenMemoryHolder, fma?: boolean): KernelModule | null {
  // The cache first: every kernel call comes through here, and the probe compiles a module (~0.1 ms).
  if (instances.has(holder)) return instances.get(holder)!;
  fma ??= relaxedSimdAvailable();
  let result: KernelModule | null = null;
  const memory = holder.wasmMemory ?? holder.asm?.memory;
  if (memory) {
    try {
      const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
      const module = new api.Module(simdModuleBytes(shared, fma));
      result = { memory, module, kernels: new api.Instance(module, { env: { memory } }).exports };
    } catch {
      result = null; // no wasm SIMD here: callers keep their JS loops
    }
  }
  instances.set(holder, result);
  return result;
}

/** The kernels bound to a wasm backend's memory, or null where SIMD wasm cannot run. */
export function simdKernelsFor(holder: EmscriptenMemoryHolder): SimdKernels | null {
  return kernelModuleFor(holder)?.kernels ?? null;
}
