/**
 * Element-wise SIMD loops of the latent block and the backward pass,
 * assembled into the kernel module of simd_kernels.ts. Each takes byte
 * offsets into the heap and a byte count, a multiple of 16 * UNROLL; the
 * caller does the last floats.
 *
 * - expNonPositive(src, dst, bytes): dst = e^src for src <= 0 (below -87.3: 0).
 * - gumbel(src, dst, bytes): dst = -log(-log(src)), Gumbel(0, 1) noise from
 *   uniforms on the open (0, 1).
 * - reluGrad(dy, x, dst, bytes): dst = x > 0 ? dy : 0, the gradient through a
 *   ReLU whose output is x.
 * - bernoulliGrad(z, x, dst, bytes, scale): dst = (sigmoid(z) - x) scale, the
 *   gradient of the Bernoulli negative log-likelihood with respect to logits z.
 *
 * tfjs-wasm computes exp and log with libm, one float at a time (~27 ns
 * each), and each of its ops is a separate pass with its own allocation.
 */
import { F32, I32, V128, constantLocals, forRange, op, v, type WasmFunction } from './assembler.js';
import { expNonPositive, logPositive } from './simd_math.js';

/** Vectors of 4 floats per turn: two independent chains keep the CPU busy while one waits. */
export const ELEMENTWISE_UNROLL = 2;

type Constant = (x: number) => number[];

/**
 * A loop over `inputs` source arrays and one destination (the parameters, then
 * the byte count, then `scalars` f32 parameters): `vector(f, sources, scratch,
 * scalars)` leaves one result vector on the stack from the input vectors in
 * locals `sources`, using `scratch` locals and the scalars splatted in locals.
 */
function elementwise(
  name: string,
  inputs: number,
  scratchLocals: number,
  vector: (f: Constant, sources: number[], scratch: number[], scalars: number[]) => number[],
  scalars = 0,
): WasmFunction {
  const [DST, BYTES, I] = [inputs, inputs + 1, inputs + 2 + scalars];
  const perVector = inputs + scratchLocals;
  const splats = Array.from({ length: scalars }, (_, j) => I + 1 + j);
  const first = I + 1 + scalars;
  const constants = constantLocals(first + perVector * ELEMENTWISE_UNROLL);
  const { get, set } = op;
  const setup = splats.flatMap((local, j) => [...get(inputs + 2 + j), ...v.f32x4Splat, ...set(local)]);
  const body: number[] = [];
  for (let u = 0; u < ELEMENTWISE_UNROLL; u++) {
    const locals = Array.from({ length: perVector }, (_, j) => first + perVector * u + j);
    const sources = locals.slice(0, inputs);
    sources.forEach((local, s) => body.push(...get(s), ...get(I), ...op.i32Add, ...v.loadAt(16 * u), ...set(local)));
    const result = vector(constants.get, sources, locals.slice(inputs), splats);
    body.push(...get(DST), ...get(I), ...op.i32Add, ...result, ...v.storeAt(16 * u));
  }
  const code = [...setup, ...constants.setup(), ...forRange(I, null, BYTES, 16 * ELEMENTWISE_UNROLL, body)];
  const params = [...Array(inputs + 2).fill(I32), ...Array(scalars).fill(F32)];
  return { name, params, locals: [[1, I32], [scalars + perVector * ELEMENTWISE_UNROLL + constants.count, V128]], code };
}

export function elementwiseFunctions(): WasmFunction[] {
  const { get, set } = op;
  return [
    elementwise('expNonPositive', 1, 4, (f, [t], [out, ...scratch]) => [...expNonPositive(f, t, out, scratch), ...get(out)]),
    elementwise('gumbel', 1, 5, (f, [u], [l, ...scratch]) => [
      // l = log u < 0; then log(-l), negated.
      ...logPositive(f, u, l, scratch), ...get(l), ...v.f32x4Neg, ...set(u),
      ...logPositive(f, u, l, scratch), ...get(l), ...v.f32x4Neg,
    ]),
    elementwise('reluGrad', 2, 0, (f, [dy, x]) => [...get(dy), ...get(x), ...f(0), ...v.f32x4Gt, ...v.and]),
    elementwise(
      'bernoulliGrad',
      2,
      5,
      (f, [z, x], [t, e, ...scratch], [scale]) => [
        // e = e^-|z|; sigmoid(z) = 1 / (1 + e) for z >= 0, e / (1 + e) below: neither overflows.
        ...get(z), ...f(-0), ...v.or, ...set(t),
        ...expNonPositive(f, t, e, scratch),
        ...f(1), ...f(1), ...get(e), ...v.f32x4Add, ...v.f32x4Div, ...set(t),
        ...get(e), ...get(t), ...v.f32x4Mul, ...get(t), ...get(z), ...f(0), ...v.f32x4Lt, ...v.bitselect,
        ...get(x), ...v.f32x4Sub, ...get(scale), ...v.f32x4Mul,
      ],
      1,
    ),
  ];
}
