/**
 * Drawing counter-based Gumbel noise (counterGumbel, the CatvaeCounterGumbel
 * op) on wasm: its SIMD kernel (src/wasm/counter_gumbel.ts) against the
 * plain op (the Philox uniforms on the host, their upload, the two logs by
 * the Gumbel-noise kernel), the kernel unregistered and registered in turn
 * within each round. Sizes: one step's noise of the default VAE (batch 100,
 * 20 x 10 = 20,000 values) and Gumbel-Rao's k = 10 copies (200,000).
 *
 *   node --import tsx bench/counter_gumbel.ts [--threads 1] [--rounds 15] [--calls 20] [--cpu-time]
 *
 * Each round times `calls` draws of each size per variant; the median round
 * is reported, in ms per draw.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { parseArgs } from 'node:util';
import { counterGumbel } from '../src/ops/gumbel_noise.js';
import { philoxKey } from '../src/ops/philox.js';
import { installWasmSpeedups, registerCounterGumbelKernel, unregisterCounterGumbelKernel } from '../src/wasm/index.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '15' },
    calls: { type: 'string', default: '20' },
    'cpu-time': { type: 'boolean', default: false },
  },
});
const [rounds, calls] = [Number(values.rounds), Number(values.calls)];
installWasmSpeedups({ threads: Number(values.threads) });
await tf.setBackend('wasm');

const sizes = [20_000, 200_000];
const variants = [
  { label: 'host (plain op)', use: unregisterCounterGumbelKernel },
  { label: 'wasm kernel', use: registerCounterGumbelKernel },
];
const times = new Map<string, number[]>();
let call = 0;
/** ms per draw over `calls` draws of `size` values. */
function time(size: number): number {
  const [start, cpuStart] = [performance.now(), process.cpuUsage()];
  for (let i = 0; i < calls; i++) counterGumbel([size], philoxKey(1, call++)).dispose();
  const cpu = process.cpuUsage(cpuStart);
  return (values['cpu-time'] ? (cpu.user + cpu.system) / 1000 : performance.now() - start) / calls;
}
for (let r = -1; r < rounds; r++) {
  for (const { label, use } of variants) {
    use();
    for (const size of sizes) {
      const ms = time(size);
      // Round -1 warms up (compilation, the heap's growth).
      if (r >= 0) times.set(`${label}, ${size}`, [...(times.get(`${label}, ${size}`) ?? []), ms]);
    }
  }
}
const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(
  `wasm, ${values.threads} thread(s), ${rounds} rounds of ${calls} draws; ${values['cpu-time'] ? 'CPU time' : 'wall clock'}, median round`,
);
for (const [key, v] of times) console.log(`${key.padEnd(26)} ${median(v).toFixed(3)} ms per draw  (best ${Math.min(...v).toFixed(3)})`);
