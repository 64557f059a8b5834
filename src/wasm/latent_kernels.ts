/**
 * Row loops of the latent block (step_kernels.ts) over [rows, k] float32
 * arrays, rows of k categories, assembled into the kernel module of
 * simd_kernels.ts. Scalar wasm: k is small (10) and need not be a multiple
 * of 4; the exponentials between them go through the SIMD expNonPositive.
 *
 * - rowShift(a, b, dst, rows, k, scale): dst = s - max_row(s), s = (a + b) scale
 *   (b = 0: s = a scale).
 * - rowNormalize(e, dst, rows, k): dst = e / sum_row(e).
 * - latentGrad(e, dy, y, logits, dst, rows, k, invTau, klWeight), e = exp(logits - max):
 *   dst = y (dy - sum_row(dy y)) invTau + klWeight q (logits - sum_row(q logits)), q = e / sum_row(e).
 *   The second term is q (log q - sum_row(q log q)), the KL's gradient, with log q's
 *   shared log-sum-exp cancelled out.
 */
import { F32, I32, forRange, op, type WasmFunction } from './assembler.js';

const { get, set } = op;

/** local = mem[base + j] as f32, j the byte index. */
const load = (base: number, j: number) => [...get(base), ...get(j), ...op.i32Add, ...op.f32Load];
/** mem[base + j] = value (the value's code). */
const store = (base: number, j: number, value: number[]) => [...get(base), ...get(j), ...op.i32Add, ...value, ...op.f32Store];
/** acc = acc + value */
const accumulate = (acc: number, value: number[]) => [...get(acc), ...value, ...op.f32Add, ...set(acc)];

/**
 * for (row = 0; row < rows; row++) body, with `offset` = row * k * 4 bytes,
 * `rowBytes` = k * 4 set first. Locals ROW, OFFSET, ROW_BYTES and J are given.
 */
function rowLoop(rows: number, k: number, [row, offset, rowBytes]: number[], body: number[]): number[] {
  return [
    ...get(k), ...op.i32(4), ...op.i32Mul, ...set(rowBytes),
    ...forRange(row, null, rows, 1, [
      ...get(row), ...get(rowBytes), ...op.i32Mul, ...set(offset),
      ...body,
    ]),
  ];
}

/** for (j = offset; j < offset + rowBytes; j += 4) body */
function eachInRow(j: number, offset: number, rowBytes: number, end: number, body: number[]): number[] {
  return [...get(offset), ...get(rowBytes), ...op.i32Add, ...set(end), ...forRange(j, offset, end, 4, body)];
}

function rowShiftFunction(): WasmFunction {
  const [A, B, DST, ROWS, K, SCALE] = [0, 1, 2, 3, 4, 5];
  const [ROW, OFFSET, ROW_BYTES, J, END] = [6, 7, 8, 9, 10];
  const [MAX, S] = [11, 12];
  // s = (a[j] + (b ? b[j] : 0)) * scale
  const s = [
    ...load(A, J), ...get(B), ...op.ifF32, ...load(B, J), ...op.else, ...op.f32(0), ...op.end, ...op.f32Add,
    ...get(SCALE), ...op.f32Mul,
  ];
  const body = [
    ...op.f32(-Infinity), ...set(MAX),
    ...eachInRow(J, OFFSET, ROW_BYTES, END, [...s, ...set(S), ...store(DST, J, get(S)), ...get(MAX), ...get(S), ...op.f32Max, ...set(MAX)]),
    ...eachInRow(J, OFFSET, ROW_BYTES, END, store(DST, J, [...load(DST, J), ...get(MAX), ...op.f32Sub])),
  ];
  return { name: 'rowShift', params: [I32, I32, I32, I32, I32, F32], locals: [[5, I32], [2, F32]], code: rowLoop(ROWS, K, [ROW, OFFSET, ROW_BYTES], body) };
}

function rowNormalizeFunction(): WasmFunction {
  const [E, DST, ROWS, K] = [0, 1, 2, 3];
  const [ROW, OFFSET, ROW_BYTES, J, END] = [4, 5, 6, 7, 8];
  const SUM = 9;
  const body = [
    ...op.f32(0), ...set(SUM),
    ...eachInRow(J, OFFSET, ROW_BYTES, END, accumulate(SUM, load(E, J))),
    ...eachInRow(J, OFFSET, ROW_BYTES, END, store(DST, J, [...load(E, J), ...get(SUM), ...op.f32Div])),
  ];
  return { name: 'rowNormalize', params: [I32, I32, I32, I32], locals: [[5, I32], [1, F32]], code: rowLoop(ROWS, K, [ROW, OFFSET, ROW_BYTES], body) };
}

function latentGradFunction(): WasmFunction {
  const [E, DY, Y, L, DST, ROWS, K, INV_TAU, KL_WEIGHT] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [ROW, OFFSET, ROW_BYTES, J, END] = [9, 10, 11, 12, 13];
  const [SUM, EL, DYY] = [14, 15, 16];
  const body = [
    ...op.f32(0), ...set(SUM), ...op.f32(0), ...set(EL), ...op.f32(0), ...set(DYY),
    ...eachInRow(J, OFFSET, ROW_BYTES, END, [
      ...accumulate(SUM, load(E, J)),
      ...accumulate(EL, [...load(E, J), ...load(L, J), ...op.f32Mul]),
      ...accumulate(DYY, [...load(DY, J), ...load(Y, J), ...op.f32Mul]),
    ]),
    // EL = sum_row(q logits) = sum(e logits) / sum(e)
    ...get(EL), ...get(SUM), ...op.f32Div, ...set(EL),
    ...eachInRow(J, OFFSET, ROW_BYTES, END, store(DST, J, [
      ...load(Y, J), ...load(DY, J), ...get(DYY), ...op.f32Sub, ...op.f32Mul, ...get(INV_TAU), ...op.f32Mul,
      ...get(KL_WEIGHT), ...load(E, J), ...get(SUM), ...op.f32Div, ...op.f32Mul, ...load(L, J), ...get(EL), ...op.f32Sub, ...op.f32Mul,
      ...op.f32Add,
    ])),
  ];
  return {
    name: 'latentGrad',
    params: [I32, I32, I32, I32, I32, I32, I32, F32, F32],
    locals: [[5, I32], [3, F32]],
    code: rowLoop(ROWS, K, [ROW, OFFSET, ROW_BYTES], body),
  };
}

export function latentFunctions(): WasmFunction[] {
  return [rowShiftFunction(), rowNormalizeFunction(), latentGradFunction()];
}
