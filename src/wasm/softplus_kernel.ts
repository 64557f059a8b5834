/**
 * The SIMD loop of the Softplus override (softplus.ts), assembled at run
 * time (assembler.ts) into the kernel module of simd_kernels.ts.
 */
import { I32, V128, forRange, op, v, type WasmFunction } from './assembler.js';

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
  // Constants live in locals set once before the loop: V8 builds a v128.const
  // from immediates each time it is used, which cost more than the arithmetic.
  const constants = new Map<string, number>(); // keyed by the float32 bits: 0 and -0 differ
  const firstConstant = 4 + 9 * SOFTPLUS_UNROLL;
  const f = (x: number) => {
    const key = Float32Array.of(x).join() + (Object.is(x, -0) ? '-' : '');
    if (!constants.has(key)) constants.set(key, firstConstant + constants.size);
    return get(constants.get(key)!);
  };
  // Two vectors per turn, in separate locals: each is a chain of ~40 dependent
  // operations, and two chains keep the CPU busy while one waits.
  const body: number[] = [];
  for (let u = 0; u < SOFTPLUS_UNROLL; u++) {
    const [Z, T, N, R, P, E, S, W, MASK] = Array.from({ length: 9 }, (_, j) => 4 + 9 * u + j);
    /** acc = acc * x + c over the coefficients, highest first. */
    const horner = (acc: number, x: number, coefficients: number[]) => {
      const code = [...f(coefficients[0]), ...set(acc)];
      for (const c of coefficients.slice(1)) code.push(...get(acc), ...get(x), ...v.f32x4Mul, ...f(c), ...v.f32x4Add, ...set(acc));
      return code;
    };
    body.push(...get(SRC), ...get(I), ...op.i32Add, ...v.loadAt(16 * u), ...set(Z));
    body.push(...get(Z), ...f(-0), ...v.or, ...set(T)); // -|z|: the sign bit set
    body.push(...get(T), ...f(-87.3), ...v.f32x4Ge, ...set(MASK));
    body.push(...get(T), ...f(-87.3), ...v.f32x4Pmax, ...set(T));
    // n = round(t / ln2); r = t - n ln2 in two parts (ln2 = 0.693359375 - 2.12194440e-4)
    body.push(...get(T), ...f(Math.LOG2E), ...v.f32x4Mul, ...v.f32x4Nearest, ...set(N));
    body.push(...get(T), ...get(N), ...f(0.693359375), ...v.f32x4Mul, ...v.f32x4Sub, ...get(N), ...f(-2.12194440e-4), ...v.f32x4Mul, ...v.f32x4Sub, ...set(R));
    // e^r = 1 + r + r^2 p(r)
    body.push(...horner(P, R, [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]));
    body.push(...get(P), ...get(R), ...get(R), ...v.f32x4Mul, ...v.f32x4Mul, ...get(R), ...v.f32x4Add, ...f(1), ...v.f32x4Add, ...set(P));
    // 2^n from the exponent bits, (n + 127) << 23 (n >= -126 after the clamp): the float n + 127 + 2^23
    // holds n + 127 in its low mantissa bits, and the shift moves them into the exponent, the rest out.
    body.push(...get(N), ...f(127 + 2 ** 23), ...v.f32x4Add, ...op.i32(23), ...v.i32x4Shl);
    body.push(...get(P), ...v.f32x4Mul, ...get(MASK), ...v.and, ...set(E));
    // log1p(e) = 2 s (1 + w/3 + w^2/5 + ... + w^7/15), s = e / (2 + e), w = s^2
    body.push(...get(E), ...get(E), ...f(2), ...v.f32x4Add, ...v.f32x4Div, ...set(S));
    body.push(...get(S), ...get(S), ...v.f32x4Mul, ...set(W));
    body.push(...horner(P, W, [1 / 15, 1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]));
    body.push(...get(DST), ...get(I), ...op.i32Add);
    body.push(...get(Z), ...f(0), ...v.f32x4Pmax, ...get(P), ...get(S), ...f(2), ...v.f32x4Mul, ...v.f32x4Mul, ...v.f32x4Add, ...v.storeAt(16 * u));
  }
  const setup = [...constants].flatMap(([key, local]) => [...v.f32x4Const(key.endsWith('-') ? -0 : Number(key)), ...set(local)]);
  const code = [...setup, ...forRange(I, null, BYTES, 16 * SOFTPLUS_UNROLL, body)];
  return { name: 'softplus', params: [I32, I32, I32], locals: [[1, I32], [9 * SOFTPLUS_UNROLL + constants.size, V128]], code };
}
