/**
 * The wasm kernel of the counter-based noise op (COUNTER_GUMBEL_KERNEL,
 * src/ops/gumbel_noise.ts): the Philox stream drawn and transformed by a SIMD
 * loop (counter_gumbel_kernel.ts) straight into the output tensor, split
 * between the kernel threads. Every element is a pure function of its index
 * and the key, so any split gives the same bits. The plain op draws the
 * uniforms on the host and uploads them; here nothing crosses but the key.
 *
 * The last size % COUNTER_NOISE_FLOATS elements are drawn by the same loop
 * into a scratch unit and copied; where the engine has no SIMD wasm, the
 * host stream (philoxUniforms) and float64 logs fill the output instead.
 */
import * as tf from '@tensorflow/tfjs';
import { COUNTER_GUMBEL_KERNEL, type CounterNoiseAttrs } from '../ops/gumbel_noise.js';
import { philoxUniforms } from '../ops/philox.js';
import { heapOffset as offset, type KernelArgs, type WasmBackendLike } from './backend_like.js';
import { COUNTER_NOISE_FLOATS } from './counter_gumbel_kernel.js';
import { kernelCall, kernelThreads, runShares, type KernelCall } from './kernel_pool.js';
import { simdKernelsFor } from './simd_kernels.js';

/**
 * Units (COUNTER_NOISE_FLOATS floats) a thread is given at least: one step's noise of
 * the default VAE (20,000 values) stays on the calling thread, where waking a
 * worker would cost about as much as it saves; Gumbel-Rao's k copies split.
 */
const MIN_UNITS_PER_THREAD = 1024;

/**
 * The stream's first out.length values on the host: the open uniforms, or
 * -log(-log u) in float64 rounded to float32 (what the plain op computes on a
 * backend with a correctly rounded log).
 */
export function counterNoiseOnHost(out: Float32Array, key: readonly [number, number], uniform: boolean): void {
  const u = philoxUniforms(out.length, key);
  for (let i = 0; i < out.length; i++) out[i] = uniform ? u[i] : -Math.log(-Math.log(u[i]));
}

/**
 * The calls that draw `units` units from unit `first` on, into `at` (a byte
 * offset), split into at most `threads` shares of whole units.
 */
function shareCalls(name: string, at: number, first: number, units: number, threads: number, key: [number, number]): KernelCall[][] {
  const n = Math.max(1, Math.min(threads, Math.floor(units / MIN_UNITS_PER_THREAD)));
  return Array.from({ length: n }, (_, t) => {
    const [u0, u1] = [t, t + 1].map((s) => Math.floor((units * s) / n));
    const block0 = ((first + u0) * COUNTER_NOISE_FLOATS) / 4;
    return u1 > u0 ? [kernelCall(name, at + 4 * COUNTER_NOISE_FLOATS * u0, block0, u1 - u0, ...key)] : [];
  });
}

function counterGumbelWasm({ attrs, backend }: KernelArgs): tf.TensorInfo {
  const { key0, key1, shape, uniform } = attrs as unknown as CounterNoiseAttrs;
  const key: [number, number] = [key0 >>> 0, key1 >>> 0];
  const b = backend as unknown as WasmBackendLike;
  const out = b.makeOutput(shape, 'float32');
  const size = tf.util.sizeFromShape(shape);
  if (!simdKernelsFor(b.wasm)) {
    counterNoiseOnHost(b.typedArrayFromHeap(out), key, uniform);
    return out;
  }
  const name = uniform ? 'philoxUniform' : 'philoxGumbel';
  const units = Math.floor(size / COUNTER_NOISE_FLOATS);
  const tail = size - units * COUNTER_NOISE_FLOATS;
  const shares = units > 0 ? shareCalls(name, offset(b, out), 0, units, kernelThreads(b.wasm), key) : [[]];
  const scratch = tail > 0 ? b.makeOutput([COUNTER_NOISE_FLOATS], 'float32') : null;
  if (scratch) shares[0].push(kernelCall(name, offset(b, scratch), (units * COUNTER_NOISE_FLOATS) / 4, 1, ...key));
  runShares(b.wasm, shares);
  if (scratch) {
    // Views after the allocations, which may have grown the heap.
    b.typedArrayFromHeap(out).set(b.typedArrayFromHeap(scratch).subarray(0, tail), units * COUNTER_NOISE_FLOATS);
    b.disposeData(scratch.dataId);
  }
  return out;
}

/** Registers the kernel (idempotent). */
export function registerCounterGumbelKernel(): void {
  if (!tf.getKernel(COUNTER_GUMBEL_KERNEL, 'wasm')) {
    tf.registerKernel({ kernelName: COUNTER_GUMBEL_KERNEL, backendName: 'wasm', kernelFunc: counterGumbelWasm });
  }
}

/** Unregisters it (benchmarks compare with the plain op). */
export function unregisterCounterGumbelKernel(): void {
  if (tf.getKernel(COUNTER_GUMBEL_KERNEL, 'wasm')) tf.unregisterKernel(COUNTER_GUMBEL_KERNEL, 'wasm');
}
