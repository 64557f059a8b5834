/**
 * The counter-based noise (src/ops/philox.ts, the CatvaeCounterGumbel op):
 * Philox4x32 against Random123's published known answers, the uniforms
 * bit-identical on every backend (on webgpu drawn by the WGSL kernel, with
 * nothing uploaded; on wasm by a SIMD kernel), and the Gumbel law of the draws.
 */
import { it, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { describeBackends } from './helpers/backends.js';
import { mulhi32, philox4x32, philoxKey, philoxUniforms, philoxWords } from '../src/ops/philox.js';
import { COUNTER_GUMBEL_KERNEL, counterGumbel, counterUniform } from '../src/ops/gumbel_noise.js';
import { hasKernel } from '../src/ops/dispatch.js';
import { countWebGpuWork } from '../src/webgpu/counters.js';
import { webGpuKernelsDisabled } from '../src/webgpu/index.js';

const hex = (words: readonly number[]) => words.map((w) => w.toString(16).padStart(8, '0')).join(' ');

// Random123 1.14, tests/kat_vectors: name, rounds, counter (4 words), key (2 words), expected output (4 words).
const KNOWN_ANSWERS = `
philox4x32 7 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   4dfccaba 190a87f0 c47362ba b6b5242a
philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000   6627e8d5 e169c58d bc57ac4c 9b00dbd8
philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   408f276d 41c83b0e a20bc7c6 6d5451fd
philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   d16cfe09 94fdcceb 5001e420 24126ea1`;

test("Philox4x32: Random123's known-answer vectors (7 and 10 rounds)", () => {
  const lines = KNOWN_ANSWERS.trim().split('\n');
  for (const line of lines) {
    const [, rounds, ...words] = line.trim().split(/\s+/);
    const w = words.map((s) => parseInt(s, 16));
    assert.equal(hex(philox4x32(w.slice(0, 4), w.slice(4, 6), Number(rounds))), hex(w.slice(6, 10)), line);
  }
});

test('mulhi32: the high word of the exact 64-bit product, against BigInt', () => {
  const cases = [0, 1, 0xffff, 0x10000, 0xffffffff, 0xd2511f53, 0xcd9e8d57, 0x80000000, 0x7fffffff, 0x12345678];
  for (let i = 0; i < 200; i++) cases.push(philox4x32([i, 0, 0, 0], [7, 9])[0]);
  for (const a of cases) {
    for (const b of cases.slice(0, 40)) {
      assert.equal(mulhi32(a, b), Number((BigInt(a) * BigInt(b)) >> 32n), `${a} * ${b}`);
    }
  }
});

test('the stream: element i is word i % 4 of block i / 4; uniforms (2m + 1) / 2^24 with m the top 23 bits', () => {
  const key = philoxKey(5, 3);
  const words = philoxWords(11, key);
  for (let i = 0; i < 11; i++) assert.equal(words[i], philox4x32([Math.floor(i / 4), 0, 0, 0], key)[i % 4], `element ${i}`);
  const u = philoxUniforms(11, key);
  for (let i = 0; i < 11; i++) assert.equal(u[i], ((words[i] >>> 9) * 2 + 1) / 2 ** 24);
  // The keys of neighbouring calls and of a sub-stream differ in both words.
  const [a, b, c] = [philoxKey(5, 3), philoxKey(5, 4), philoxKey(5, 3, 1)];
  assert.ok(a[0] !== b[0] && a[1] !== b[1] && a[0] !== c[0] && a[1] !== c[1] && a[0] !== a[1]);
});

/** Kolmogorov-Smirnov distance of a sample from the Gumbel(0, 1) CDF exp(-exp(-g)). */
function ksGumbel(values: Float32Array): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = Math.exp(-Math.exp(-sorted[i]));
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return d;
}

const EULER_GAMMA = 0.5772156649;
const N = 100_000;

await describeBackends('counter-based Gumbel noise', (backend) => {
  const shape = [N / 10, 10];
  const key = philoxKey(2026, 11, 30);

  it('the uniforms are bit-identical to the host stream; on webgpu the kernel draws them in one dispatch, uploading nothing', async () => {
    const gpuKernel = backend === 'webgpu' && !webGpuKernelsDisabled();
    assert.equal(
      hasKernel(COUNTER_GUMBEL_KERNEL),
      gpuKernel || backend === 'wasm',
      'webgpu (unless CATVAE_WEBGPU_KERNELS=0) and wasm have the kernel, cpu the plain op',
    );
    const counter = gpuKernel ? countWebGpuWork() : null;
    // An odd size: the last block is cut.
    const u = counterUniform([7, 13, 11], key);
    counter?.stop();
    const got = (await u.data()) as Float32Array;
    u.dispose();
    const want = philoxUniforms(7 * 13 * 11, key);
    const differ = got.findIndex((v, i) => v !== want[i]);
    assert.equal(differ, -1, `element ${differ}: ${got[differ]} vs ${want[differ]}`);
    if (counter) assert.deepEqual([counter.counts.dispatches, counter.counts.uploads], [1, 0], 'dispatches, uploads');
  });

  it(`Gumbel(0, 1) law over ${N} draws: -log(-log u) of the stream's uniforms, mean gamma, variance pi^2/6, KS`, async () => {
    const g = counterGumbel(shape, key);
    const values = (await g.data()) as Float32Array;
    g.dispose();
    const u = philoxUniforms(N, key);
    // The transform against float64: float32 rounding (1e-6) on cpu and wasm; catvae's shader, a few ulps of
    // its log; tfjs's own shader log (CATVAE_WEBGPU_KERNELS=0) errs by up to 2^-21 near u = 1.
    const tolerance = backend !== 'webgpu' ? 1e-6 : webGpuKernelsDisabled() ? 1e-3 : 2e-5;
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const exact = -Math.log(-Math.log(u[i]));
      worst = Math.max(worst, Math.abs(values[i] - exact) / Math.max(1, Math.abs(exact)));
    }
    assert.ok(worst < tolerance, `transform off by ${worst}`);
    const mean = values.reduce((a, b) => a + b, 0) / N;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1);
    // 5 standard errors: the mean's is sqrt(pi^2/6 / N) = 0.0041, the variance's sqrt((kurtosis - 1) / N) sigma^2 = 0.011.
    assert.ok(Math.abs(mean - EULER_GAMMA) < 0.02, `mean ${mean}`);
    assert.ok(Math.abs(variance - Math.PI ** 2 / 6) < 0.055, `variance ${variance}`);
    // Critical KS distance at p = 0.001: 1.95 / sqrt(N).
    const ks = ksGumbel(values);
    assert.ok(ks < 1.95 / Math.sqrt(N), `KS distance ${ks}`);
  });
});
