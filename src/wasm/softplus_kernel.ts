/**
 * The SIMD loop of the Softplus override (softplus.ts), assembled at run
 * time (assembler.ts) into the kernel module of simd_kernels.ts.
 */
import { I32, V128, constantLocals, forRange, op, v, type WasmFunction } from './assembler.js';
import { expNonPositive, horner } from './simd_math.js';

/** v128 locals per vector of a turn. */
const LOCALS = 8;

/** Vectors of 4 floats per turn of the softplus loop. */
export const SOFTPLUS_UNROLL = 2;

/**
 * softplus(src, dst, bytes): dst = log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
 * for the floats of src, 4 * SOFTPLUS_UNROLL at a time (bytes a multiple of
 * 16 * SOFTPLUS_UNROLL). e^t (t <= 0)
 * by Cody-Waite reduction t = n ln2 + r and Cephes' expf polynomial on r,
 * scaled by 2^n through the exponent bits; where e^t < FLT_MIN (z < -87.3)
 * it is taken as 0. log1p(e), 0 <= e <= 1, as 2 atanh(s) with s = e / (2 + e)
 * <= 1/3: the odd series to s^15 (next term < 2e-9). About 3 ulp against
 * float64; tfjs's kernel calls libm's exp and log per float (~27 ns each).
 */
export function softplusFunction(): WasmFunction {
  const [SRC, DST, BYTES] = [0, 1, 2];
  const I = 3;
  const { get, set } = op;
  const constants = constantLocals(4 + LOCALS * SOFTPLUS_UNROLL);
  const f = constants.get;
  // Two vectors per turn, in separate locals: each is a chain of ~40 dependent
  // operations, and two chains keep the CPU busy while one waits.
  const body: number[] = [];
  for (let u = 0; u < SOFTPLUS_UNROLL; u++) {
    const [Z, T, N, R, P, E, S, W] = Array.from({ length: LOCALS }, (_, j) => 4 + LOCALS * u + j);
    body.push(...get(SRC), ...get(I), ...op.i32Add, ...v.loadAt(16 * u), ...set(Z));
    body.push(...get(Z), ...f(-0), ...v.or, ...set(T)); // -|z|: the sign bit set
    body.push(...expNonPositive(f, T, E, [N, R, P]));
    // log1p(e) = 2 s (1 + w/3 + w^2/5 + ... + w^7/15), s = e / (2 + e), w = s^2
    body.push(...get(E), ...get(E), ...f(2), ...v.f32x4Add, ...v.f32x4Div, ...set(S));
    body.push(...get(S), ...get(S), ...v.f32x4Mul, ...set(W));
    body.push(...horner(f, P, W, [1 / 15, 1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]));
    body.push(...get(DST), ...get(I), ...op.i32Add);
    body.push(...get(Z), ...f(0), ...v.f32x4Pmax, ...get(P), ...get(S), ...f(2), ...v.f32x4Mul, ...v.f32x4Mul, ...v.f32x4Add, ...v.storeAt(16 * u));
  }
  const code = [...constants.setup(), ...forRange(I, null, BYTES, 16 * SOFTPLUS_UNROLL, body)];
  return { name: 'softplus', params: [I32, I32, I32], locals: [[1, I32], [LOCALS * SOFTPLUS_UNROLL + constants.count, V128]], code };
}
