/**
 * Adam as one named op per variable (ADAM_KERNEL), and FusedAdamOptimizer,
 * which uses it.
 *
 * tfjs's AdamOptimizer updates each variable with about 13 elementwise ops,
 * each a full pass over the variable plus an allocation. The kernel reads
 * value, gradient and both moments once and writes the three results: one
 * pass instead of 13. Here: its reference, adamUpdate (a JS loop), which is
 * also the cpu backend's kernel; a plug-in registers faster ones for its
 * backend (src/wasm/adam.ts: a SIMD loop).
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
import { hasKernel } from './dispatch.js';

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

/** The kernel's inputs, by name. */
export type AdamInputs = { value: tf.TensorInfo; gradient: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo };

interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function adamCpu({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { value, gradient, m, v } = inputs as AdamInputs;
  const b = backend as unknown as CpuBackendLike;
  const read = (t: tf.TensorInfo) => b.data.get(t.dataId).values;
  const n = read(value).length;
  const [p2, m2, v2] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  adamUpdate(read(value), read(gradient), read(m), read(v), p2, m2, v2, attrs as unknown as AdamAttrs);
  return [b.makeTensorInfo(value.shape, 'float32', p2), b.makeTensorInfo(m.shape, 'float32', m2), b.makeTensorInfo(v.shape, 'float32', v2)];
}

/** Registers the cpu backend's kernel (idempotent). */
export function registerAdamCpuKernel(): void {
  if (!tf.getKernel(ADAM_KERNEL, 'cpu')) tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: 'cpu', kernelFunc: adamCpu });
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
    registerAdamCpuKernel();
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!hasKernel(ADAM_KERNEL)) {
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
