/**
 * Backend choice: tfjs-node-gpu on CUDA machines, tfjs-node with a native
 * libtensorflow, then the wasm backend, then plain JS. The native packages
 * are optional (their installer downloads libtensorflow), so every step of
 * `auto` can fail and say why, and a forced backend names the fix.
 */
import * as tf from '@tensorflow/tfjs';
import { ensureFileSystemHandlers } from './io/file_io.js';
import { describeTfjsNodeGpu } from './gpu/tfjs_node_gpu.js';
import { dlopenLibraries, nvidiaSmi } from './gpu/system_probes.js';
import { loadWebGpu as loadWebGpuBackend, WebGpuUnavailable } from './gpu/webgpu.js';

export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKENDS];

/** A backend that cannot run here: why, and what the user can do about it. */
export class BackendUnavailable extends Error {
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`backend '${backend}' cannot load: ${reason}. ${fix}`);
    this.name = 'BackendUnavailable';
  }
}

/** What a loader reports once its backend is registered. */
export interface LoadedBackend {
  /** The name tfjs knows it by (tf.setBackend). */
  tfName: string;
  /** One short phrase for the user: device, SIMD/threads... */
  detail: string;
}
/** Loads one backend; `forced` is true when the user named it (not 'auto'). */
export type BackendLoader = (forced: boolean) => Promise<LoadedBackend>;

export interface BackendSelection extends LoadedBackend {
  name: BackendName;
  skipped: Array<{ name: BackendName; reason: string }>;
  /** The one line printed at start-up. */
  summary: string;
}

export interface WasmOptions {
  /** Threads for the wasm backend (default: what the machine allows). */
  threads?: number;
}

const CUDA_NEEDS = 'it needs an NVIDIA driver, CUDA 11.2 and cuDNN 8.1 (libcudart.so.11.0, libcudnn.so.8)';

function isModuleMissing(error: unknown, pkg: string): boolean {
  const e = error as { code?: string; message?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && String(e.message).includes(pkg);
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/** Imports a native tfjs-node package and switches to its 'tensorflow' backend. */
async function loadNative(name: 'tensorflow-gpu' | 'tensorflow', pkg: string, installFix: string): Promise<LoadedBackend> {
  try {
    await import(pkg);
  } catch (error) {
    if (isModuleMissing(error, pkg)) throw new BackendUnavailable(name, `${pkg} is not installed`, installFix);
    throw new BackendUnavailable(
      name,
      `${pkg} is installed but its native binding did not load (${firstLine(error)})`,
      `Its install script downloads libtensorflow 2.9.1: run 'npm rebuild ${pkg}' with network access, or point TFJS_NODE_BASE_URI at a local copy (see 'npm run doctor').`,
    );
  }
  if (!(await tf.setBackend('tensorflow'))) {
    throw new BackendUnavailable(
      name,
      `${pkg} loaded but the 'tensorflow' backend did not initialise`,
      `Run 'npm run doctor' for details.`,
    );
  }
  return { tfName: 'tensorflow', detail: 'native libtensorflow' };
}

/** The wasm backend starts once per process; its speed-ups are installed before that. */
let wasmPrepared = false;

async function loadWasm(options: WasmOptions): Promise<LoadedBackend> {
  let threadsInUse: () => number;
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    // Transposed products, threads in Node, fused Adam: see src/wasm.
    const speedups = await import('./wasm/index.js');
    if (!wasmPrepared) speedups.installWasmSpeedups({ threads: options.threads });
    wasmPrepared = true;
    threadsInUse = speedups.wasmThreadsInUse;
  } catch (error) {
    if (isModuleMissing(error, '@tensorflow/tfjs-backend-wasm'))
      throw new BackendUnavailable(
        'wasm',
        '@tensorflow/tfjs-backend-wasm is not installed',
        `Install it (the fast CPU path, an optional peer of catvae): 'npm install @tensorflow/tfjs-backend-wasm@^4.22.0'.`,
      );
    throw new BackendUnavailable('wasm', `@tensorflow/tfjs-backend-wasm did not load (${firstLine(error)})`, `Run 'npm install'.`);
  }
  if (!(await tf.setBackend('wasm'))) {
    throw new BackendUnavailable('wasm', 'the WebAssembly module did not initialise', `Use Node 20 or newer, or --backend cpu.`);
  }
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = threadsInUse();
  return { tfName: 'wasm', detail: `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}` };
}

/**
 * tfjs-node-gpu, then the honest part: whether TensorFlow really created a
 * GPU device, and if not, which CUDA/cuDNN libraries or driver it lacked.
 */
async function loadTensorflowGpu(): Promise<LoadedBackend> {
  const loaded = await loadNative(
    'tensorflow-gpu',
    '@tensorflow/tfjs-node-gpu',
    `Install it with 'npm install @tensorflow/tfjs-node-gpu' on a CUDA machine; ${CUDA_NEEDS}.`,
  );
  const detail = await describeTfjsNodeGpu(tf.backend(), { libraries: dlopenLibraries, nvidiaSmi, env: process.env });
  return { ...loaded, detail };
}

/** Experimental: tfjs-backend-webgpu on Dawn (npm 'webgpu'), both opt-in installs. */
async function loadWebGpu(forced: boolean): Promise<LoadedBackend> {
  try {
    const detail = await loadWebGpuBackend(undefined, { allowSoftware: forced });
    // catvae's WGSL kernels for the step's fused ops and Adam (src/webgpu).
    const kernels = (await import('./webgpu/index.js')).registerWebGpuKernels();
    return { tfName: 'webgpu', detail: kernels > 0 ? detail : `${detail}; catvae's WGSL kernels off (CATVAE_WEBGPU_KERNELS=0)` };
  } catch (error) {
    if (error instanceof WebGpuUnavailable) throw new BackendUnavailable('webgpu', error.reason, error.fix);
    throw error;
  }
}

async function loadCpu(): Promise<LoadedBackend> {
  if (!(await tf.setBackend('cpu')))
    throw new BackendUnavailable('cpu', 'the cpu backend did not initialise', 'Reinstall @tensorflow/tfjs.');
  return { tfName: 'cpu', detail: 'plain JavaScript, slow' };
}

/** The real loaders; tests inject fakes in their place. */
export function defaultLoaders(options: WasmOptions = {}): Record<BackendName, BackendLoader> {
  return {
    'tensorflow-gpu': loadTensorflowGpu,
    tensorflow: () =>
      loadNative(
        'tensorflow',
        '@tensorflow/tfjs-node',
        `Install it with 'npm install @tensorflow/tfjs-node' (downloads libtensorflow 2.9.1).`,
      ),
    webgpu: loadWebGpu,
    wasm: () => loadWasm(options),
    cpu: loadCpu,
  };
}

export function isBackendChoice(value: unknown): value is BackendChoice {
  return typeof value === 'string' && (BACKEND_CHOICES as readonly string[]).includes(value);
}

function summarize(name: BackendName, loaded: LoadedBackend, skipped: BackendSelection['skipped']): string {
  const head = `backend: ${name} (${loaded.detail})`;
  if (skipped.length === 0) return head;
  const line = `${head}; skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`;
  // The wasm package is an optional peer: say how to leave the slow path.
  const noWasm = name === 'cpu' && skipped.some((s) => s.name === 'wasm' && /is not installed/.test(s.reason));
  return noWasm ? `${line} (for the fast CPU path: npm install @tensorflow/tfjs-backend-wasm@^4.22.0)` : line;
}

/**
 * Loads the chosen backend (or the first that works, for 'auto'), makes it
 * current, and registers file IO when tfjs-node is not there to do it.
 * A forced backend that cannot load throws BackendUnavailable.
 */
export async function selectBackend(
  choice: BackendChoice = 'auto',
  loaders: Record<BackendName, BackendLoader> = defaultLoaders(),
): Promise<BackendSelection> {
  if (!isBackendChoice(choice)) {
    throw new Error(`unknown backend '${String(choice)}': use one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const order: BackendName[] = choice === 'auto' ? [...BACKENDS] : [choice];
  const skipped: BackendSelection['skipped'] = [];
  for (const name of order) {
    try {
      const loaded = await loaders[name](choice !== 'auto');
      await tf.ready();
      ensureFileSystemHandlers();
      return { name, ...loaded, skipped, summary: summarize(name, loaded, skipped) };
    } catch (error) {
      if (choice !== 'auto') throw error;
      skipped.push({ name, reason: error instanceof BackendUnavailable ? error.reason : firstLine(error) });
    }
  }
  throw new Error(`no backend could be loaded: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}
