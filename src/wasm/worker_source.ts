/**
 * The entry script of each pthread worker of tfjs's threaded wasm build, in Node.
 *
 * tfjs hands Emscripten its worker code and main script as blob: URLs, which
 * Node's worker_threads cannot load; that is why tfjs turns threads off under
 * Node. `threads.ts` hands Emscripten this script instead, as a data: URL (an
 * ES module; Emscripten passes whatever locateFile returns to `new Worker`),
 * so nothing has to exist on disk and the same code serves tsx and the build.
 * It runs the worker code tfjs ships, unchanged, and loads the threaded build
 * with `require` from its real path. The globals it sets live in that worker
 * thread only, which runs nothing else.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** tfjs's worker module (it exports the worker code as a string). */
export function shippedWorkerModule(): string {
  return require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
}

/**
 * Kept as text because it runs as its own module in the worker, where neither
 * tsx nor this package's imports are available.
 * - The shipped code is a classic script: it wants CommonJS's `require` and
 *   `__filename` as free names, which an ES module lacks.
 * - A template literal turned its "\n" escapes into real newlines, which break
 *   its string literals; tfjs re-escapes them the same way before use.
 * - It evaluates the main script's text in the global scope, where that text's
 *   CommonJS tail throws; requiring the file yields the same factory.
 * - With workerData.probe set it only reports that all of this worked.
 */
const BOOTSTRAP = `
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
const workerModule = WORKER_MODULE;
const require = createRequire(workerModule);
const { wasmWorkerContents } = require(workerModule);
globalThis.require = require;
globalThis.__filename = workerModule;
(0, eval)(wasmWorkerContents.replace(/\\n/g, '\\\\n'));
globalThis.importScripts = (file) => { globalThis.WasmBackendModuleThreadedSimd = require(file); };
if (workerData && workerData.probe) parentPort.postMessage('ready');
`;

/** The worker entry as a data: URL that `new Worker(url)` accepts. */
export function workerEntryUrl(workerModule = shippedWorkerModule()): URL {
  const source = BOOTSTRAP.replace('WORKER_MODULE', JSON.stringify(workerModule));
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}
