/**
 * `npm run traverse -- DIR`: what each categorical variable does. For a few
 * test digits, every variable is set to each of its K classes in turn while
 * the others keep the encoder's argmax; the decoded digits form a grid.
 */
import * as tf from '@tensorflow/tfjs';
import { traversalPicture, toBatch, type TraversalPanel } from '../inspect/pictures.js';
import { checkScale, dataDirOption, imageShape, loadTestDigits, openSession, pictureOptions, savePicture } from './picture_commands.js';
import { TEST_SEED } from '../model/evaluate.js';
import { codeIndices, codesOf, encode, reconstruct, traverseCodes } from '../model/generate.js';
import { checkNonNegativeInt, cliParser, requireValues } from './parser.js';

const DEFAULT_DIGITS = 3;

export async function traverseCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run traverse -- DIR [options]\n\n' +
      'For a few test digits: each categorical variable set to each of its K classes while the others keep the ' +
      "encoder's argmax, decoded (Bernoulli means). One panel per digit: rows are variables, columns are classes (each labelled with its index); " +
      'an orange frame marks the class the encoder chose (that cell is the reconstruction). The first column holds the ' +
      `digit (fixed binarisation, seed ${TEST_SEED}) over its reconstruction.\n\n` +
      'DIR is a run directory (checkpoints/<run>) or a checkpoint directory.',
    argv,
  )
    .command('$0 <dir>', false, (y) => y.positional('dir', { type: 'string', describe: 'Run directory or checkpoint directory' }))
    .options(
      requireValues({
        digits: { type: 'number', describe: 'Show the first this many test digits', defaultDescription: String(DEFAULT_DIGITS) },
        index: { type: 'number', array: true, describe: 'Show these test digits instead (repeat the flag or list them: --index 3 7)' },
        ...dataDirOption,
        ...pictureOptions('traverse.png'),
      }),
    )
    .check((a) => {
      if (a.digits !== undefined && a.index !== undefined) throw new Error('give --digits or --index, not both');
      if (a.digits !== undefined && !(Number.isInteger(a.digits) && a.digits >= 1 && a.digits <= 100)) {
        throw new Error(`--digits must be an integer from 1 to 100, got ${a.digits}`);
      }
      for (const i of a.index ?? []) checkNonNegativeInt(i, 'index');
      if (a.index !== undefined && a.index.length === 0) throw new Error('--index needs at least one test digit index');
      checkScale(a.scale);
      return true;
    })
    .parseAsync();

  const indices = args.index ?? Array.from({ length: args.digits ?? DEFAULT_DIGITS }, (_, i) => i);
  const session = await openSession({ dir: args.dir as string, out: args.out, which: args.which, backend: args.backend, json: args.json });
  const { model } = session.checkpoint;
  const { latentVars: n, categories: k } = model.config;
  const [rows, cols] = imageShape(model.config.inputDim);
  const dim = rows * cols;
  const digits = await loadTestDigits(session.checkpoint, args['data-dir'], Math.max(...indices) + 1, args.index ? '--index' : '--digits');

  const panels: TraversalPanel[] = [];
  for (const index of indices) {
    const pixels = digits.images.subarray(index * dim, (index + 1) * dim);
    const x = tf.tensor2d(pixels, [1, dim]);
    const grid = await traverseCodes(model, x);
    const [recon, argmax] = tf.tidy(() => [reconstruct(model, x, 'argmax'), codesOf(encode(model, x), 'argmax')]);
    const code = await codeIndices(argmax as tf.Tensor3D);
    panels.push({
      digit: toBatch([...pixels, ...(await recon.data())], 2, rows, cols),
      grid: toBatch(await grid.data(), n * k, rows, cols),
      argmax: code,
    });
    tf.dispose([x, grid, recon, argmax]);
    session.log(`test digit ${index} (label ${digits.set.labels[index]}): code ${Array.from(code).join(' ')}`);
  }

  const image = traversalPicture(panels, n, k, { scale: args.scale });
  savePicture(
    session,
    image,
    `${indices.length} digit${indices.length === 1 ? '' : 's'}, each ${n} variables (rows) x ${k} classes (columns)`,
  );
  return 0;
}
