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
  test('2 threads: products, the sparse layer and Adam split across threads are right; the script exits by itself', () => {
    const result = runCase('threads');
    assert.equal(result.threads, 2, JSON.stringify(result));
    assert.ok(result.maxError < 1e-4, `max error ${result.maxError}`);
    assert.ok(result.sparseError! < 1e-5, `sparse layer error ${result.sparseError}`);
    assert.ok(result.sparseGradError! < 1e-5, `sparse gradient error ${result.sparseGradError}`);
    assert.ok(result.adamError! < 1e-6, `Adam error ${result.adamError}`);
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
  sparseError?: number;
  sparseGradError?: number;
  adamError?: number;
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
  const a = tf.tensor2d(
    Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5),
    [n, n],
  );
  const b = tf.tensor2d(
    Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11 - 0.5),
    [n, n],
  );
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
  const extra = name === 'threads' ? await parallelKernels(tf) : {};
  console.log(JSON.stringify({ threads: wasmThreadsInUse(), maxError, ...extra, warnings }));
}

/** The sparse layer and Adam, whose work is split across the kernel threads, against float64 loops. */
async function parallelKernels(tf: typeof import('@tensorflow/tfjs')): Promise<Partial<ChildResult>> {
  const { sparseInputDense, sparseInputKernelGrad, FusedAdamOptimizer, adamUpdate } = await import('../src/ops/index.js');
  const { Rng } = await import('../src/random.js');
  const rng = new Rng(21);
  const [rows, d, n] = [100, 784, 64];
  const xs = Float32Array.from({ length: rows * d }, () => (rng.nextOpen01() < 0.13 ? 1 : 0));
  const ws = Float32Array.from({ length: d * n }, () => rng.nextOpen01() - 0.5);
  const dys = Float32Array.from({ length: rows * n }, () => rng.nextOpen01() - 0.5);
  const [x, w, dy] = [tf.tensor2d(xs, [rows, d]), tf.tensor2d(ws, [d, n]), tf.tensor2d(dys, [rows, n])];
  const y = sparseInputDense(x, w, tf.zeros([n]), 'linear').dataSync();
  const dw = sparseInputKernelGrad(x, dy).dataSync();
  let [sparseError, sparseGradError] = [0, 0];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += xs[i * d + k] * ws[k * n + j];
      sparseError = Math.max(sparseError, Math.abs(s - y[i * n + j]));
    }
  }
  for (let k = 0; k < d; k++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += xs[i * d + k] * dys[i * n + j];
      sparseGradError = Math.max(sparseGradError, Math.abs(s - dw[k * n + j]));
    }
  }
  // One Adam step on 100,003 weights (not a multiple of 4: the tail runs in JS).
  const size = 100_003;
  const p0 = Float32Array.from({ length: size }, () => rng.nextOpen01());
  const g0 = Float32Array.from({ length: size }, () => rng.nextOpen01() - 0.5);
  const v = tf.variable(tf.tensor1d(p0));
  new FusedAdamOptimizer(0.01).applyGradients([{ name: v.name, tensor: tf.tensor1d(g0) }]);
  const got = v.dataSync();
  const expected = [new Float32Array(size), new Float32Array(size), new Float32Array(size)];
  const attrs = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, biasCorrection1: 1 - 0.9, biasCorrection2: 1 - 0.999 };
  adamUpdate(p0, g0, new Float32Array(size), new Float32Array(size), expected[0], expected[1], expected[2], attrs);
  let adamError = 0;
  for (let i = 0; i < size; i++) adamError = Math.max(adamError, Math.abs(got[i] - expected[0][i]));
  return { sparseError, sparseGradError, adamError };
}
