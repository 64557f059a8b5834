/**
 * The experimental WebGPU backend: @tensorflow/tfjs-backend-webgpu running in
 * Node on Dawn's bindings (the `webgpu` npm package). Any GPU with a Vulkan
 * driver works, no CUDA or libtensorflow involved.
 *
 * Neither package is a dependency of catvae (the pair is ~150 MB), so they
 * are imported through specifiers held in variables: tsc does not look for
 * them and a default install never loads them.
 *
 * Order matters: tfjs-backend-webgpu registers its backend at import time,
 * and only if navigator.gpu exists then. Dawn's GPU object and its globals
 * (GPUBufferUsage, ...) must be installed first.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import {
  NO_ADAPTER_FIX,
  TFJS_WEBGPU_PACKAGE,
  WEBGPU_INSTALL,
  WEBGPU_PACKAGE,
  describeAdapter,
  type AdapterInfo,
} from './webgpu_adapter.js';

interface AdapterLike {
  info?: AdapterInfo;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<AdapterLike | null>;
}

/** What catvae uses of the `webgpu` package. */
interface DawnModule {
  create(options: string[]): GpuLike;
  globals: object;
}

/** A reason the WebGPU backend cannot run, and the user's fix. */
export class WebGpuUnavailable extends Error {
  constructor(
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`${reason}. ${fix}`);
    this.name = 'WebGpuUnavailable';
  }
}

/** What the loader touches outside itself; tests pass fakes. */
export interface WebGpuDeps {
  /** True when `import(specifier)` would find the package. */
  isInstalled(specifier: string): boolean;
  importModule(specifier: string): Promise<unknown>;
  /** Where navigator.gpu and Dawn's globals go (globalThis). */
  global: Record<string, unknown>;
  /** tf.findBackendFactory(name) !== null */
  hasBackendFactory(name: string): boolean;
  /** tf.setBackend(name) */
  setBackend(name: string): Promise<boolean>;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/** Installs Dawn's navigator.gpu and globals, once, and returns the GPU object. */
function installNavigatorGpu(dawn: DawnModule, global: Record<string, unknown>): GpuLike {
  let navigator = global.navigator as { gpu?: GpuLike } | undefined;
  if (navigator?.gpu) return navigator.gpu;
  for (const [key, value] of Object.entries(dawn.globals)) {
    if (!(key in global)) global[key] = value;
  }
  if (!navigator) {
    navigator = {};
    // Node 20 has no navigator; Node 21+ has one (a getter), which gets a gpu field instead.
    Object.defineProperty(global, 'navigator', { value: navigator, configurable: true, writable: true });
  }
  const gpu = dawn.create([]);
  Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return gpu;
}

/**
 * Registers and selects the 'webgpu' backend, or throws WebGpuUnavailable
 * (package missing, no adapter, backend failed to initialise).
 * Returns the phrase for the backend line.
 */
export async function loadWebGpu(deps: WebGpuDeps = webGpuDeps(), options: { allowSoftware?: boolean } = {}): Promise<string> {
  for (const pkg of [WEBGPU_PACKAGE, TFJS_WEBGPU_PACKAGE]) {
    if (!deps.isInstalled(pkg)) {
      throw new WebGpuUnavailable(`${pkg} is not installed (the WebGPU backend is opt-in)`, `Install it with '${WEBGPU_INSTALL}'.`);
    }
  }
  let dawn: DawnModule;
  try {
    dawn = (await deps.importModule(WEBGPU_PACKAGE)) as DawnModule;
  } catch (error) {
    throw new WebGpuUnavailable(
      `the webgpu package's dawn.node did not load (${firstLine(error)})`,
      'It ships prebuilt for linux x64/arm64, macOS and Windows; reinstall it or use another backend.',
    );
  }
  const gpu = installNavigatorGpu(dawn, deps.global);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new WebGpuUnavailable('WebGPU found no adapter', NO_ADAPTER_FIX);
  const described = describeAdapter(adapter.info);
  // A CPU Vulkan driver is slower than the wasm backend: only a user who asks for it gets it.
  if (described.software && options.allowSoftware === false) {
    throw new WebGpuUnavailable(
      `the only WebGPU adapter is a software one (${described.text})`,
      `Force it with --backend webgpu if you want it; auto keeps to the faster CPU backends.`,
    );
  }

  if (!deps.hasBackendFactory('webgpu')) {
    try {
      await deps.importModule(TFJS_WEBGPU_PACKAGE);
    } catch (error) {
      throw new WebGpuUnavailable(`${TFJS_WEBGPU_PACKAGE} did not load (${firstLine(error)})`, `Reinstall it with '${WEBGPU_INSTALL}'.`);
    }
  }
  if (!deps.hasBackendFactory('webgpu')) {
    throw new WebGpuUnavailable(
      `${TFJS_WEBGPU_PACKAGE} was imported before navigator.gpu existed, so it registered no backend`,
      `Let catvae's backend selection import it (do not import ${TFJS_WEBGPU_PACKAGE} yourself first).`,
    );
  }
  if (!(await deps.setBackend('webgpu'))) {
    throw new WebGpuUnavailable(
      `the webgpu backend did not initialise on '${described.text}' (tfjs printed the cause above)`,
      'Check that the adapter works (vulkaninfo), or use another backend.',
    );
  }
  const kind = described.software ? ' (software: runs on the CPU, not a GPU)' : '';
  return `experimental; adapter: ${described.text}${kind}`;
}

/** The real dependencies: this module's resolver, dynamic import, globalThis and tf's engine. */
export function webGpuDeps(): WebGpuDeps {
  const require = createRequire(import.meta.url);
  return {
    isInstalled(specifier) {
      try {
        require.resolve(specifier);
        return true;
      } catch {
        return false;
      }
    },
    // A variable specifier: tsc does not try to resolve an optional package.
    importModule: (specifier) => import(specifier) as Promise<unknown>,
    global: globalThis as unknown as Record<string, unknown>,
    hasBackendFactory: (name) => tf.findBackendFactory(name) != null,
    setBackend: (name) => tf.setBackend(name),
  };
}
