/**
 * `catvae bench` (`npm run bench`): steady-state training throughput of the
 * default VAE on each available backend at batch 100 and 1000, and of the same
 * model in PyTorch when `import torch` works, all in one invocation (these
 * shared machines drift 10-30% between sittings: compare only within one run).
 * Each run is a child process (bench_child.ts); --rounds repeats the whole
 * set, interleaved, and reports medians. The PyTorch peer lives in the
 * repository's bench/ folder (bench/pytorch.ts), not in the package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, summarize } from '../bench/report.js';
import { VARIANTS, type RunResult, type RunSpec, type Variant } from '../bench/run_spec.js';
import type { BlasSetup, TorchOptions, TorchPeer } from '../bench/torch_peer.js';
import { mnistDataDir } from '../data/index.js';
import { DEFAULT_VAE_CONFIG } from '../model/config.js';
import { checkPositiveInt, cliParser, requireValues } from './parser.js';
import { CliError, EXIT_USAGE } from './run.js';

/** This module's extension: .ts under tsx (npm run bench), .js in the built package. */
const EXT = fileURLToPath(import.meta.url).endsWith('.ts') ? '.ts' : '.js';
const CHILD = fileURLToPath(new URL(`./bench_child${EXT}`, import.meta.url));
/** The PyTorch peer: bench/pytorch.ts of a clone, run under tsx (the package does not ship it). */
const TORCH_PEER = new URL('../../bench/pytorch.ts', import.meta.url);

async function loadTorchPeer(): Promise<TorchPeer | string> {
  if (EXT !== '.ts' || !existsSync(fileURLToPath(TORCH_PEER)))
    return "the PyTorch reference needs the repository's bench/ folder: run 'npm run bench' in a clone of catvae";
  return (await import(TORCH_PEER.href)) as TorchPeer;
}

const OPTIONAL: Record<string, readonly string[]> = {
  'tensorflow-gpu': ['@tensorflow/tfjs-node-gpu'],
  tensorflow: ['@tensorflow/tfjs-node'],
  webgpu: ['webgpu', '@tensorflow/tfjs-backend-webgpu'],
  wasm: ['@tensorflow/tfjs-backend-wasm'],
};

/** 'auto': cpu always; the others when their packages are installed. */
function availableBackends(): string[] {
  const require = createRequire(import.meta.url);
  const installed = (pkgs: readonly string[]) =>
    pkgs.every((pkg) => {
      try {
        require.resolve(pkg);
        return true;
      } catch {
        return false;
      }
    });
  return [...Object.keys(OPTIONAL).filter((name) => installed(OPTIONAL[name])), 'cpu'];
}

function failedRun(
  base: Omit<RunResult, 'steps' | 'seconds' | 'msPerStep' | 'imagesPerSecond' | 'peakRssMiB' | 'detail'>,
  error: string,
): RunResult {
  return { ...base, detail: '', steps: 0, seconds: 0, msPerStep: NaN, imagesPerSecond: NaN, peakRssMiB: NaN, error };
}

function runChild(spec: RunSpec): RunResult {
  const child = spawnSync(process.execPath, [...process.execArgv, CHILD, JSON.stringify(spec)], {
    encoding: 'utf8',
    timeout: (spec.seconds + spec.warmupSeconds + 600) * 1000,
    maxBuffer: 16 << 20,
  });
  const line = child.stdout?.trim().split('\n').pop();
  if (child.status === 0 && line?.startsWith('{')) return JSON.parse(line) as RunResult;
  // The child ends a failure with one 'error: ...' line (runCli); tfjs may print warnings before it.
  const lines = (child.stderr || child.error?.message || `exit ${child.status}`).trim().split('\n');
  const why =
    lines.find((l) => l.startsWith('error: '))?.slice('error: '.length) ?? lines.filter((l) => !/already registered/.test(l)).pop();
  const { backend, variant, batch } = spec;
  return failedRun({ impl: 'catvae', label: `${backend}:${variant}`, backend, variant, batch }, why ?? 'no output');
}

export async function benchCommand(argv?: string[]): Promise<number> {
  // The wasm package is an optional peer: without it the default is the core count.
  const wasm = await import('../wasm/index.js').catch(() => null);
  const defaultThreads = wasm?.defaultWasmThreads() ?? availableParallelism();
  const args = await cliParser(
    'npm run bench -- [options]\n\nTraining throughput of the default VAE, per backend, against PyTorch ' +
      '(the PyTorch reference runs from a clone of the repository: it needs its bench/ folder and a python3 with torch).',
    argv,
  )
    .options(
      requireValues({
        backends: {
          type: 'array',
          string: true,
          alias: 'backend',
          default: ['auto'],
          describe: `Backends to run (auto: ${availableBackends().join(', ')})`,
        },
        'batch-size': { type: 'array', number: true, default: [100, 1000], describe: 'Batch sizes' },
        seconds: { type: 'number', default: 15, describe: 'Measured seconds per run, after warm-up' },
        'warmup-seconds': { type: 'number', default: 3, describe: 'Warm-up seconds per run (at least 2 steps)' },
        'latent-vars': { type: 'number', default: DEFAULT_VAE_CONFIG.latentVars, describe: 'N' },
        categories: { type: 'number', default: DEFAULT_VAE_CONFIG.categories, describe: 'K' },
        threads: { type: 'number', default: defaultThreads, describe: 'wasm threads (and PyTorch threads)' },
        variants: {
          type: 'array',
          string: true,
          default: ['catvae'],
          describe: `wasm set-ups to compare: ${Object.keys(VARIANTS).join(', ')}, or all`,
        },
        rounds: { type: 'number', default: 1, describe: 'Repeat the whole set, interleaved; report medians' },
        'log-every': { type: 'number', default: 100, describe: 'Read the loss back every this many steps' },
        'random-data': { type: 'boolean', default: false, describe: 'Random binary images instead of MNIST' },
        torch: { type: 'boolean', default: true, describe: 'Run the PyTorch reference when torch imports (from a clone only)' },
        python: { type: 'string', describe: 'Python with torch (default: python3, then /usr/bin/python3)' },
        'openblas-coretype': {
          type: 'string',
          describe: "OPENBLAS_CORETYPE for the reference ('' = OpenBLAS's own choice; default: the fastest in a trial)",
        },
        'flush-denormal': { type: 'boolean', default: true, describe: 'torch.set_flush_denormal in the reference' },
        json: { type: 'boolean', default: false, describe: 'Print JSON instead of the table' },
      }),
    )
    .check((a) => {
      for (const b of a['batch-size'] as number[]) checkPositiveInt(b, 'batch-size');
      for (const flag of ['rounds', 'threads', 'latent-vars', 'categories', 'log-every'] as const) checkPositiveInt(a[flag], flag);
      if (!(a.seconds > 0)) throw new Error(`--seconds must be positive, got ${a.seconds}`);
      return true;
    })
    .parseAsync();

  const variants = (args.variants as string[]).includes('all') ? (Object.keys(VARIANTS) as Variant[]) : (args.variants as Variant[]);
  for (const v of variants)
    if (!(v in VARIANTS)) throw new CliError(`unknown variant '${v}': use ${Object.keys(VARIANTS).join(', ')}, all`, EXIT_USAGE);
  const backends = (args.backends as string[]).flatMap((b) => (b === 'auto' ? availableBackends() : [b]));
  const batches = args['batch-size'] as number[];
  const log = (s: string) => process.stderr.write(`${s}\n`);
  let images: string | null = null;
  if (!args['random-data']) {
    try {
      const file = join(mnistDataDir(), 'train-images-idx3-ubyte');
      if (existsSync(file)) images = file;
      else log(`note: ${file} not found; using random binary images`);
    } catch (error) {
      log(`note: ${(error as Error).message}; using random binary images`);
    }
  }
  const base = {
    latentVars: args['latent-vars'],
    categories: args.categories,
    seconds: args.seconds,
    warmupSteps: 2,
    warmupSeconds: args['warmup-seconds'],
    threads: args.threads,
    logEvery: args['log-every'],
    images,
  };
  const specs: RunSpec[] = [];
  for (const batch of batches) {
    for (const backend of backends) {
      for (const variant of backend === 'wasm' ? variants : (['catvae'] as Variant[])) specs.push({ ...base, backend, variant, batch });
    }
  }

  let python: string | null = null;
  let peer: TorchPeer | null = null;
  let blas: BlasSetup = { coretype: null, threads: null };
  const torchOptions: Omit<TorchOptions, 'batch'> = {
    latentVars: base.latentVars,
    categories: base.categories,
    seconds: base.seconds,
    threads: base.threads,
    images,
    flushDenormal: args['flush-denormal'],
    coretype: args['openblas-coretype'],
  };
  const results: RunResult[] = [];
  if (args.torch) {
    const loaded = await loadTorchPeer();
    if (typeof loaded === 'string') log(`PyTorch reference skipped: ${loaded}`);
    else {
      peer = loaded;
      python = peer.findTorchPython(args.python);
      if (!python) log('PyTorch reference skipped: no python3 can import torch (apt-get install python3-torch libopenblas0)');
      else {
        // torch's threads are searched too, unless --threads was given.
        const fixedTorchThreads = (argv ?? process.argv).some((w) => w === '--threads' || w.startsWith('--threads='));
        const choice = peer.chooseBlasSetup(python, { ...torchOptions, batch: 100, fixedTorchThreads });
        blas = choice.setup;
        for (const { setup, result } of choice.trials) log(peer.describeTrial(setup, result));
        log(
          `PyTorch reference: ${python}, ${blas.torchThreads ?? torchOptions.threads} torch thread(s), OPENBLAS_CORETYPE=${blas.coretype ?? '(unset)'}, OPENBLAS_NUM_THREADS=${blas.threads ?? '(unset)'}`,
        );
      }
    }
  }

  for (let round = 0; round < args.rounds; round++) {
    for (const batch of batches) {
      for (const spec of specs.filter((s) => s.batch === batch)) {
        log(`round ${round + 1}/${args.rounds}: ${spec.backend}:${spec.variant} batch ${batch}...`);
        results.push(runChild(spec));
      }
      if (python && peer) {
        log(`round ${round + 1}/${args.rounds}: pytorch batch ${batch}...`);
        try {
          results.push(peer.runTorch(python, { ...torchOptions, batch }, blas));
        } catch (error) {
          results.push(failedRun({ impl: 'pytorch', label: 'pytorch', backend: 'pytorch', batch }, (error as Error).message));
        }
      }
    }
  }

  const warning = peer?.peerWarning(results);
  if (warning) log(warning);
  const rows = summarize(results);
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ config: { ...base, batches, variants, backends, python, openblas: blas }, rows, runs: results }, null, 2)}\n`,
    );
  } else {
    const { latentVars: n, categories: k } = base;
    process.stdout.write(
      `catvae bench: VAE 784-512-256-(${n}x${k})-256-512-784, Adam 1e-3, ${images ? 'binarised MNIST' : 'random binary images'}; ` +
        `median ms/step after warm-up, img/s over >= ${base.seconds} s, ${args.rounds} round(s)\n\n${formatTable(rows)}\n`,
    );
  }
  // A backend that 'auto' merely tried may be absent; wasm, and any backend the user named, must work.
  const named = new Set((args.backends as string[]).filter((b) => b !== 'auto'));
  return results.some((r) => r.error && r.impl === 'catvae' && (r.backend === 'wasm' || named.has(r.backend))) ? 1 : 0;
}
