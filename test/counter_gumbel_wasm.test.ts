/**
 * The wasm kernel of the counter-based noise op (CatvaeCounterGumbel;
 * src/wasm/counter_gumbel.ts, SIMD loop in counter_gumbel_kernel.ts): its
 * uniforms bit-identical to the host stream (philoxUniforms) for any size and
 * key, at the stream's extreme words too; its Gumbel draws within 3 ulp of
 * float64 -log(-log u); the Gumbel law; the same bits on 1 and 2 threads;
 * no tensor or scratch left behind.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { COUNTER_GUMBEL_KERNEL, counterGumbel, counterUniform } from '../src/ops/gumbel_noise.js';
import { hasKernel } from '../src/ops/dispatch.js';
import { philox4x32, philoxKey, philoxUniforms, openUniformOfWord, type PhiloxKey } from '../src/ops/philox.js';
import { counterNoiseOnHost } from '../src/wasm/counter_gumbel.js';
import { COUNTER_NOISE_FLOATS } from '../src/wasm/counter_gumbel_kernel.js';
import { simdModuleBytes, type SimdKernels } from '../src/wasm/simd_kernels.js';

interface WasmApi {
  Memory: new (d: object) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: SimdKernels };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The stream's uniforms of the blocks block0 .. block0 + n / 4, on the host, one block at a time. */
function hostUniforms(block0: number, n: number, key: PhiloxKey): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => openUniformOfWord(philox4x32([block0 + Math.floor(i / 4), 0, 0, 0], key)[i % 4]));
}

/** Worst error in float32 ulps relative to the float64 value, |x| 2^-23 (absolute 2^-24 near 0), as the gumbel kernel's test counts them. */
function worstUlps(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (Math.max(Math.abs(want[i]), 0.5) * 2 ** -23));
  return worst;
}

const gumbel64 = (u: ArrayLike<number>) => Array.from(u, (x) => -Math.log(-Math.log(x)));
const KEYS: PhiloxKey[] = [[0, 0], [0xffffffff, 0xffffffff], philoxKey(2026, 11, 30), [0x80000000, 0x7fffffff]];
/**
 * philoxKey(9, 9) has u = 2^-24 (top 23 bits 0) at element 9663761 and u = 1 - 2^-24
 * (all 1) at element 7706787: the ends of the open interval, where -log(-log u) is steepest.
 */
const TAIL_KEY = philoxKey(9, 9);
const [LOWEST, HIGHEST] = [9663761, 7706787];

const CASE = process.env.CATVAE_COUNTER_GUMBEL_THREADS;

if (!CASE)
  test('the SIMD loop: uniforms bit-identical to the host stream, from any block, for any key; Gumbel draws within 3 ulp of float64', () => {
    const memory = new WA.Memory({ initial: 16 });
    const k = new WA.Instance(new WA.Module(simdModuleBytes(false, false)), { env: { memory } }).exports;
    const units = 5;
    const n = units * COUNTER_NOISE_FLOATS;
    const out = new Float32Array(memory.buffer, 64, n);
    const cases: Array<[PhiloxKey, number]> = KEYS.flatMap((key) => [0, 8 * 12345, 2 ** 31 - 64].map((b): [PhiloxKey, number] => [key, b]));
    // The units holding the extreme uniforms.
    for (const index of [LOWEST, HIGHEST]) cases.push([TAIL_KEY, (Math.floor(index / n) * n) / 4]);
    for (const [key, block0] of cases) {
      const want = hostUniforms(block0, n, key);
      k.philoxUniform(64, block0, units, key[0], key[1]);
      const differ = out.findIndex((x, i) => x !== want[i]);
      assert.equal(differ, -1, `key ${key}, block ${block0}: element ${differ} is ${out[differ]}, the host's ${want[differ]}`);
      k.philoxGumbel(64, block0, units, key[0], key[1]);
      const ulps = worstUlps(out, gumbel64(want));
      assert.ok(ulps <= 3, `key ${key}, block ${block0}: worst ${ulps} ulp`);
    }
    // The extremes were in those units (the check above covered them).
    const at = (index: number) => hostUniforms(Math.floor(index / 4), 4, TAIL_KEY)[index % 4];
    assert.deepEqual([at(LOWEST), at(HIGHEST)], [2 ** -24, 1 - 2 ** -24]);
  });

if (!CASE)
  test('the host fallback (no SIMD wasm): the host stream and float64 logs', () => {
    const key = philoxKey(1, 2);
    const [u, g] = [new Float32Array(37), new Float32Array(37)];
    counterNoiseOnHost(u, key, true);
    counterNoiseOnHost(g, key, false);
    assert.deepEqual(u, philoxUniforms(37, key));
    assert.deepEqual(g, Float32Array.from(gumbel64(u)));
  });

/** Runs in a child process: the op's output on `threads` threads, as hashes of its bits. */
async function child(threads: number): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  const { installWasmSpeedups, wasmThreadsInUse } = await import('../src/wasm/index.js');
  installWasmSpeedups({ threads });
  await tf.setBackend('wasm');
  console.log(JSON.stringify({ threads: wasmThreadsInUse(), ...(await drawHashes()) }));
}

/** FNV-1a over the float bits of 200,003 uniforms and Gumbel draws (a tail included). */
async function drawHashes(): Promise<{ uniform: number; gumbel: number }> {
  const hash = async (t: tf.Tensor) => {
    const bits = new Uint32Array(((await t.data()) as Float32Array).buffer);
    t.dispose();
    let h = 0x811c9dc5;
    for (const w of bits) h = Math.imul(h ^ w, 0x01000193) >>> 0;
    return h;
  };
  const key = philoxKey(5, 6);
  return { uniform: await hash(counterUniform([200_003], key)), gumbel: await hash(counterGumbel([200_003], key)) };
}

if (CASE) await child(Number(CASE));
else {
  const { useTestBackend } = await import('./helpers/backend.js');
  await useTestBackend();

  test('on the wasm backend: the op runs the kernel; uniforms bit-identical to the host for sizes with tails and several keys', () => {
    assert.ok(hasKernel(COUNTER_GUMBEL_KERNEL), 'the wasm plug-in registers the kernel');
    const backend = tf.engine().backend as unknown as { numDataIds(): number };
    const [tensors, dataIds] = [tf.memory().numTensors, backend.numDataIds()];
    for (const key of KEYS) {
      for (const shape of [[1], [3], [16], [31], [32], [33], [7, 13, 11], [100, 20, 10], [20_001]]) {
        const size = shape.reduce((a, b) => a * b, 1);
        const want = philoxUniforms(size, key);
        const u = counterUniform(shape, key);
        const got = u.dataSync();
        assert.deepEqual(u.shape, shape);
        const differ = got.findIndex((x, i) => x !== want[i]);
        assert.equal(differ, -1, `key ${key}, shape [${shape}]: element ${differ} is ${got[differ]}, the host's ${want[differ]}`);
        const g = counterGumbel(shape, key);
        const ulps = worstUlps(g.dataSync(), gumbel64(want));
        assert.ok(ulps <= 3, `key ${key}, shape [${shape}]: worst ${ulps} ulp`);
        tf.dispose([u, g]);
      }
    }
    assert.deepEqual(
      [tf.memory().numTensors, backend.numDataIds()],
      [tensors, dataIds],
      'tensors, backend buffers (the scratch of the tail)',
    );
  });

  test('the Gumbel law over 100,000 draws of the kernel: mean gamma, variance pi^2/6, KS', () => {
    const n = 100_000;
    const g = counterGumbel([n / 10, 10], philoxKey(31, 4));
    const values = Float64Array.from(g.dataSync());
    g.dispose();
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    // 5 standard errors: the mean's is sqrt(pi^2/6 / n) = 0.0041, the variance's sqrt((kurtosis - 1) / n) sigma^2 = 0.011.
    assert.ok(Math.abs(mean - 0.5772156649) < 0.02, `mean ${mean}`);
    assert.ok(Math.abs(variance - Math.PI ** 2 / 6) < 0.055, `variance ${variance}`);
    const sorted = values.sort();
    let ks = 0;
    sorted.forEach((x, i) => {
      const cdf = Math.exp(-Math.exp(-x));
      ks = Math.max(ks, cdf - i / n, (i + 1) / n - cdf);
    });
    // Critical KS distance at p = 0.001: 1.95 / sqrt(n).
    assert.ok(ks < 1.95 / Math.sqrt(n), `KS distance ${ks}`);
  });

  test('1 and 2 kernel threads draw the same bits (and these are the bits drawn here)', async () => {
    const run = (threads: number) => {
      const result = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
        env: { ...process.env, CATVAE_COUNTER_GUMBEL_THREADS: String(threads), NODE_TEST_CONTEXT: undefined },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.status, 0, `the ${threads}-thread child failed: ${result.stderr}`);
      return JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as { threads: number; uniform: number; gumbel: number };
    };
    const [one, two] = [run(1), run(2)];
    assert.deepEqual([one.threads, two.threads], [1, 2]);
    const here = await drawHashes();
    assert.deepEqual({ ...one, threads: 0 }, { ...two, threads: 0 }, '1 vs 2 threads');
    assert.deepEqual({ uniform: one.uniform, gumbel: one.gumbel }, here, '1 thread vs this process');
  });
}
