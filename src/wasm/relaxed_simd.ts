/**
 * Whether the engine runs relaxed SIMD (for the gemm kernels' fused
 * multiply-adds), and turning it on where Node has it behind a flag.
 */
import { setFlagsFromString } from 'node:v8';
import { F32, assemble, op, v, type WasmFunction } from './assembler.js';

/**
 * A module whose function returns f32x4.relaxed_madd(2, 3, 1) lane 0: 7 where
 * the engine has relaxed SIMD with the final opcodes.
 */
function relaxedMaddProbe(): Uint8Array {
  const splat = (x: number) => [...op.f32(x), ...v.f32x4Splat];
  const code = [...splat(2), ...splat(3), ...splat(1), ...v.f32x4RelaxedMadd, ...v.f32x4ExtractLane(0)];
  const probe: WasmFunction = { name: 'probe', params: [], results: [F32], locals: [], code };
  return assemble([probe], null);
}

interface ProbeApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { probe(): number } };
}

/** A yes, once seen, holds for the process (the flag is never turned off); a no is asked again, since enableRelaxedSimd may change it. */
let relaxedSimdSeen = false;

/** Whether this engine runs relaxed SIMD (f32x4.relaxed_madd): Node 22+, or 20 with --experimental-wasm-relaxed-simd. */
export function relaxedSimdAvailable(): boolean {
  if (relaxedSimdSeen) return true;
  try {
    const api = (globalThis as unknown as { WebAssembly: ProbeApi }).WebAssembly;
    relaxedSimdSeen = new api.Instance(new api.Module(relaxedMaddProbe()), {}).exports.probe() === 7;
  } catch {
    relaxedSimdSeen = false;
  }
  return relaxedSimdSeen;
}

/**
 * Turns on relaxed SIMD where the engine has it behind a flag (Node 20's V8
 * 11.3; Node 21+ ships it), for the gemm kernels' fused multiply-add: ~10%
 * off a training step. The flag only lets more wasm modules validate; it is
 * set once, before any module of ours is compiled. Returns whether relaxed
 * SIMD is available afterwards.
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdAvailable()) return true;
  if (!process.versions.node.startsWith('20.')) return false;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return relaxedSimdAvailable();
}
