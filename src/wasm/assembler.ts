/**
 * Just enough of the WebAssembly binary format to assemble the few small
 * SIMD functions of simd_kernels.ts at run time: readable instructions in
 * the source instead of an opaque binary. Spec: "Binary Format" of the
 * WebAssembly core specification and its SIMD opcode table.
 */

/** Unsigned LEB128, as the format encodes sizes, indices and opcodes. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Core instructions used here. */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  ifVoid: [0x04, 0x40],
  /** if with a v128 result (both arms leave one). */
  ifV128: [0x04, 0x7b],
  /** if with an f32 result. */
  ifF32: [0x04, 0x7d],
  else: [0x05],
  i32And: [0x71],
  i32Add: [0x6a],
  /** f32.load with alignment hint 4 bytes, offset 0. */
  f32Load: [0x2a, 0x02, 0x00],
  /** i32.load with alignment hint 4 bytes, offset 0. */
  i32Load: [0x28, 0x02, 0x00],
  i32LoadAt: (offset: number) => [0x28, 0x02, ...uleb(offset)],
  /** i32.store / f32.store, alignment hint 4 bytes, offset 0. */
  i32Store: [0x36, 0x02, 0x00],
  f32Store: [0x38, 0x02, 0x00],
  i32Ne: [0x47],
  f32Ne: [0x5c],
  i32Mul: [0x6c],
  i32Sub: [0x6b],
  i32ShrU: [0x76],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32GeU: [0x4f],
  i32LtU: [0x49],
  select: [0x1b],
  f32: (value: number) => [0x43, ...new Uint8Array(Float32Array.of(value).buffer)],
  /** f32.load / f32.store at a constant byte offset, alignment hint 4 bytes. */
  f32LoadAt: (offset: number) => [0x2a, 0x02, ...uleb(offset)],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Max: [0x97],
  i32Eqz: [0x45],
};

/** Signed LEB128 (i32.const immediates). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** SIMD instructions: prefix 0xfd, then the opcode as LEB128. */
const simd = (code: number): number[] => [0xfd, ...uleb(code)];
/** memarg: alignment hint 2^0 (tfjs's buffers are only 8-byte aligned), offset 0. */
const MEMARG = [0x00, 0x00];
export const v = {
  load: [...simd(0x00), ...MEMARG],
  store: [...simd(0x0b), ...MEMARG],
  /** v128.load / v128.store at a constant byte offset from the address. */
  loadAt: (offset: number) => [...simd(0x00), 0x00, ...uleb(offset)],
  storeAt: (offset: number) => [...simd(0x0b), 0x00, ...uleb(offset)],
  /** i8x16.shuffle of two vectors by 16 byte indices (0-15 first, 16-31 second). */
  shuffle: (bytes: number[]) => [...simd(0x0d), ...bytes],
  f32x4Splat: simd(0x13),
  /** v128.const of four equal floats. */
  f32x4Const: (x: number) => [...simd(0x0c), ...Array.from({ length: 4 }, () => [...new Uint8Array(Float32Array.of(x).buffer)]).flat()],
  f32x4Lt: simd(0x43),
  f32x4Gt: simd(0x44),
  /** v128.bitselect(a, b, mask): the bits of a where mask is 1, of b elsewhere. */
  bitselect: simd(0x52),
  andnot: simd(0x4f),
  f32x4Abs: simd(0xe0),
  f32x4Sqrt: simd(0xe3),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  f32x4Max: simd(0xe9),
  /** f32x4.pmax(a, b) = a < b ? b : a: one instruction (f32x4.max's NaN rules cost several); NaN in a is kept. */
  f32x4Pmax: simd(0xeb),
  /** v128.load32_splat at a constant byte offset: one float in all four lanes. */
  load32SplatAt: (offset: number) => [...simd(0x09), 0x00, ...uleb(offset)],
  /** f32x4.relaxed_madd (relaxed SIMD): a * b + c, fused where the CPU has FMA. */
  f32x4RelaxedMadd: simd(0x105),
  f32x4ExtractLane: (lane: number) => [...simd(0x1f), lane],
  /** v128.load32_lane / v128.store32_lane: one float of a vector from or to its own address ([addr, vector] on the stack). */
  load32Lane: (lane: number) => [...simd(0x56), 0x02, 0x00, lane],
  store32Lane: (lane: number) => [...simd(0x5a), 0x02, 0x00, lane],
  f32x4Eq: simd(0x41),
  f32x4Neg: simd(0xe1),
  f32x4Ge: simd(0x46),
  f32x4Nearest: simd(0x6a),
  and: simd(0x4e),
  or: simd(0x50),
  /** v128.const of four equal 32-bit integers. */
  i32x4Const: (x: number) => [...simd(0x0c), ...Array.from({ length: 4 }, () => [...new Uint8Array(Int32Array.of(x).buffer)]).flat()],
  i32x4Splat: simd(0x11),
  i32x4Add: simd(0xae),
  i32x4Shl: simd(0xab),
  i32x4ShrU: simd(0xad),
  i32x4Sub: simd(0xb1),
  f32x4ConvertI32x4S: simd(0xfa),
  i32x4TruncSatF32x4S: simd(0xf8),
  xor: simd(0x51),
  /** v128.const of four 32-bit integers, lane 0 first. */
  i32x4ConstLanes: (lanes: number[]) => [...simd(0x0c), ...new Uint8Array(Int32Array.from(lanes).buffer)],
  /** i64x2.extmul_low_i32x4_u / extmul_high_i32x4_u: the exact 64-bit products of lanes 0-1 (2-3) of two u32 vectors. */
  i64x2ExtmulLowI32x4U: simd(0xde),
  i64x2ExtmulHighI32x4U: simd(0xdf),
};

/** for (counter = start ?? 0; counter < limit; counter += step) body; all locals. */
export function forRange(counter: number, start: number | null, limit: number, step: number, body: number[]): number[] {
  return [
    ...(start === null ? op.i32(0) : op.get(start)),
    ...op.set(counter),
    ...op.block,
    ...op.loop,
    ...op.get(counter),
    ...op.get(limit),
    ...op.i32GeU,
    ...op.brIf(1),
    ...body,
    ...op.get(counter),
    ...op.i32(step),
    ...op.i32Add,
    ...op.set(counter),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/**
 * f32x4 constants kept in locals from `firstLocal` on, set once before a
 * loop: V8 builds a v128.const from immediates each time it is used, which
 * costs more than the arithmetic. `get(x)` reads x's local (allocating it);
 * `setup()` is the code that fills them all, `count` how many there are.
 */
export function constantLocals(firstLocal: number): { get(x: number): number[]; setup(): number[]; readonly count: number } {
  const locals = new Map<string, { value: number; local: number }>(); // keyed by the float32 bits: 0 and -0 differ
  return {
    get(x: number) {
      const key = Array.from(new Uint8Array(Float32Array.of(x).buffer)).join();
      if (!locals.has(key)) locals.set(key, { value: x, local: firstLocal + locals.size });
      return op.get(locals.get(key)!.local);
    },
    setup: () => [...locals.values()].flatMap(({ value, local }) => [...v.f32x4Const(value), ...op.set(local)]),
    get count() {
      return locals.size;
    },
  };
}

export interface WasmFunction {
  name: string;
  params: number[];
  /** Result types (default none). */
  results?: number[];
  /** Extra locals after the parameters, as [count, type] runs. */
  locals: Array<[number, number]>;
  /** The instructions, without the final `end`. */
  code: number[];
}

/** A module importing env.memory (shared: as the threaded build's is; null: no memory) and exporting the functions. */
export function assemble(functions: WasmFunction[], sharedMemory: boolean | null): Uint8Array {
  const types = functions.map((f) => [0x60, ...uleb(f.params.length), ...f.params, ...vec((f.results ?? []).map((t) => [t]))]);
  // A shared memory must declare a maximum: 65536 pages, all wasm32 allows, admits any.
  const limits = sharedMemory ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00];
  const bodies = functions.map((f) => {
    const body = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.code, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...(sharedMemory === null ? [] : section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]]))),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}
