/**
 * The wasm kernel of the op gumbelRaoGradient (src/ops/gumbel_rao.ts):
 * Gumbel-Rao's backward pass in one SIMD loop (gumbel_rao_kernel.ts) instead
 * of the plain composition's twenty-odd kernels over k x rows x K values.
 * Rows go GUMBEL_RAO_ROWS at a time (vectors of four), split between the
 * kernel threads; the last rows % GUMBEL_RAO_ROWS rows, and every row where the engine has no
 * SIMD wasm, go through gumbelRaoRows, the same maths in float64 on the host.
 */
import * as tf from '@tensorflow/tfjs';
import { GUMBEL_RAO_GRADIENT_KERNEL, WINNER_LIFT } from '../ops/gumbel_rao.js';
import { heapOffset as offset, type KernelArgs, type WasmBackendLike } from './backend_like.js';
import { GUMBEL_RAO_ROWS, gumbelRaoScratchBytes } from './gumbel_rao_kernel.js';
import { kernelCall, kernelThreads, runShares } from './kernel_pool.js';
import { simdKernelsFor } from './simd_kernels.js';

const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

/**
 * out[r] for rows r0 <= r < r1, as the SIMD loop computes it (its comment
 * has the formulas): rows of k in logits, sample, dy and out; gumbels
 * [samples, rows, k].
 */
export function gumbelRaoRows(
  [logits, sample, dy, gumbels, out]: Float32Array[],
  k: number,
  samples: number,
  tau: number,
  klWeight: number,
  [r0, r1]: [number, number],
): void {
  const rows = logits.length / k;
  const [offsets, p, acc] = [new Float64Array(k), new Float64Array(k), new Float64Array(k)];
  for (let r = r0; r < r1; r++) {
    const base = r * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[base + j]);
    let z = 0;
    for (let j = 0; j < k; j++) z += Math.exp(logits[base + j] - max);
    const logZ = Math.log(z);
    for (let j = 0; j < k; j++) offsets[j] = sample[base + j] === 1 ? -WINNER_LIFT : logZ - (logits[base + j] - max);
    acc.fill(0);
    for (let i = 0; i < samples; i++) {
      const g = (i * rows + r) * k;
      let gw = 0;
      for (let j = 0; j < k; j++) gw += gumbels[g + j] * sample[base + j];
      let [sum, dotDy] = [0, 0];
      for (let j = 0; j < k; j++) {
        p[j] = Math.exp(-softplus(gw - gumbels[g + j] + offsets[j]) / tau);
        sum += p[j];
        dotDy += p[j] * dy[base + j];
      }
      for (let j = 0; j < k; j++) acc[j] += (p[j] / sum) * (dy[base + j] - dotDy / sum);
    }
    let entropy = 0;
    const logQ = (j: number) => logits[base + j] - max - logZ;
    if (klWeight !== 0) for (let j = 0; j < k; j++) entropy += Math.exp(logQ(j)) * logQ(j);
    for (let j = 0; j < k; j++) {
      const kl = klWeight !== 0 ? klWeight * Math.exp(logQ(j)) * (logQ(j) - entropy) : 0;
      out[base + j] = acc[j] / (samples * tau) + kl;
    }
  }
}

function gumbelRaoGradientWasm({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { dy, logits, sample, gumbels, tau } = inputs as Record<'dy' | 'logits' | 'sample' | 'gumbels' | 'tau', tf.TensorInfo>;
  const { categories: k, klWeight } = attrs as { categories: number; klWeight: number };
  const all = [dy, logits, sample, gumbels, tau];
  if (all.some((t) => t.dtype !== 'float32')) {
    throw new Error(`${GUMBEL_RAO_GRADIENT_KERNEL}: float32 inputs expected, got ${all.map((t) => t.dtype).join(', ')}`);
  }
  // The op checked the shapes: dy, logits and sample hold the same rows of k, gumbels whole copies of them.
  const [size, gumbelSize] = [tf.util.sizeFromShape(logits.shape), tf.util.sizeFromShape(gumbels.shape)];
  const b = backend as unknown as WasmBackendLike;
  const [rows, samples, tauValue] = [size / k, gumbelSize / size, b.typedArrayFromHeap(tau)[0]];
  const out = b.makeOutput(logits.shape, 'float32');
  const groups = simdKernelsFor(b.wasm) ? Math.floor(rows / GUMBEL_RAO_ROWS) : 0;
  if (groups > 0) {
    const threads = Math.min(kernelThreads(b.wasm), groups);
    const scratch = b.makeOutput([(threads * gumbelRaoScratchBytes(k)) / 4], 'float32');
    const [at, l, s, d, g, o] = [scratch, logits, sample, dy, gumbels, out].map((t) => offset(b, t));
    const shares = Array.from({ length: threads }, (_, t) => {
      const [r0, r1] = [t, t + 1].map((u) => GUMBEL_RAO_ROWS * Math.floor((groups * u) / threads));
      const share = at + t * gumbelRaoScratchBytes(k);
      return [kernelCall('gumbelRao', l, s, d, g, o, share, rows, k, samples, r0, r1, 1 / tauValue, 1 / (samples * tauValue), klWeight)];
    });
    runShares(b.wasm, shares);
    b.disposeData(scratch.dataId);
  }
  if (GUMBEL_RAO_ROWS * groups < rows) {
    // Views after the allocations, which may have grown the heap.
    const views = [logits, sample, dy, gumbels, out].map((t) => b.typedArrayFromHeap(t));
    gumbelRaoRows(views, k, samples, tauValue, klWeight, [GUMBEL_RAO_ROWS * groups, rows]);
  }
  return out;
}

/** Registers the kernel (idempotent). */
export function registerGumbelRaoKernel(): void {
  if (!tf.getKernel(GUMBEL_RAO_GRADIENT_KERNEL, 'wasm')) {
    tf.registerKernel({ kernelName: GUMBEL_RAO_GRADIENT_KERNEL, backendName: 'wasm', kernelFunc: gumbelRaoGradientWasm });
  }
}
