/**
 * The threaded wasm build in Node. A backend starts once per process, so each
 * case runs this file again as a child (CATVAE_WASM_THREADS_CASE set), which
 * prints one JSON line; the parent checks it and that the child exited by
 * itself (the pool's worker threads must not keep a finished script alive).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CASE = process.env.CATVAE_WASM_THREADS_CASE;

if (CASE) {
  await runChild(CASE);
} else {
  test('2 threads: the pool has 2 threads, products are right, the script exits by itself', () => {
    const result = runCase('threads');
    assert.equal(result.threads, 2, JSON.stringify(result));
    assert.ok(result.maxError < 1e-4, `max error ${result.maxError}`);
    assert.deepEqual(result.warnings, []);
  });

  test('a threaded build that cannot start falls back to 1 thread with one warning', () => {
    const result = runCase('broken');
    assert.equal(result.threads, 1, JSON.stringify(result));
    assert.ok(result.maxError < 1e-4, `max error ${result.maxError}`);
    assert.equal(result.warnings.length, 1, JSON.stringify(result.warnings));
    assert.match(result.warnings[0], /wasm backend runs on 1 thread/);
  });

  test('threads: 1 leaves tfjs as it ships (no threaded build, no warning)', () => {
    const result = runCase('single');
    assert.equal(result.threads, 1, JSON.stringify(result));
    assert.deepEqual(result.warnings, []);
  });
}

interface ChildResult {
  threads: number;
  maxError: number;
  warnings: string[];
}

function runCase(name: string): ChildResult {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, CATVAE_WASM_THREADS_CASE: name, NODE_TEST_CONTEXT: undefined },
    encoding: 'utf8',
    // A child that does not exit on its own is killed here and fails below.
    timeout: 60_000,
  });
  assert.equal(child.signal, null, `the child did not exit by itself (killed by ${child.signal}); stderr: ${child.stderr}`);
  assert.equal(child.status, 0, `child failed: ${child.stderr}`);
  const line = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildResult;
}

async function runChild(name: string): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  const { installWasmSpeedups, wasmThreadsInUse } = await import('../src/wasm/index.js');
  const { useThreadedWasm } = await import('../src/wasm/threads.js');
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  if (name === 'broken') useThreadedWasm({ threads: 2, warn, workerModule: '/nonexistent/worker.js', timeoutMs: 10_000 });
  else installWasmSpeedups({ threads: name === 'single' ? 1 : 2, warn });
  await tf.setBackend('wasm');
  // A product big enough for XNNPACK to split across the pool, against a float64 sum.
  const n = 256;
  const a = tf.tensor2d(Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5), [n, n]);
  const b = tf.tensor2d(Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11 - 0.5), [n, n]);
  const c = tf.matMul(a, b, false, true).dataSync();
  const [av, bv] = [a.dataSync(), b.dataSync()];
  let maxError = 0;
  for (let i = 0; i < n; i += 17) {
    for (let j = 0; j < n; j += 13) {
      let s = 0;
      for (let k = 0; k < n; k++) s += av[i * n + k] * bv[j * n + k];
      maxError = Math.max(maxError, Math.abs(s - c[i * n + j]));
    }
  }
  console.log(JSON.stringify({ threads: wasmThreadsInUse(), maxError, warnings }));
}
