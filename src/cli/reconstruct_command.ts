/**
 * `npm run reconstruct -- DIR`: test digits beside their reconstructions from
 * the argmax code (and, with --sampled, from a code sampled from q(z|x)).
 */
import * as tf from '@tensorflow/tfjs';
import { groupGrid, toBatch } from '../inspect/pictures.js';
import { checkScale, dataDirOption, imageShape, loadTestDigits, openSession, pictureOptions, savePicture } from './picture_commands.js';
import { TEST_SEED } from '../model/evaluate.js';
import { reconstruct } from '../model/generate.js';
import { checkNonNegativeInt, checkPositiveInt, cliParser, requireValues } from './parser.js';

export async function reconstructCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run reconstruct -- DIR [options]\n\n' +
      `Test digits (binarised as evaluate sees them: fixed draws, seed ${TEST_SEED}) each followed by its reconstruction ` +
      'from the argmax code, and with --sampled by one from a code sampled from q(z|x). ' +
      'Reconstructions are Bernoulli means in gray. Groups are laid out in rows, about a square picture.\n\n' +
      'DIR is a run directory (checkpoints/<run>) or a checkpoint directory.',
    argv,
  )
    .command('$0 <dir>', false, (y) => y.positional('dir', { type: 'string', describe: 'Run directory or checkpoint directory' }))
    .options(
      requireValues({
        count: { type: 'number', default: 50, describe: 'Test digits to show' },
        start: { type: 'number', default: 0, describe: 'Index of the first test digit' },
        sampled: { type: 'boolean', default: false, describe: 'Also show a reconstruction from a code sampled from q(z|x)' },
        seed: { type: 'number', default: 1, describe: 'Seed of the sampled codes' },
        columns: { type: 'number', describe: 'Digits (with their reconstructions) per row', defaultDescription: 'about a square picture' },
        ...dataDirOption,
        ...pictureOptions('recon.png'),
      }),
    )
    .check((a) => {
      checkPositiveInt(a.count, 'count');
      checkPositiveInt(a.columns, 'columns');
      checkNonNegativeInt(a.start, 'start');
      checkNonNegativeInt(a.seed, 'seed');
      checkScale(a.scale);
      return true;
    })
    .parseAsync();

  const session = await openSession({ dir: args.dir as string, out: args.out, which: args.which, backend: args.backend, json: args.json });
  const { model } = session.checkpoint;
  const [rows, cols] = imageShape(model.config.inputDim);
  const { count, start } = args;
  const digits = await loadTestDigits(session.checkpoint, args['data-dir'], start + count, '--start + --count');
  const dim = rows * cols;
  const inputs = digits.images.subarray(start * dim, (start + count) * dim);

  const x = tf.tensor2d(inputs, [count, dim]);
  const outputs = [reconstruct(model, x, 'argmax'), ...(args.sampled ? [reconstruct(model, x, 'sample', args.seed)] : [])];
  const batches = [toBatch(inputs, count, rows, cols)];
  for (const output of outputs) batches.push(toBatch(await output.data(), count, rows, cols));
  tf.dispose([x, ...outputs]);

  const image = groupGrid(batches, { groupsPerRow: args.columns, scale: args.scale });
  const shown = `digit | argmax reconstruction${args.sampled ? ` | sampled reconstruction (seed ${args.seed})` : ''}`;
  savePicture(session, image, `test digits ${start}-${start + count - 1} from ${digits.source}, each as ${shown}`);
  return 0;
}
