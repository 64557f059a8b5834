/**
 * e^t and log(x) on four floats at a time, as instruction sequences for the
 * SIMD loops (softplus_kernel.ts, elementwise_kernels.ts). Each works on
 * v128 locals; `f` reads a constant kept in a local (constantLocals).
 */
import { op, v } from './assembler.js';

type Constant = (x: number) => number[];

/** The float whose bits are the 32-bit integer i (for masks held as f32x4 constants). */
export const bitsAsFloat = (i: number): number => new Float32Array(Int32Array.of(i).buffer)[0];

/** acc = ((c0 x + c1) x + c2) ... over the coefficients, highest power first. */
export function horner(f: Constant, acc: number, x: number, coefficients: number[]): number[] {
  const { get, set } = op;
  const code = [...f(coefficients[0]), ...set(acc)];
  for (const c of coefficients.slice(1)) code.push(...get(acc), ...get(x), ...v.f32x4Mul, ...f(c), ...v.f32x4Add, ...set(acc));
  return code;
}

/**
 * out = e^t for t <= 0 (NaN stays NaN; lanes below -87.3, where e^t < FLT_MIN,
 * give 0). Cody-Waite reduction t = n ln2 + r, |r| <= ln2 / 2, Cephes' expf
 * polynomial on r, times 2^n built in the exponent bits. Scratch: n, r, p.
 * About 2 ulp against float64. `t` is clamped in place.
 */
export function expNonPositive(f: Constant, t: number, out: number, [n, r, p]: number[]): number[] {
  const { get, set } = op;
  const code: number[] = [];
  // The lanes to zero (NaN compares false and is kept), then t >= -87.3 so that 2^n stays normal.
  code.push(...get(t), ...f(-87.3), ...v.f32x4Lt, ...set(out));
  code.push(...get(t), ...f(-87.3), ...v.f32x4Pmax, ...set(t));
  // n = round(t / ln2); r = t - n ln2 in two parts (ln2 = 0.693359375 - 2.12194440e-4)
  code.push(...get(t), ...f(Math.LOG2E), ...v.f32x4Mul, ...v.f32x4Nearest, ...set(n));
  code.push(...get(t), ...get(n), ...f(0.693359375), ...v.f32x4Mul, ...v.f32x4Sub, ...get(n), ...f(-2.1219444e-4), ...v.f32x4Mul, ...v.f32x4Sub, ...set(r));
  // e^r = 1 + r + r^2 p(r)
  code.push(...horner(f, p, r, [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]));
  code.push(...get(p), ...get(r), ...get(r), ...v.f32x4Mul, ...v.f32x4Mul, ...get(r), ...v.f32x4Add, ...f(1), ...v.f32x4Add, ...set(p));
  // 2^n from the exponent bits, (n + 127) << 23 (-126 <= n <= 0): the float n + 127 + 2^23
  // holds n + 127 in its low mantissa bits, and the shift moves them into the exponent, the rest out.
  code.push(...get(n), ...f(127 + 2 ** 23), ...v.f32x4Add, ...op.i32(23), ...v.i32x4Shl);
  code.push(...get(p), ...v.f32x4Mul, ...get(out), ...v.andnot, ...set(out));
  return code;
}

/**
 * out = log(x) for positive normal x (0, subnormals, negatives and infinities
 * are not handled). x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s),
 * s = (m - 1) / (m + 1), |s| <= 0.172: the odd series to s^11 (next term
 * < 3e-10 relative). About 2 ulp against float64. Scratch: e, m, s, w.
 */
export function logPositive(f: Constant, x: number, out: number, [e, m, s, w]: number[]): number[] {
  const { get, set } = op;
  const code: number[] = [];
  // e = biased exponent - 127; m = mantissa with exponent 0, in [1, 2)
  code.push(...get(x), ...op.i32(23), ...v.i32x4ShrU, ...v.f32x4ConvertI32x4S, ...f(127), ...v.f32x4Sub, ...set(e));
  code.push(...get(x), ...f(bitsAsFloat(0x007fffff)), ...v.and, ...f(1), ...v.or, ...set(m));
  // Above sqrt(2): m / 2 and e + 1, so that log m is small either way.
  code.push(...get(m), ...f(Math.SQRT2), ...v.f32x4Gt, ...set(w));
  code.push(...get(m), ...f(0.5), ...v.f32x4Mul, ...get(m), ...get(w), ...v.bitselect, ...set(m));
  code.push(...get(e), ...f(1), ...v.f32x4Add, ...get(e), ...get(w), ...v.bitselect, ...set(e));
  code.push(...get(m), ...f(1), ...v.f32x4Sub, ...get(m), ...f(1), ...v.f32x4Add, ...v.f32x4Div, ...set(s));
  code.push(...get(s), ...get(s), ...v.f32x4Mul, ...set(w));
  code.push(...horner(f, out, w, [1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]));
  // log x = e ln2 + 2 s p(w), ln2 in two parts so that e ln2's rounding does not swamp small results.
  code.push(...get(e), ...f(0.693359375), ...v.f32x4Mul);
  code.push(...get(e), ...f(-2.1219444e-4), ...v.f32x4Mul, ...get(s), ...get(out), ...v.f32x4Mul, ...f(2), ...v.f32x4Mul, ...v.f32x4Add);
  code.push(...v.f32x4Add, ...set(out));
  return code;
}
