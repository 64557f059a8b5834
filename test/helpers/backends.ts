/**
 * One test body on several tfjs backends, in the style of tfjs's own
 * describeMathCPUAndGPU: `describeBackends(name, fn)` defines one suite per
 * backend (`name [cpu]`, `name [wasm]`, `name [webgpu]`) whose `before` hook
 * makes that backend current, so `fn`'s tests run on it.
 *
 * - cpu and wasm run everywhere; webgpu only where an adapter exists (the
 *   suite is skipped, with the reason, elsewhere).
 * - CATVAE_TEST_BACKENDS=cpu,wasm limits the backends (all files).
 * - Suites of a file run one after the other, so each sees its own backend;
 *   a file's plain `test`s see whichever backend was set last: keep them
 *   out of files that use this, or set the backend themselves.
 * - On webgpu synchronous reads throw: read tensors with `await t.data()`.
 */
import { before, describe } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/backend.js';

export type TestBackend = 'cpu' | 'wasm' | 'webgpu';
export const TEST_BACKENDS: readonly TestBackend[] = ['cpu', 'wasm', 'webgpu'];

/** The backends CATVAE_TEST_BACKENDS allows (all when unset). */
function allowed(): readonly TestBackend[] {
  const list = process.env.CATVAE_TEST_BACKENDS;
  if (!list) return TEST_BACKENDS;
  const names = list.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(TEST_BACKENDS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`CATVAE_TEST_BACKENDS: unknown backend ${unknown.join(', ')}; use ${TEST_BACKENDS.join(', ')}`);
  return names as TestBackend[];
}

const loaded = new Map<TestBackend, Promise<string | null>>();

/** Loads the backend once per process: null when it runs here, else why not. */
function load(backend: TestBackend): Promise<string | null> {
  if (!loaded.has(backend)) {
    const previous = tf.getBackend();
    loaded.set(
      backend,
      selectBackend(backend).then(
        async () => {
          if (previous) await tf.setBackend(previous);
          return null;
        },
        (error: unknown) => String((error as Error).message ?? error).split('\n')[0],
      ),
    );
  }
  return loaded.get(backend)!;
}

/** Makes `backend` current (loading it first if needed). */
export async function useBackend(backend: TestBackend): Promise<void> {
  const reason = await load(backend);
  if (reason) throw new Error(`backend ${backend} is not available: ${reason}`);
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
}

export interface DescribeBackendsOptions {
  /** The backends to run on (default: cpu, wasm, webgpu). */
  backends?: readonly TestBackend[];
}

/** Defines `name [backend]` for each backend; `fn(backend)` defines the suite's tests. Await it (top-level await). */
export async function describeBackends(
  name: string,
  fn: (backend: TestBackend) => void,
  options: DescribeBackendsOptions = {},
): Promise<void> {
  for (const backend of options.backends ?? TEST_BACKENDS) {
    const reason = allowed().includes(backend) ? await load(backend) : 'not in CATVAE_TEST_BACKENDS';
    describe(`${name} [${backend}]`, { skip: reason ?? false }, () => {
      before(() => useBackend(backend));
      fn(backend);
    });
  }
}
