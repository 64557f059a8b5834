/**
 * `npm run evaluate -- DIR`: the negative ELBO (discrete samples) and the
 * importance-weighted bound of a checkpoint on the fixed-binarised test set.
 */
import { selectBackend, type BackendChoice } from '../backend.js';
import { binarizeSet, DataError, loadDataset } from '../data/index.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { evaluateVae, TEST_SEED } from '../model/evaluate.js';
import { backendOption, checkNonNegativeInt, checkPositiveInt, cliParser, requireValues } from './parser.js';
import { CliError, EXIT_USAGE } from './run.js';
import { taskProgress } from './task_progress.js';

/** More importance samples than this per image would run for days; the bound barely moves past a few thousand. */
export const MAX_IW_SAMPLES = 100_000;

export async function evaluateCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run evaluate -- DIR [options]\n\nTest-set -ELBO and importance-weighted bound of a checkpoint (a run directory or a checkpoint in it).',
    argv,
  )
    .command('$0 <dir>', false, (y) => y.positional('dir', { type: 'string', describe: 'Run directory or checkpoint directory' }))
    .options(
      requireValues({
        which: { choices: ['best', 'latest'], default: 'best', describe: 'Which checkpoint of a run directory' },
        'iw-samples': { type: 'number', default: 1000, describe: 'Importance samples per image for the bound on -log p(x) (0: skip)' },
        'test-size': { type: 'number', describe: 'Use only the first N test images', defaultDescription: 'all' },
        'batch-size': { type: 'number', default: 500, describe: 'Images per forward pass' },
        'data-dir': { type: 'string', describe: 'Folder with the four IDX files; default: the data the run was trained on' },
        seed: { type: 'number', default: TEST_SEED, describe: 'Seed of the test binarisation and of the samples' },
        json: { type: 'boolean', default: false, describe: 'Print one JSON object' },
        progress: { type: 'boolean', default: true, describe: 'Progress bar on a terminal (--no-progress: plain lines)' },
        ...backendOption,
      }),
    )
    .check((a) => {
      checkNonNegativeInt(a['iw-samples'], 'iw-samples');
      if (a['iw-samples'] > MAX_IW_SAMPLES) throw new Error(`--iw-samples must be at most ${MAX_IW_SAMPLES}, got ${a['iw-samples']}`);
      checkPositiveInt(a['test-size'], 'test-size');
      checkPositiveInt(a['batch-size'], 'batch-size');
      return true;
    })
    .parseAsync();

  const log = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  const backend = await selectBackend(args.backend as BackendChoice);
  log(backend.summary);
  const checkpoint = await loadCheckpoint(args.dir as string, args.which as 'best' | 'latest');
  const dataDir = args['data-dir'] ?? checkpoint.state.config.dataDir ?? undefined;
  // A bad --data-dir or --test-size is a usage error, as in train.
  const data = await loadDataset({ dataDir, validationSize: 0, testSize: args['test-size'] }).catch((error: unknown) => {
    throw error instanceof DataError ? new CliError(error.message, EXIT_USAGE) : error;
  });
  const images = binarizeSet(data.test, 'fixed', args.seed);
  log(`checkpoint: ${checkpoint.dir} (step ${checkpoint.state.step}); ${data.test.count} test images from ${data.source}`);
  const started = performance.now();
  // On stderr: stdout may be a --json line read by a program.
  const progress = taskProgress({
    label: 'evaluate',
    unit: 'images',
    total: data.test.count,
    stream: process.stderr,
    bar: args.progress && !!process.stderr.isTTY,
  });
  let result;
  try {
    result = await evaluateVae(checkpoint.model, images, data.test.count, {
      seed: args.seed,
      batchSize: args['batch-size'],
      iwSamples: args['iw-samples'],
      onProgress: (done) => progress.update(done),
    });
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ ...result, checkpoint: checkpoint.dir, backend: backend.name, seconds })}\n`);
  } else {
    log(
      `-ELBO (one-hot samples from q): ${result.neg_elbo.toFixed(2)} nats  (recon ${result.recon.toFixed(2)}, KL ${result.kl.toFixed(2)})`,
    );
    if (result.nll_iw !== null)
      log(`-log p(x) <= ${result.nll_iw.toFixed(2)} nats  (importance-weighted bound, ${result.iw_samples} samples)`);
    log(`${result.examples} images in ${seconds.toFixed(1)} s`);
  }
  return 0;
}
