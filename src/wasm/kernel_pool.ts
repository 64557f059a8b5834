/**
 * Worker threads that run catvae's SIMD kernels (simd_kernels.ts) on the
 * wasm backend's own memory, so one product, one Adam update or one sparse
 * layer can use every core.
 *
 * tfjs's threaded build keeps its heap in a shared WebAssembly.Memory; a
 * worker that instantiates the same kernel module on that memory reads and
 * writes the same tensors. The calling thread hands each worker a list of
 * kernel calls through a small shared control block, runs its own share,
 * and waits (Atomics) for the workers: a hand-off costs microseconds, not a
 * message through the event loop. A worker polls briefly for the next job,
 * then sleeps in Atomics.wait. Workers are unref'd: they never keep a
 * finished program alive.
 */
import { Worker } from 'node:worker_threads';
import { KERNEL_SIGNATURES, kernelModuleFor, type EmscriptenMemoryHolder } from './simd_kernels.js';

/** Int32 slots of a control block: sequence number, last sequence done, call count, error flag, then the calls. */
const SEQ = 0;
const DONE = 1;
const COUNT = 2;
const ERROR = 3;
const HEADER = 4;
/** A call: kernel index, then up to 15 arguments (i32 or f32, as the kernel's signature says). */
const CALL_SLOTS = 16;
const MAX_CALLS = 8;
const CONTROL_INTS = HEADER + MAX_CALLS * CALL_SLOTS;
/** Loop turns a worker polls for the next job before it sleeps (tens of microseconds). */
const SPIN = 20_000;
/** How long a worker may take to start. */
const START_TIMEOUT_MS = 30_000;

/** A kernel call: the kernel's index in KERNEL_SIGNATURES, then its arguments. */
export type KernelCall = number[];

const indexByName = new Map(KERNEL_SIGNATURES.map(({ name }, i) => [name, i]));

/** A call of the kernel named `name`. */
export function kernelCall(name: string, ...args: number[]): KernelCall {
  const index = indexByName.get(name);
  if (index === undefined) throw new Error(`no wasm kernel named ${name}`);
  return [index, ...args];
}

/** Runs in each worker: a CommonJS script (Worker `eval`), so it needs no file on disk and no loader. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, signatures } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = signatures.map((s) => kernels[s.name]);
const ints = new Int32Array(control);
const floats = new Float32Array(control);
const args = [];
parentPort.postMessage('ready');
let seen = 0;
for (;;) {
  for (let spin = 0; spin < ${SPIN} && Atomics.load(ints, ${SEQ}) === seen; spin++);
  Atomics.wait(ints, ${SEQ}, seen);
  seen = Atomics.load(ints, ${SEQ});
  const count = ints[${COUNT}];
  try {
    for (let c = 0; c < count; c++) {
      const o = ${HEADER} + c * ${CALL_SLOTS};
      const k = ints[o];
      const types = signatures[k].types;
      args.length = types.length;
      for (let j = 0; j < types.length; j++) args[j] = types[j] === 'f' ? floats[o + 1 + j] : ints[o + 1 + j];
      fns[k](...args);
    }
  } catch (error) {
    Atomics.store(ints, ${ERROR}, 1);
  }
  Atomics.store(ints, ${DONE}, seen);
  Atomics.notify(ints, ${DONE});
}
`;

interface PoolWorker {
  worker: Worker;
  ints: Int32Array;
  floats: Float32Array;
  seq: number;
}

type Kernel = (...args: number[]) => void;

export class KernelPool {
  private constructor(
    private readonly workers: PoolWorker[],
    private readonly local: Kernel[],
  ) {}

  /** Threads that share a job: the workers and the calling thread. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts `workers` workers on `module` (the kernel module, compiled for a
   * shared memory) and `memory`; `local` holds the calling thread's instances
   * of the kernels, in the order of KERNEL_SIGNATURES.
   */
  static async start(module: object, memory: object, local: Kernel[], workers: number): Promise<KernelPool> {
    const started: PoolWorker[] = [];
    const signatures = KERNEL_SIGNATURES.map(({ name, types }) => ({ name, types }));
    try {
      for (let i = 0; i < workers; i++) {
        const control = new SharedArrayBuffer(CONTROL_INTS * 4);
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control, signatures } });
        started.push({ worker, ints: new Int32Array(control), floats: new Float32Array(control), seq: 0 });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`a kernel worker did not start within ${START_TIMEOUT_MS / 1000} s`)),
            START_TIMEOUT_MS,
          );
          worker.once('message', () => (clearTimeout(timer), resolve()));
          worker.once('error', (error) => (clearTimeout(timer), reject(error)));
          worker.once('exit', (code) => (clearTimeout(timer), reject(new Error(`a kernel worker exited with code ${code}`))));
        });
        worker.unref();
      }
    } catch (error) {
      await Promise.all(started.map((w) => w.worker.terminate()));
      throw error;
    }
    return new KernelPool(started, local);
  }

  /**
   * Runs `shares[0]` on the calling thread and `shares[i]` on worker i - 1,
   * all at once; returns when every share is done. At most `threads` shares
   * of at most MAX_CALLS calls each.
   */
  run(shares: KernelCall[][]): void {
    if (shares.length > this.threads) throw new Error(`${shares.length} shares for ${this.threads} threads`);
    const posted = this.workers.slice(0, Math.max(0, shares.length - 1));
    posted.forEach((w, i) => this.post(w, shares[i + 1]));
    for (const call of shares[0] ?? []) this.local[call[0]](...call.slice(1));
    let failed = false;
    for (const w of posted) {
      // Sleep only on the value just read: one read for the test and another for the wait could miss the notify.
      for (let done = Atomics.load(w.ints, DONE); done !== w.seq; done = Atomics.load(w.ints, DONE)) Atomics.wait(w.ints, DONE, done);
      if (Atomics.exchange(w.ints, ERROR, 0) !== 0) failed = true;
    }
    if (failed) throw new Error('a wasm kernel failed in a worker thread');
  }

  private post(w: PoolWorker, calls: KernelCall[]): void {
    if (calls.length > MAX_CALLS) throw new Error(`at most ${MAX_CALLS} kernel calls per share, got ${calls.length}`);
    calls.forEach((call, c) => {
      const o = HEADER + c * CALL_SLOTS;
      const types = KERNEL_SIGNATURES[call[0]].types;
      w.ints[o] = call[0];
      for (let j = 0; j < types.length; j++) (types[j] === 'f' ? w.floats : w.ints)[o + 1 + j] = call[1 + j];
    });
    w.ints[COUNT] = calls.length;
    w.seq++;
    Atomics.store(w.ints, SEQ, w.seq);
    Atomics.notify(w.ints, SEQ);
  }
}

const pools = new WeakMap<object, KernelPool>();

/**
 * Starts `threads - 1` kernel workers for a wasm backend's module (its memory
 * must be shared: the threaded build). Resolves false when there is nothing
 * to start; throws when the workers fail. Without workers, kernels run on
 * the calling thread alone.
 */
export async function startKernelThreads(holder: EmscriptenMemoryHolder, threads: number): Promise<boolean> {
  const km = kernelModuleFor(holder);
  if (!km || threads < 2 || !(km.memory.buffer instanceof SharedArrayBuffer)) return false;
  const kernels = km.kernels as unknown as Record<string, Kernel>;
  const local = KERNEL_SIGNATURES.map(({ name }) => kernels[name]);
  pools.set(holder, await KernelPool.start(km.module, km.memory, local, threads - 1));
  return true;
}

/** Threads the kernels of this backend may use (1 without workers). */
export function kernelThreads(holder: EmscriptenMemoryHolder): number {
  return pools.get(holder)?.threads ?? 1;
}

/**
 * Runs the shares at once, one per thread, on the backend's kernel pool; in
 * turn on the calling thread when it has no pool. False without SIMD kernels.
 */
export function runShares(holder: EmscriptenMemoryHolder, shares: KernelCall[][]): boolean {
  const km = kernelModuleFor(holder);
  if (!km) return false;
  const pool = pools.get(holder);
  if (pool && shares.length > 1) {
    pool.run(shares);
    return true;
  }
  const kernels = km.kernels as unknown as Record<string, Kernel>;
  for (const call of shares.flat()) kernels[KERNEL_SIGNATURES[call[0]].name](...call.slice(1));
  return true;
}
