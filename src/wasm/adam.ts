/**
 * Adam as one kernel per variable, for the CPU backends.
 *
 * tfjs's AdamOptimizer updates each variable with about 13 elementwise ops,
 * each a full pass over the variable plus an allocation. Here one kernel
 * reads value, gradient and both moments once and writes the three results:
 * one pass instead of 13. On wasm the pass is a SIMD loop (simd_kernels.ts);
 * on cpu, and for the last n % 4 weights, the JS loop below.
 *
 * It also flushes subnormal moments to zero. The moments of a unit whose
 * gradient stays 0 (a dead ReLU) decay geometrically into the float32
 * subnormal range, where x86 arithmetic is many times slower; native code
 * turns that off with flush-to-zero, which WebAssembly cannot. The update
 * changes by less than learningRate * 1e-38 / epsilon.
 *
 * FusedAdamOptimizer is tfjs's AdamOptimizer (same state, same saved
 * weights, same className) that uses the kernel where the current backend
 * has it and tfjs's own update elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { kernelCall, kernelThreads, runShares, type KernelCall } from './kernel_pool.js';
import { simdKernelsFor } from './simd_kernels.js';

/** Below this many weights one thread updates them all: a hand-off would cost more. */
const MIN_PARALLEL = 16_384;

export const ADAM_KERNEL = 'CatvaeAdamUpdate';
const FLT_MIN = 1.1754943508222875e-38;

export interface AdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t and 1 - beta2^t at step t (1-based). */
  biasCorrection1: number;
  biasCorrection2: number;
}

/**
 * The update, written to the output arrays. tfjs's AdamOptimizer computes
 *   value - lr * (m / c1) / (sqrt(v / c2) + eps),   c = 1 - beta^t;
 * this is the same quantity rearranged to one division and one square root
 * per weight (twice as fast here), equal up to rounding:
 *   value - (lr * sqrt(c2) / c1) * m / (sqrt(v) + eps * sqrt(c2)).
 */
export function adamUpdate(
  value: Float32Array,
  gradient: Float32Array,
  m: Float32Array,
  v: Float32Array,
  outValue: Float32Array,
  outM: Float32Array,
  outV: Float32Array,
  a: AdamAttrs,
): void {
  const b1 = a.beta1;
  const b2 = a.beta2;
  const g1 = 1 - b1;
  const g2 = 1 - b2;
  const root2 = Math.sqrt(a.biasCorrection2);
  const step = (a.learningRate * root2) / a.biasCorrection1;
  const epsHat = a.epsilon * root2;
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const g = gradient[i];
    let mi = b1 * m[i] + g1 * g;
    let vi = b2 * v[i] + g2 * g * g;
    if (Math.abs(mi) < FLT_MIN) mi = 0;
    if (vi < FLT_MIN) vi = 0;
    outM[i] = mi;
    outV[i] = vi;
    outValue[i] = value[i] - (step * mi) / (Math.sqrt(vi) + epsHat);
  }
}

type Inputs = { value: tf.TensorInfo; gradient: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo };

interface WasmBackendLike {
  wasm: object;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/**
 * wasm: the SIMD loop of simd_kernels.ts over the heap, 4 weights at a time; the
 * last n % 4 (and everything, where wasm SIMD is missing) by the JS loop.
 * Outputs are allocated first, since an allocation may move the heap views.
 */
function adamWasm({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { value, gradient, m, v } = inputs as Inputs;
  const b = backend as unknown as WasmBackendLike;
  const a = attrs as unknown as AdamAttrs;
  const out = [b.makeOutput(value.shape, 'float32'), b.makeOutput(m.shape, 'float32'), b.makeOutput(v.shape, 'float32')];
  const all = [value, gradient, m, v, ...out];
  const n = tf.util.sizeFromShape(value.shape);
  const simd = simdKernelsFor(b.wasm)?.adam;
  const head = simd ? n & ~3 : 0;
  if (simd && head > 0) {
    const offsets = all.map((t) => b.dataIdMap.get(t.dataId).memoryOffset);
    const root2 = Math.sqrt(a.biasCorrection2);
    const step = (a.learningRate * root2) / a.biasCorrection1;
    const constants = [a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, step, a.epsilon * root2];
    // Element-wise: split into equal runs of whole vectors, one per kernel thread.
    const threads = head >= MIN_PARALLEL ? kernelThreads(b.wasm) : 1;
    const shares: KernelCall[][] = [];
    for (let t = 0; t < threads; t++) {
      const from = Math.floor((t * head) / threads / 4) * 4;
      const to = Math.floor(((t + 1) * head) / threads / 4) * 4;
      if (to > from) shares.push([kernelCall('adam', ...offsets.map((o) => o + 4 * from), 4 * (to - from), ...constants)]);
    }
    runShares(b.wasm, shares);
  }
  if (head < n) {
    const [p0, g0, m0, v0, p1, m1, v1] = all.map((t) => b.typedArrayFromHeap(t).subarray(head));
    adamUpdate(p0, g0, m0, v0, p1, m1, v1, a);
  }
  return out;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function adamCpu({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { value, gradient, m, v } = inputs as Inputs;
  const b = backend as unknown as CpuBackendLike;
  const read = (t: tf.TensorInfo) => b.data.get(t.dataId).values;
  const n = read(value).length;
  const [p2, m2, v2] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  adamUpdate(read(value), read(gradient), read(m), read(v), p2, m2, v2, attrs as unknown as AdamAttrs);
  return [b.makeTensorInfo(value.shape, 'float32', p2), b.makeTensorInfo(m.shape, 'float32', m2), b.makeTensorInfo(v.shape, 'float32', v2)];
}

const KERNELS: Record<string, tf.KernelFunc> = { wasm: adamWasm, cpu: adamCpu };

/** Registers the kernel for wasm and cpu (idempotent). */
export function registerAdamKernels(): void {
  for (const [backendName, kernelFunc] of Object.entries(KERNELS)) {
    if (!tf.getKernel(ADAM_KERNEL, backendName)) tf.registerKernel({ kernelName: ADAM_KERNEL, backendName, kernelFunc });
  }
}

/** The fields of tfjs's AdamOptimizer that it keeps private. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
    registerAdamKernels();
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!tf.getKernel(ADAM_KERNEL, tf.getBackend())) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    const named = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    // Same step count and bias correction as tfjs (accBeta = beta^t), on the host.
    const t = this.iterations + 1;
    const attrs: AdamAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      biasCorrection1: 1 - Math.pow(this.beta1, t),
      biasCorrection2: 1 - Math.pow(this.beta2, t),
    };
    tf.tidy(() => {
      named.forEach(({ name, tensor: gradient }, i) => {
        const value = tf.engine().registeredVariables[name];
        // The moments are created, named and ordered exactly as tfjs does, so
        // getWeights/setWeights and checkpoints are interchangeable.
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i].variable;
        const v = state.accumulatedSecondMoment[i].variable;
        const [newValue, newM, newV] = tf
          .engine()
          .runKernel(ADAM_KERNEL, { value, gradient, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      // Kept in step for getWeights and for tfjs's own path should the backend change.
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** Like tf.train.adam: a FusedAdamOptimizer. */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
