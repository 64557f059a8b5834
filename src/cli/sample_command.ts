/**
 * `npm run sample -- DIR`: digits decoded from codes drawn from the uniform
 * prior, as one PNG grid.
 */
import * as tf from '@tensorflow/tfjs';
import { sampleGrid, toBatch } from '../inspect/pictures.js';
import { checkScale, imageShape, openSession, pictureOptions, savePicture } from './picture_commands.js';
import { samplePrior } from '../model/generate.js';
import { checkNonNegativeInt, checkPositiveInt, cliParser, requireValues } from './parser.js';

export async function sampleCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run sample -- DIR [options]\n\n' +
      'Digits decoded from codes drawn from the uniform prior p(z) (each class of each variable equally likely; seeded), ' +
      'as a grid of Bernoulli means (sigmoid of the decoder logits) in gray.\n\n' +
      'DIR is a run directory (checkpoints/<run>) or a checkpoint directory.',
    argv,
  )
    .command('$0 <dir>', false, (y) => y.positional('dir', { type: 'string', describe: 'Run directory or checkpoint directory' }))
    .options(
      requireValues({
        count: { type: 'number', default: 100, describe: 'Samples to draw' },
        columns: { type: 'number', describe: 'Samples per row', defaultDescription: 'ceil(sqrt(count))' },
        seed: { type: 'number', default: 1, describe: 'Seed of the prior codes: the same seed, the same picture' },
        ...pictureOptions('samples.png'),
      }),
    )
    .check((a) => {
      checkPositiveInt(a.count, 'count');
      // Decoded in one pass: 10,000 digits of 784 floats is 31 MB, enough for any picture.
      if (a.count > 10000) throw new Error(`--count must be at most 10000, got ${a.count}`);
      checkPositiveInt(a.columns, 'columns');
      checkNonNegativeInt(a.seed, 'seed');
      checkScale(a.scale);
      return true;
    })
    .parseAsync();

  const session = await openSession({ dir: args.dir as string, out: args.out, which: args.which, backend: args.backend, json: args.json });
  const { model } = session.checkpoint;
  const [rows, cols] = imageShape(model.config.inputDim);
  const probabilities = samplePrior(model, args.count, args.seed);
  const values = await probabilities.data();
  tf.dispose(probabilities);
  const columns = Math.min(args.count, args.columns ?? Math.ceil(Math.sqrt(args.count)));
  const image = sampleGrid(toBatch(values, args.count, rows, cols), { columns, scale: args.scale });
  savePicture(session, image, `${args.count} samples of the prior (seed ${args.seed}), ${columns} per row`);
  return 0;
}
