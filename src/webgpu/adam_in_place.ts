/**
 * Adam on webgpu in one dispatch per variable: value, m and v updated in
 * place. A tfjs WebGPU program has one output, so through tfjs the update is
 * three dispatches (programs.ts, adamProgram); here catvae encodes its own
 * compute pass, with read-write bindings, into tfjs's command encoder (so it
 * runs in order with tfjs's work) and hands the same buffers back as the
 * kernel's outputs (as tfjs's own Identity and Reshape do).
 *
 * Only when the three buffers belong to no other tensor (refCount 1) and no
 * read of them is under way: an in-place write is then invisible, and the
 * optimizer assigns the results to the same variables anyway. Otherwise the
 * caller falls back to the three-dispatch path. tfjs caches a host copy of a
 * tensor once read; the write drops it, so the next read goes to the GPU.
 */
import * as tf from '@tensorflow/tfjs';
import type { AdamAttrs } from '../ops/adam.js';

interface TensorData {
  refCount: number;
  resource?: unknown;
  /** tfjs's host copy, cached by a read: stale once the buffer is written in place. */
  values?: unknown;
}

interface GpuBufferBinding {
  buffer: unknown;
  offset?: number;
  size?: number;
}

/** The parts of tfjs-backend-webgpu's WebGPUBackend this module uses (4.22). */
export interface WebGpuBackendInternals {
  device: GpuDevice;
  commandEncoder: { beginComputePass(descriptor?: object): ComputePass } | null;
  tensorMap: { get(dataId: object): TensorData | undefined };
  commandQueueOwnedIds: WeakSet<object>;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  uploadToGPU(dataId: object): void;
  incRef(dataId: object): void;
  read(dataId: object): Promise<unknown>;
  makeUniforms(uniforms: Array<{ type: 'float32' | 'int32'; data: number[] }>): GpuBufferBinding;
}

interface GpuDevice {
  createShaderModule(descriptor: { code: string }): unknown;
  createComputePipeline(descriptor: object): GpuPipeline;
  createBindGroup(descriptor: object): unknown;
}

interface GpuPipeline {
  getBindGroupLayout(index: number): unknown;
}

interface ComputePass {
  setPipeline(pipeline: GpuPipeline): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

const WORKGROUP = 64;
const MAX_GROUPS_PER_DIMENSION = 65535;

const SHADER = `
struct Params { beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32, step : f32, epsHat : f32, size : i32, rowGroups : i32 }
@group(0) @binding(0) var<storage, read_write> value : array<f32>;
@group(0) @binding(1) var<storage, read_write> m : array<f32>;
@group(0) @binding(2) var<storage, read_write> v : array<f32>;
@group(0) @binding(3) var<storage, read> gradient : array<f32>;
@group(0) @binding(4) var<uniform> params : Params;

fn flushed(x : f32) -> f32 { return select(x, 0.0, abs(x) < 1.1754943508222875e-38); }

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let i = i32(id.x) + i32(id.y) * params.rowGroups * ${WORKGROUP};
  if (i >= params.size) { return; }
  let g = gradient[i];
  let mi = flushed(params.beta1 * m[i] + params.oneMinusBeta1 * g);
  let vi = flushed(params.beta2 * v[i] + params.oneMinusBeta2 * g * g);
  m[i] = mi;
  v[i] = vi;
  value[i] = value[i] - params.step * mi / (sqrt(vi) + params.epsHat);
}`;

const pipelines = new WeakMap<object, GpuPipeline>();
/** Reads under way per data: one that finishes after an in-place write would cache the old values. */
const pendingReads = new WeakMap<object, number>();
const tracked = new WeakSet<object>();

function trackReads(backend: WebGpuBackendInternals): void {
  if (tracked.has(backend)) return;
  tracked.add(backend);
  const read = backend.read;
  backend.read = async function (this: WebGpuBackendInternals, dataId: object) {
    pendingReads.set(dataId, (pendingReads.get(dataId) ?? 0) + 1);
    try {
      return await read.call(this, dataId);
    } finally {
      pendingReads.set(dataId, pendingReads.get(dataId)! - 1);
    }
  };
}
/** Dispatches encoded here, which tfjs's recordAndSubmit never sees (src/webgpu/counters.ts adds them). */
export const inPlaceDispatches = { count: 0 };

function pipelineFor(device: GpuDevice): GpuPipeline {
  let pipeline = pipelines.get(device);
  if (!pipeline) {
    const module = device.createShaderModule({ code: SHADER });
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    pipelines.set(device, pipeline);
  }
  return pipeline;
}

/**
 * Updates value, m and v in place and returns them as the kernel's outputs,
 * or returns null (nothing done) when one of the buffers is shared.
 */
export function adamInPlace(
  backend: WebGpuBackendInternals,
  inputs: { value: tf.TensorInfo; gradient: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo },
  a: AdamAttrs,
): tf.TensorInfo[] | null {
  const { value, gradient, m, v } = inputs;
  const updated = [value, m, v];
  trackReads(backend);
  if (updated.some((t) => backend.tensorMap.get(t.dataId)?.refCount !== 1 || (pendingReads.get(t.dataId) ?? 0) > 0)) return null;
  const size = tf.util.sizeFromShape(value.shape);
  const all = [value, m, v, gradient];
  for (const t of all) backend.uploadToGPU(t.dataId);
  const groups = Math.ceil(size / WORKGROUP);
  const rowGroups = Math.min(groups, MAX_GROUPS_PER_DIMENSION);
  const root2 = Math.sqrt(a.biasCorrection2);
  const constants = [a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, (a.learningRate * root2) / a.biasCorrection1, a.epsilon * root2];
  const uniforms = backend.makeUniforms([
    ...constants.map((c) => ({ type: 'float32' as const, data: [c] })),
    { type: 'int32', data: [size] },
    { type: 'int32', data: [rowGroups] },
  ]);
  const pipeline = pipelineFor(backend.device);
  const bindGroup = backend.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      ...all.map((t, binding) => ({ binding, resource: { buffer: backend.tensorMap.get(t.dataId)!.resource } })),
      { binding: 4, resource: uniforms },
    ],
  });
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  const pass = backend.commandEncoder!.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(rowGroups, Math.ceil(groups / rowGroups));
  pass.end();
  inPlaceDispatches.count++;
  // Buffers used by queued commands are released only after the next submit.
  for (const t of all) backend.commandQueueOwnedIds.add(t.dataId);
  // A host copy cached by an earlier read no longer holds: the next read goes to the GPU.
  for (const t of updated) backend.tensorMap.get(t.dataId)!.values = null;
  // The outputs are the inputs' own data, one more reference each (as tfjs's Identity kernel does).
  return updated.map((t) => {
    backend.incRef(t.dataId);
    return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
  });
}
