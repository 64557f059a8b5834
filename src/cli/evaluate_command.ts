/**
 * `npm run evaluate -- DIR`: the negative ELBO (discrete samples) and the
 * importance-weighted bound of a checkpoint on the fixed-binarised test set.
 */
import { selectBackend, type BackendChoice } from '../backend.js';
import { binarizeSet, loadDataset } from '../data/index.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { evaluateVae, TEST_SEED } from '../model/evaluate.js';
import { backendOption, checkNonNegativeInt, checkPositiveInt, cliParser, requireValues } from './parser.js';

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
        ...backendOption,
      }),
    )
    .check((a) => {
      checkNonNegativeInt(a['iw-samples'], 'iw-samples');
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
  const data = await loadDataset({ dataDir, validationSize: 0, testSize: args['test-size'] });
  const images = binarizeSet(data.test, 'fixed', args.seed);
  log(`checkpoint: ${checkpoint.dir} (step ${checkpoint.state.step}); ${data.test.count} test images from ${data.source}`);
  const started = performance.now();
  const result = await evaluateVae(checkpoint.model, images, data.test.count, {
    seed: args.seed,
    batchSize: args['batch-size'],
    iwSamples: args['iw-samples'],
    onProgress: args.json || !process.stdout.isTTY ? undefined : (done, total) => process.stdout.write(`\r${done}/${total} images`),
  });
  if (!args.json && process.stdout.isTTY) process.stdout.write('\r');
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
