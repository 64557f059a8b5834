/**
 * Both cores for tfjs's wasm backend in Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build but never uses it in
 * Node: WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false there, because
 * the build's pthread workers would be started from blob: URLs, which Node's
 * worker_threads cannot load. This module starts that same build with real
 * real paths (the worker entry is in `worker_source.ts`) and registers it as
 * the 'wasm' backend in place of tfjs's single-threaded factory. Only the
 * 'wasm' registration changes, and only when asked; if the threaded build
 * cannot start, the original factory runs and a one-line warning says why.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { startKernelThreads } from './kernel_pool.js';
import type { EmscriptenMemoryHolder } from './simd_kernels.js';
import { shippedWorkerModule, workerEntryUrl } from './worker_source.js';

const require = createRequire(import.meta.url);

/** tfjs-backend-wasm registers 'wasm' with this priority; keep it. */
const WASM_PRIORITY = 2;
const THREADED_WASM = 'tfjs-backend-wasm-threaded-simd.wasm';
/** How long the build and its worker pool may take to start before we give up. */
const START_TIMEOUT_MS = 30_000;

export interface ThreadedWasmOptions {
  /** Threads in all, the calling thread included (>= 2). */
  threads: number;
  /** Size of XNNPACK's thread pool (default `threads`). */
  xnnpackThreads?: number;
  /** Threads for catvae's own kernels (kernel_pool.ts; default 1: no kernel workers). installWasmSpeedups gives them all. */
  kernelThreads?: number;
  /** Called with the one-line reason when falling back to one thread (default console.warn). */
  warn?: (message: string) => void;
  /** For tests: tfjs's worker module that the worker entry loads. */
  workerModule?: string;
  /** For tests: start timeout in ms. */
  timeoutMs?: number;
}

/** The parts of the Emscripten module that tfjs's BackendWasm and we use. */
interface EmscriptenModule {
  cwrap: (name: string, returnType: string | null, argTypes: string[]) => (...args: unknown[]) => unknown;
  PThread?: { unusedWorkers: WorkerLike[]; runningWorkers: WorkerLike[]; terminateAllThreads(): void };
  tfjs?: Record<string, unknown>;
}
interface WorkerLike {
  unref?: () => void;
}
/** The slice of the WebAssembly API used here (this project's TypeScript lib has no DOM types). */
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: Imports): Promise<{ instance: unknown; module: unknown }>;
}
type Imports = Record<string, Record<string, unknown>>;
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

function wasmOutDir(): string {
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'));
}

/**
 * Starts one worker on the entry script and waits until it has set itself up.
 * Emscripten treats a worker that fails to load as fatal to the process, so
 * the failures we can foresee are caught here first.
 */
async function probeWorker(entry: URL, timeoutMs: number): Promise<void> {
  const worker = new Worker(entry, { workerData: { probe: true } });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`the worker exited with code ${code}`)));
      }),
      timeoutMs,
      'a pthread worker',
    );
  } finally {
    await worker.terminate();
  }
}

/** The cwrapped entry points tfjs's own loader puts under `module.tfjs` (BackendWasm calls them). */
function attachTfjsApi(module: EmscriptenModule): void {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
}

/**
 * Emscripten refs a worker while its pthread runs, and XNNPACK's pool threads
 * run until the backend is disposed: without this a finished script would
 * never exit. The threads only ever wait for work from this thread.
 */
function unrefWorkers(module: EmscriptenModule): void {
  const pthread = module.PThread;
  if (!pthread) return;
  for (const worker of [...pthread.runningWorkers, ...pthread.unusedWorkers]) worker.unref?.();
}

const firstLine = (error: unknown): string => String((error as Error)?.message ?? error).split('\n')[0];

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts the threaded SIMD build with real file paths and a BackendWasm on it. */
async function startThreadedBackend(options: ThreadedWasmOptions): Promise<BackendWasm> {
  const dir = wasmOutDir();
  const mainScript = join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const entry = workerEntryUrl(options.workerModule ?? shippedWorkerModule());
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const xnnpackThreads = options.xnnpackThreads ?? options.threads;
  await probeWorker(entry, timeoutMs);
  const factory = require(mainScript) as Factory;
  let aborted: string | null = null;
  let failInstantiation: (error: unknown) => void = () => {};
  const instantiationFailed = new Promise<never>((_, reject) => (failInstantiation = reject));
  const config: Record<string, unknown> = {
    locateFile: (file: string) => (file.endsWith('.worker.js') ? entry : join(dir, file)),
    // Workers load the build from this path (the entry script requires it).
    mainScriptUrlOrBlob: mainScript,
    onAbort: (what: unknown) => {
      aborted = String(what);
    },
    // tfjs caps its pool at emscripten_num_logical_cores() / 2 (it assumes two
    // hyperthreads per core), which leaves one thread on a 2-core machine. The
    // build asks that import once, at start-up: answer 2 x threads so the cap
    // is the count asked for. Emscripten's documented hook for custom
    // instantiation; everything else is passed through unchanged.
    instantiateWasm: (imports: Imports, receive: (instance: unknown, module: unknown) => void) => {
      const env = { ...imports.env, emscripten_num_logical_cores: () => 2 * xnnpackThreads };
      wasmApi
        .instantiate(readFileSync(join(dir, THREADED_WASM)), { ...imports, env })
        .then(({ instance, module }) => receive(instance, module), failInstantiation);
      return {};
    },
  };
  try {
    const module = await withTimeout(Promise.race([factory(config), instantiationFailed]), timeoutMs, 'the threaded wasm build');
    if (aborted) throw new Error(aborted);
    attachTfjsApi(module);
    setThreadsCount(xnnpackThreads);
    const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
    unrefWorkers(module);
    const kernelThreads = options.kernelThreads ?? 1;
    try {
      if (kernelThreads > 1) await startKernelThreads(module as unknown as EmscriptenMemoryHolder, kernelThreads);
    } catch (error) {
      (options.warn ?? console.warn)(`catvae: matrix products run on 1 thread (${firstLine(error)})`);
    }
    return backend;
  } catch (error) {
    // Emscripten uses the config object as its Module: stop whatever workers it started.
    (config as Partial<EmscriptenModule>).PThread?.terminateAllThreads();
    throw error;
  }
}

interface RegistryEntry {
  factory: () => tf.KernelBackend | Promise<tf.KernelBackend>;
  priority: number;
}

/** tfjs's own 'wasm' factory, saved when first replaced (calling again re-registers from it). */
let tfjsEntry: RegistryEntry | undefined;

function registeredWasmFactory(): RegistryEntry | undefined {
  const engine = tf.engine() as unknown as { registryFactory: Record<string, RegistryEntry> };
  return engine.registryFactory['wasm'];
}

/**
 * Makes the 'wasm' backend start tfjs's threaded build with `threads` threads
 * in Node. Call it after importing '@tensorflow/tfjs-backend-wasm' and before
 * the backend is first initialised (tf.setBackend('wasm') / tf.ready()).
 * Returns false, after warning, when threads cannot be used; the backend then
 * starts single-threaded as tfjs ships it.
 */
export function useThreadedWasm(options: ThreadedWasmOptions): boolean {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const fallback = (reason: string): false => {
    warn(`catvae: wasm backend runs on 1 thread (${reason})`);
    return false;
  };
  if (!Number.isInteger(options.threads) || options.threads < 2) return false;
  const original = tfjsEntry ?? registeredWasmFactory();
  if (!original) return fallback("'@tensorflow/tfjs-backend-wasm' is not imported");
  if (tf.findBackend('wasm') != null) return fallback('the backend had already started');
  if (typeof SharedArrayBuffer !== 'function') return fallback('SharedArrayBuffer is not available');
  tf.removeBackend('wasm');
  tfjsEntry = original;
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        return await startThreadedBackend(options);
      } catch (error) {
        fallback(`the threaded build did not start: ${firstLine(error)}`);
        setThreadsCount(1);
        return original.factory();
      }
    },
    original.priority ?? WASM_PRIORITY,
  );
  return true;
}
