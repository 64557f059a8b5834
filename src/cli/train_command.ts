/**
 * `npm run train`: parse and check flags (nothing is written before they
 * pass), pick the backend, load the data, train with a progress display and
 * TensorBoard logs, then report the test -ELBO of the best checkpoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultLoaders, selectBackend, type BackendChoice } from '../backend.js';
import { batchesPerEpoch, binarizeSet, DataError, loadDataset, type Dataset } from '../data/index.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../model/checkpoint.js';
import { evaluateVae, TEST_SEED, type EvalResult } from '../model/evaluate.js';
import { train, type TrainerHooks, type TrainResult } from '../model/trainer.js';
import { tensorBoardHooks } from '../model/training_hooks.js';
import { backendOption, checkPositiveInt, cliParser, commandLine, requireValues } from './parser.js';
import { progressHooks } from './progress.js';
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE } from './run.js';
import { configFromArgs, trainOptions, type TrainArgs } from './train_options.js';

function timestamp(): string {
  const iso = new Date().toISOString(); // 2026-11-27T07:01:44.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

/** The run directory a resumed checkpoint belongs to (<run>/latest -> <run>). */
function runDirOf(checkpointDir: string): string {
  const base = path.basename(checkpointDir);
  return /^(latest|best)(\.prev)?$/.test(base) ? path.dirname(checkpointDir) : checkpointDir;
}

/** Fails early, before anything is written, if the run directory cannot be used. */
function prepareRunDir(dir: string, resuming: boolean): void {
  if (!resuming && fs.existsSync(path.join(dir, 'latest'))) {
    throw new CliError(`${dir} already holds a run; continue it with --resume ${dir}, or choose another --out`);
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new CliError(`cannot write to the run directory ${dir}; choose another --out`);
  }
}

export async function trainCommand(argv?: string[]): Promise<number> {
  const args = await cliParser('npm run train -- [options]\n\nTrain a categorical VAE (Gumbel-Softmax) on MNIST.', argv)
    .options(requireValues({ ...trainOptions, ...backendOption }))
    .check((a) => {
      // Bad values exit 2 through yargs, before anything is written.
      if (a.resume === undefined) configFromArgs(a as TrainArgs);
      checkPositiveInt(a['test-size'], 'test-size');
      checkPositiveInt(a.threads, 'threads');
      return true;
    })
    .parseAsync();

  const out = args.json ? process.stderr : process.stdout;
  const say = (line: string) => out.write(`${line}\n`);

  let resume: LoadedCheckpoint | undefined;
  const backend = await selectBackend(args.backend as BackendChoice, defaultLoaders({ threads: args.threads }));
  say(backend.summary);
  if (args.resume !== undefined) resume = await loadCheckpoint(args.resume, 'latest');
  const config = configFromArgs(args as TrainArgs, resume?.state.config);
  const runDir = path.resolve(args.out ?? (resume ? runDirOf(resume.dir) : path.join('checkpoints', timestamp())));
  const logdir = path.resolve(args.logdir ?? path.join(runDir, 'logs'));
  // The data is read and checked before anything is written: a bad --data-dir or size is a usage error.
  const data: Dataset = await loadDataset({
    dataDir: config.dataDir ?? undefined,
    validationSize: config.validationSize,
    trainSize: config.trainSize ?? undefined,
    // Not part of the config: it changes only the final report, never the run.
    testSize: args['test-size'],
  }).catch((error: unknown) => {
    throw error instanceof DataError ? new CliError(error.message, EXIT_USAGE) : error;
  });
  if (batchesPerEpoch(data.train.count, config.batchSize, true) === 0) {
    throw new CliError(
      `--batch-size ${config.batchSize} is more than the ${data.train.count} training images; lower it or raise --train-size`,
      EXIT_USAGE,
    );
  }
  prepareRunDir(runDir, resume !== undefined);
  say(
    `data: ${data.source} (${data.train.count} train, ${data.validation.count} validation, ${data.test.count} test)` +
      (resume ? `; resuming ${resume.dir} at step ${resume.state.step}` : ''),
  );

  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) process.stderr.write('\nstopping: saving a checkpoint (Ctrl-C again to quit at once)\n');
    else process.exit(EXIT_INTERRUPTED);
  };
  process.on('SIGINT', onSigint);

  const hooks: TrainerHooks[] = [
    progressHooks({ bar: args.progress && !!out.isTTY, stream: out, epochs: config.steps === null ? config.epochs : null }),
    tensorBoardHooks({ logdir, config, data, picturesDir: path.join(runDir, 'pictures') }),
  ];
  let result: TrainResult;
  try {
    result = await train({ config, runDir, data, backend: backend.name, resume, hooks, shouldStop: () => interrupts > 0 });
  } finally {
    process.off('SIGINT', onSigint);
  }
  const last = result.state.history.at(-1);
  /** The --json line: the same keys however the run ended (test_* are null unless it completed). */
  const printJson = (test: EvalResult | null, checkpoint: string | null) => {
    if (!args.json) return;
    process.stdout.write(
      `${JSON.stringify({
        status: result.status,
        message: result.message,
        steps: result.state.step,
        epochs: result.state.history.length,
        tau: result.state.tau,
        train_loss: last?.train_loss ?? null,
        val_neg_elbo: last?.val_neg_elbo ?? null,
        best_val_neg_elbo: result.state.best?.val_neg_elbo ?? null,
        test_neg_elbo: test?.neg_elbo ?? null,
        test_recon: test?.recon ?? null,
        test_kl: test?.kl ?? null,
        test_examples: test?.examples ?? null,
        images_per_sec: last?.images_per_sec ?? null,
        backend: backend.name,
        checkpoint,
        run_dir: runDir,
        logdir,
      })}\n`,
    );
  };
  const latestDir = path.join(runDir, 'latest');
  if (result.status === 'interrupted') {
    say(result.message ?? 'interrupted');
    printJson(null, latestDir);
    return EXIT_INTERRUPTED;
  }
  if (result.status === 'diverged') {
    printJson(null, fs.existsSync(latestDir) ? latestDir : null);
    throw new CliError(result.message ?? 'the loss diverged', EXIT_FAILURE);
  }

  // The model people should use is the best by validation; without a validation set, the latest.
  const best = fs.existsSync(path.join(runDir, 'best')) ? await loadCheckpoint(runDir, 'best') : null;
  const finalModel = best?.model ?? result.model;
  const testImages = binarizeSet(data.test, 'fixed', TEST_SEED);
  const test: EvalResult = await evaluateVae(finalModel, testImages, data.test.count, { seed: TEST_SEED });
  const which = best ? `best checkpoint (epoch ${best.state.history.at(-1)!.epoch + 1}, step ${best.state.step})` : 'final weights';
  say(
    `test -ELBO ${test.neg_elbo.toFixed(2)} (recon ${test.recon.toFixed(2)}, KL ${test.kl.toFixed(2)}) on ${test.examples} test images, ${which}`,
  );
  say(`checkpoint: ${path.join(runDir, best ? 'best' : 'latest')}  (evaluate: ${commandLine('evaluate')} ${runDir})`);
  say(`TensorBoard: tensorboard --logdir ${logdir}`);
  printJson(test, path.join(runDir, best ? 'best' : 'latest'));
  return 0;
}
