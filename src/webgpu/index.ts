/**
 * catvae's WGSL kernels for the webgpu backend, registered under the op names
 * the wasm kernels use (src/wasm/step_ops.ts, src/wasm/adam.ts,
 * src/ops/gumbel_noise.ts), plus the counter-based noise that only a GPU gains
 * from drawing itself (COUNTER_GUMBEL_KERNEL): the ops pick whichever kernel
 * the current backend has. Loaded by the backend selection once webgpu is up;
 * imported by nothing in model/layers.
 *
 * CATVAE_WEBGPU_KERNELS=0 leaves them unregistered (the plain tfjs ops run):
 * for before/after measurements and for bisecting a wrong result.
 */
import * as tf from '@tensorflow/tfjs';
import { COUNTER_GUMBEL_KERNEL, GUMBEL_NOISE_KERNEL, type CounterNoiseAttrs } from '../ops/gumbel_noise.js';
import { ADAM_KERNEL, type AdamAttrs } from '../ops/adam.js';
import { BERNOULLI_GRADIENT_KERNEL, LATENT_GRADIENT_KERNEL, RELAXED_SOFTMAX_KERNEL, RELU_GRADIENT_KERNEL } from '../ops/step_ops.js';
import { adamInPlace, type WebGpuBackendInternals } from './adam_in_place.js';
import {
  adamProgram,
  bernoulliGradientProgram,
  counterNoiseProgram,
  gumbelNoiseProgram,
  latentGradientProgram,
  relaxedSoftmaxProgram,
  reluGradientProgram,
  type FlatProgram,
} from './programs.js';

type Uniform = { type: 'float32' | 'int32' | 'uint32'; data: number[] };

interface WebGpuBackendLike {
  runWebGPUProgram(program: FlatProgram, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: Uniform[]): tf.TensorInfo;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
const f32 = (value: number): Uniform => ({ type: 'float32', data: [value] });
const i32 = (value: number): Uniform => ({ type: 'int32', data: [value] });

/** float32 inputs of one size (in whole rows of `rowLength`): the programs index them flat. */
function checkInputs(name: string, tensors: tf.TensorInfo[], rowLength = 1): void {
  const sizes = tensors.map((t) => tf.util.sizeFromShape(t.shape));
  if (tensors.some((t) => t.dtype !== 'float32') || sizes.some((n) => n !== sizes[0]) || sizes[0] % rowLength !== 0) {
    const shapes = tensors.map((t) => `${t.dtype}[${t.shape.join(', ')}]`).join(', ');
    throw new Error(`${name}: expected float32 inputs of the same size${rowLength > 1 ? ` in rows of ${rowLength}` : ''}, got ${shapes}`);
  }
}

function run(backend: unknown, program: FlatProgram, inputs: tf.TensorInfo[], uniforms: Uniform[] = []): tf.TensorInfo {
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, inputs, 'float32', uniforms);
}

function relaxedSoftmax({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { logits, noise } = inputs as { logits: tf.TensorInfo; noise: tf.TensorInfo };
  const { tau, categories: k } = attrs as { tau: number; categories: number };
  checkInputs(RELAXED_SOFTMAX_KERNEL, [logits, noise], k);
  return run(backend, relaxedSoftmaxProgram(logits.shape, k), [logits, noise], [f32(1 / tau), i32(k)]);
}

function latentGradient({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { dy, y, logits } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo; logits: tf.TensorInfo };
  const { tau, categories: k, klWeight } = attrs as { tau: number; categories: number; klWeight: number };
  checkInputs(LATENT_GRADIENT_KERNEL, [dy, y, logits], k);
  return run(backend, latentGradientProgram(logits.shape, k), [dy, y, logits], [f32(1 / tau), f32(klWeight), i32(k)]);
}

function reluGradient({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  checkInputs(RELU_GRADIENT_KERNEL, [dy, x]);
  return run(backend, reluGradientProgram(dy.shape), [dy, x]);
}

function bernoulliGradient({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo {
  const { z, x } = inputs as { z: tf.TensorInfo; x: tf.TensorInfo };
  checkInputs(BERNOULLI_GRADIENT_KERNEL, [z, x]);
  return run(backend, bernoulliGradientProgram(z.shape), [z, x], [f32((attrs as { scale: number }).scale)]);
}

function gumbelNoise({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { u } = inputs as { u: tf.TensorInfo };
  checkInputs(GUMBEL_NOISE_KERNEL, [u]);
  return run(backend, gumbelNoiseProgram(u.shape), [u]);
}

/** Philox noise drawn on the device: no input, so nothing crosses from the host but the two key words. */
function counterGumbel({ attrs, backend }: KernelArgs): tf.TensorInfo {
  const { key0, key1, shape, uniform } = attrs as unknown as CounterNoiseAttrs;
  const u32 = (value: number): Uniform => ({ type: 'uint32', data: [value >>> 0] });
  return run(backend, counterNoiseProgram(shape, uniform), [], [u32(key0), u32(key1)]);
}

function adam({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo[] {
  const { value, gradient, m, v } = inputs as { value: tf.TensorInfo; gradient: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo };
  checkInputs(ADAM_KERNEL, [value, gradient, m, v]);
  const a = attrs as unknown as AdamAttrs;
  const root2 = Math.sqrt(a.biasCorrection2);
  const uniforms = [a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, (a.learningRate * root2) / a.biasCorrection1, a.epsilon * root2].map(f32);
  if (!webGpuInPlaceAdamDisabled()) {
    const done = adamInPlace(backend as unknown as WebGpuBackendInternals, { value, gradient, m, v }, a);
    if (done) return done;
  }
  const all = [value, gradient, m, v];
  return (['value', 'm', 'v'] as const).map((output) => run(backend, adamProgram(value.shape, output), all, uniforms));
}

const KERNELS: Record<string, tf.KernelFunc> = {
  [RELAXED_SOFTMAX_KERNEL]: relaxedSoftmax,
  [LATENT_GRADIENT_KERNEL]: latentGradient,
  [RELU_GRADIENT_KERNEL]: reluGradient,
  [BERNOULLI_GRADIENT_KERNEL]: bernoulliGradient,
  [GUMBEL_NOISE_KERNEL]: gumbelNoise,
  [COUNTER_GUMBEL_KERNEL]: counterGumbel,
  [ADAM_KERNEL]: adam as unknown as tf.KernelFunc,
};

export const WEBGPU_KERNEL_NAMES: readonly string[] = Object.keys(KERNELS);

/** CATVAE_WEBGPU_ADAM=programs: Adam as three tfjs programs per variable instead of one in-place pass. */
function webGpuInPlaceAdamDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CATVAE_WEBGPU_ADAM === 'programs';
}

/** Whether CATVAE_WEBGPU_KERNELS asks for the plain tfjs ops instead. */
export function webGpuKernelsDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CATVAE_WEBGPU_KERNELS === '0';
}

/** Registers the kernels for the 'webgpu' backend (idempotent); returns how many are registered. */
export function registerWebGpuKernels(): number {
  if (webGpuKernelsDisabled()) return 0;
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) {
    if (!tf.getKernel(kernelName, 'webgpu')) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
  }
  return WEBGPU_KERNEL_NAMES.length;
}

/** Removes them again (tests compare against the plain ops in one process). */
export function unregisterWebGpuKernels(): void {
  for (const kernelName of WEBGPU_KERNEL_NAMES) {
    if (tf.getKernel(kernelName, 'webgpu')) tf.unregisterKernel(kernelName, 'webgpu');
  }
}
