/**
 * Names and facts of the experimental WebGPU path that need no GPU code:
 * the opt-in packages, and how to read an adapter Dawn returns. Kept apart
 * from the loader so the doctor can use them without importing tfjs.
 */

export const WEBGPU_PACKAGE = 'webgpu';
export const TFJS_WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';
export const WEBGPU_INSTALL = `npm install ${WEBGPU_PACKAGE} ${TFJS_WEBGPU_PACKAGE}@4.22.0`;

/** Adapter facts as Dawn reports them (GPUAdapterInfo). */
export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export interface AdapterDescription {
  text: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader): it works, but it is no GPU. */
  software: boolean;
}

export function describeAdapter(info: AdapterInfo | undefined): AdapterDescription {
  const text = info?.description || [info?.vendor, info?.device].filter(Boolean).join(' ') || 'unnamed adapter';
  const software =
    info?.isFallbackAdapter === true ||
    info?.architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader/i.test(`${info?.description ?? ''} ${info?.device ?? ''}`);
  return { text, software };
}

/** What to do when Dawn finds no adapter. */
export const NO_ADAPTER_FIX =
  "Dawn needs a Vulkan driver: the GPU vendor's (NVIDIA's driver ships one) plus the Vulkan loader (libvulkan1); " +
  "for a CPU-only test, Mesa's lavapipe (on Debian 12, mesa-vulkan-drivers 25 from bookworm-backports: Dawn rejects Mesa 22's).";
