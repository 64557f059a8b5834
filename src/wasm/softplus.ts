/**
 * A SIMD Softplus for tfjs's wasm backend: log(1 + e^x), the Bernoulli
 * likelihood's costly term (every pixel of every reconstruction, in
 * training's loss and in evaluation's bounds).
 *
 * tfjs-backend-wasm 4.22 calls libm's exp and log for each float (~27 ns a
 * float here); the `softplus` loop of simd_kernels.ts does 4 floats at a
 * time with polynomials (~3 ulp against float64, values below FLT_MIN
 * flushed to 0; the last few floats by a float64 loop), split across the kernel threads. float32 only; other
 * dtypes and backends without wasm SIMD keep tfjs's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './backend_like.js';
import { kernelOverride } from './kernel_override.js';
import { kernelCall, kernelThreads, runShares, type KernelCall } from './kernel_pool.js';
import { simdKernelsFor } from './simd_kernels.js';
import { SOFTPLUS_UNROLL } from './softplus_kernel.js';

/** Below this many floats one thread does them all. */
const MIN_PARALLEL = 32_768;
/** e^t below FLT_MIN counts as 0, as in the SIMD loop. */
const MIN_EXPONENT = -87.3;

/** softplus(z) in float64, with the SIMD loop's flush of e^-|z| below FLT_MIN: for the floats after the last whole turn of the SIMD loop. */
export function softplusScalar(z: number): number {
  const t = -Math.abs(z);
  return Math.max(z, 0) + (t >= MIN_EXPONENT ? Math.log1p(Math.exp(t)) : 0);
}

function softplusKernel(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend as unknown as WasmBackendLike;
    if (x.dtype !== 'float32' || !simdKernelsFor(backend.wasm)) return original(args);
    const out = backend.makeOutput(x.shape, 'float32');
    const size = tf.util.sizeFromShape(x.shape);
    const width = 4 * SOFTPLUS_UNROLL; // floats per turn of the SIMD loop
    const head = size - (size % width);
    const [src, dst] = [x, out].map((t) => backend.dataIdMap.get(t.dataId).memoryOffset);
    const threads = head >= MIN_PARALLEL ? kernelThreads(backend.wasm) : 1;
    const shares: KernelCall[][] = [];
    for (let t = 0; t < threads; t++) {
      const from = Math.floor((t * head) / threads / width) * width;
      const to = Math.floor(((t + 1) * head) / threads / width) * width;
      if (to > from) shares.push([kernelCall('softplus', src + 4 * from, dst + 4 * from, 4 * (to - from))]);
    }
    runShares(backend.wasm, shares);
    if (head < size) {
      const [from, to] = [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out)];
      for (let i = head; i < size; i++) to[i] = softplusScalar(from[i]);
    }
    return out;
  };
}

const override = kernelOverride(tf.Softplus, softplusKernel);

/** Replaces the wasm Softplus kernel (idempotent; needs the wasm package imported). */
export const registerSoftplusKernel = override.install;

/** Puts tfjs's kernel back. */
export const unregisterSoftplusKernel = override.uninstall;
