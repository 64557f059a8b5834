/**
 * Runs bench/pytorch_reference.py: finds a Python with torch, picks the
 * OpenBLAS set-up, and parses the result.
 *
 * Two OpenBLAS settings matter a lot on these machines, so unless the
 * environment fixes them, short trials pick the fastest and catvae is
 * compared against the strongest reference:
 * - OPENBLAS_CORETYPE: OpenBLAS 0.3.21 (Debian 12) does not recognise recent
 *   Xeons and falls back to older kernels (we saw Haswell, and Prescott at
 *   1/20 the speed) unless told SkylakeX.
 * - OPENBLAS_NUM_THREADS: OpenBLAS's own threads spin next to torch's
 *   OpenMP threads; 2 + 2 on 2 cores ran 2.4x slower than 2 + 1.
 * - torch's intra-op threads: on a 2-core AMD EPYC machine 2 threads
 *   collapsed (124-250 img/s against 6,131 with one), so they are searched
 *   too, from 1 to the cores, unless --threads fixes them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../src/bench/run_spec.js';
import type { BlasSetup, TorchOptions } from '../src/bench/torch_peer.js';

export type { BlasSetup, TorchOptions };

const SCRIPT = fileURLToPath(new URL('./pytorch_reference.py', import.meta.url));
/** Tried in order: the PATH's python3 may be a pyenv one without Debian's torch. */
const PYTHONS = ['python3', '/usr/bin/python3'];

/** One configuration tried, as a line for the bench's log. */
export function describeTrial(setup: BlasSetup, result: RunResult, seconds = 4): string {
  const core = `${result.blas?.coretype ?? '?'}${setup.coretype ? '' : ' (its own choice)'}`;
  const torch = setup.torchThreads ? `${setup.torchThreads} torch thread(s), ` : '';
  return `PyTorch trial (${seconds} s, batch ${result.batch}): ${torch}OpenBLAS ${core}, ${setup.threads ?? 'default'} BLAS thread(s): ${result.imagesPerSecond.toFixed(0)} img/s`;
}

/** torch thread counts to try on `cores` cores: 1, powers of two, and all the cores. */
export function torchThreadCandidates(cores: number): number[] {
  const out = new Set([1]);
  for (let t = 2; t < cores; t *= 2) out.add(t);
  out.add(Math.max(1, cores));
  return [...out];
}

/** Below this share of its batch-1000 speed per image, the peer's batch-100 run is suspect. */
export const SMALL_BATCH_RATIO = 0.35;

/**
 * A warning when the peer is far slower per image at batch 100 than at batch
 * 1000: small batches cost more per image, but not several times more, unless
 * threads fight (the collapse this search exists for). Null when it looks sane.
 */
export function peerWarning(results: readonly RunResult[]): string | null {
  const speed = (batch: number) => {
    const runs = results.filter((r) => r.impl === 'pytorch' && r.batch === batch && Number.isFinite(r.imagesPerSecond));
    if (runs.length === 0) return null;
    const sorted = runs.map((r) => r.imagesPerSecond).sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)], detail: runs[0].detail };
  };
  const small = speed(100);
  const large = speed(1000);
  if (!small || !large || small.median >= SMALL_BATCH_RATIO * large.median) return null;
  return (
    `warning: the PyTorch peer runs batch 100 at ${small.median.toFixed(0)} img/s, far below its ${large.median.toFixed(0)} img/s at batch 1000 ` +
    `(${small.detail}): likely a broken thread configuration; compare against it with care, or fix it with --threads / OPENBLAS_NUM_THREADS`
  );
}

/** A python that can `import torch`, or null. */
export function findTorchPython(preferred?: string): string | null {
  for (const python of preferred ? [preferred] : PYTHONS) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0) return python;
  }
  return null;
}

function hasAvx512(): boolean {
  try {
    return /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export function runTorch(python: string, o: TorchOptions, setup: BlasSetup, seconds = o.seconds): RunResult {
  const env = { ...process.env };
  if (setup.coretype) env.OPENBLAS_CORETYPE = setup.coretype;
  else delete env.OPENBLAS_CORETYPE;
  if (setup.threads) env.OPENBLAS_NUM_THREADS = String(setup.threads);
  const args = [SCRIPT, '--batch', String(o.batch), '--latent-vars', String(o.latentVars), '--categories', String(o.categories)];
  const threads = setup.torchThreads ?? o.threads;
  args.push('--seconds', String(seconds), '--threads', String(threads), '--flush-denormal', o.flushDenormal ? '1' : '0');
  if (o.images) args.push('--images', o.images);
  const run = spawnSync(python, args, { env, encoding: 'utf8', timeout: (seconds + 300) * 1000 });
  const line = run.stdout?.trim().split('\n').pop();
  if (run.status !== 0 || !line)
    throw new Error(`the PyTorch reference failed: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`);
  const r = JSON.parse(line);
  const blas = `${r.blas.library}${r.blas.coretype ? ` ${r.blas.coretype}` : ''}${r.blas.threads ? ` (${r.blas.threads} BLAS threads)` : ''}`;
  return {
    impl: 'pytorch',
    label: 'pytorch',
    backend: 'pytorch',
    detail: `torch ${r.torch}, ${r.threads} threads, ${blas}${r.flushDenormal ? ', flush denormal' : ''}`,
    batch: r.batch,
    steps: r.steps,
    seconds: r.seconds,
    msPerStep: r.msPerStep,
    imagesPerSecond: r.imagesPerSecond,
    peakRssMiB: r.peakRssMiB,
    finalLoss: r.finalLoss,
    blas: { library: r.blas.library, coretype: r.blas.coretype, threads: r.blas.threads, OPENBLAS_CORETYPE: r.blas.OPENBLAS_CORETYPE },
    flushDenormal: r.flushDenormal,
  };
}

/**
 * The set-up of the reference: what the options or environment fix, else the
 * fastest of the candidates in 4-second trials at batch 100. Searched: the
 * OpenBLAS core type (its own choice, and SkylakeX on AVX-512 CPUs), torch's
 * intra-op threads (1 to the cores, unless `fixedTorchThreads`), and BLAS
 * threads (1 and torch's count). Returns every trial, for the report.
 */
export function chooseBlasSetup(
  python: string,
  o: TorchOptions,
): { setup: BlasSetup; trials: Array<{ setup: BlasSetup; result: RunResult }> } {
  const envThreads = process.env.OPENBLAS_NUM_THREADS ? Number(process.env.OPENBLAS_NUM_THREADS) : undefined;
  const fixedCore = o.coretype !== undefined ? o.coretype || null : process.env.OPENBLAS_CORETYPE;
  const cores = fixedCore !== undefined ? [fixedCore] : hasAvx512() ? [null, 'SkylakeX'] : [null];
  const torchThreads = o.fixedTorchThreads ? [o.threads] : torchThreadCandidates(o.cores ?? availableParallelism());
  const candidates = cores.flatMap((coretype) =>
    torchThreads.flatMap((t) =>
      (envThreads !== undefined ? [envThreads] : [...new Set([1, t])]).map((blas) => ({ coretype, threads: blas, torchThreads: t })),
    ),
  );
  if (candidates.length === 1) return { setup: candidates[0], trials: [] };
  const trials = candidates.map((setup) => ({ setup, result: runTorch(python, { ...o, batch: 100 }, setup, 4) }));
  const best = trials.reduce((a, b) => (b.result.imagesPerSecond > a.result.imagesPerSecond ? b : a));
  return { setup: best.setup, trials };
}
