/**
 * Checks a sweep's points the way train checks its flags, before anything
 * runs: each point's training flags go through the train command's own yargs
 * options and config validation, so a bad value fails here with train's
 * message, prefixed by the point's name.
 */
import yargs from 'yargs';
import type { FlagValue, GridPoint } from '../sweep/grid.js';
import { flagsToArgv, SWEEP_OWNED_FLAGS, type FlagTable } from '../sweep/spec.js';
import { backendOption, requireValues } from './parser.js';
import { CliError, EXIT_USAGE } from './run.js';
import { checkTrainArgs } from './train_checks.js';
import { trainOptions, type TrainArgs } from './train_options.js';
import type { TrainConfig } from '../model/config.js';

/** Training images in the MNIST training file (for the progress display's step totals). */
const MNIST_TRAIN_IMAGES = 60000;

/** The flags a sweep can set per point or for all points: train's, without the ones the sweep sets itself. */
export function sweepableFlags(): FlagTable {
  const all = { ...trainOptions, ...backendOption } as unknown as FlagTable;
  return Object.fromEntries(Object.entries(all).filter(([name]) => !(SWEEP_OWNED_FLAGS as readonly string[]).includes(name)));
}

/** The training flags of a point: the fixed ones and the point's grid values. */
export function pointArgv(fixed: Record<string, FlagValue>, point: GridPoint): string[] {
  return flagsToArgv({ ...fixed, ...point.values });
}

/** Parses a point's flags as train would and returns its config; throws CliError (exit 2) naming the point. */
export function checkPoint(name: string, argv: string[]): TrainConfig {
  let config: TrainConfig | undefined;
  try {
    yargs(argv)
      .parserConfiguration({ 'camel-case-expansion': false })
      .options(requireValues({ ...trainOptions, ...backendOption }))
      .strict()
      .version(false)
      .help(false)
      .exitProcess(false)
      .check((a) => {
        // The same checks as train's own; a sweep point never resumes by flag (SWEEP_OWNED_FLAGS).
        config = checkTrainArgs(a as TrainArgs)!;
        return true;
      })
      .fail((message, error) => {
        throw new Error(message || error?.message || 'invalid arguments');
      })
      .parseSync();
  } catch (error) {
    const line = String((error as Error).message)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ');
    throw new CliError(`point ${name} (${argv.join(' ')}): ${line}`, EXIT_USAGE);
  }
  return config!;
}

/** Steps a point will take in all: --steps, else epochs times the batches of its training set. */
export function totalStepsOf(config: TrainConfig): number {
  if (config.steps !== null) return config.steps;
  const images = config.trainSize ?? MNIST_TRAIN_IMAGES - config.validationSize;
  return config.epochs * Math.floor(images / config.batchSize);
}
