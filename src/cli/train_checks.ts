/**
 * Checks of `train` flags that the config alone cannot make: an empty --out,
 * seeds outside 32 bits, and models too large to build (which would fail
 * later, after the run directory was created).
 */
import type { TrainConfig } from '../model/config.js';
import { checkPositiveInt } from './parser.js';
import { configFromArgs, type TrainArgs } from './train_options.js';

/** The most weights a VAE may have: beyond this, tfjs runs out of memory long after the run directory exists. */
export const MAX_PARAMETERS = 200_000_000;

/** Dense layers' weights and biases of the VAE a set of flags describes (defaults where a flag is absent). */
export function parameterCountOf(args: TrainArgs, inputDim = 784): number {
  const n = args['latent-vars'] ?? 20;
  const k = args.categories ?? 10;
  const encoder = args['encoder-units'] ?? [512, 256];
  const decoder = args['decoder-units'] ?? [256, 512];
  const dense = (sizes: number[]) => sizes.slice(1).reduce((total, size, i) => total + sizes[i] * size + size, 0);
  return dense([inputDim, ...encoder, n * k]) + dense([n * k, ...decoder, inputDim]);
}

export function checkTrainSizes(args: TrainArgs & { out?: string; resume?: string }): void {
  if (args.out !== undefined && args.out.trim() === '') throw new Error('--out is empty; give a run directory such as checkpoints/my-run');
  if (args.resume !== undefined && args.resume.trim() === '') throw new Error('--resume is empty; give the run directory to continue');
  if (args.seed !== undefined && Number.isInteger(args.seed) && (args.seed < 0 || args.seed > 0xffffffff)) {
    // Seeds are hashed as 32-bit words: 1 and 2^32 + 1 would give the same run.
    throw new Error(`--seed must be an integer from 0 to 4294967295 (2^32 - 1), got ${args.seed}`);
  }
  const values = [args['latent-vars'], args.categories, ...(args['encoder-units'] ?? []), ...(args['decoder-units'] ?? [])];
  if (values.every((v) => v === undefined || (Number.isInteger(v) && v > 0))) {
    const count = parameterCountOf(args);
    if (count > MAX_PARAMETERS) {
      throw new Error(
        `the model would have ${count.toExponential(2)} weights (more than ${MAX_PARAMETERS.toExponential(0)}); lower --latent-vars, --categories or the layer sizes`,
      );
    }
  }
}

/**
 * Every check of train's flags, shared by `train` and by `sweep` (which checks
 * each point before anything runs): returns the config, or null when resuming
 * (the checkpoint's config then decides). Throws with train's message.
 */
export function checkTrainArgs(
  args: TrainArgs & { out?: string; resume?: string; 'test-size'?: number; threads?: number },
): TrainConfig | null {
  checkTrainSizes(args);
  const config = args.resume === undefined ? configFromArgs(args) : null;
  checkPositiveInt(args['test-size'], 'test-size');
  checkPositiveInt(args.threads, 'threads');
  return config;
}
