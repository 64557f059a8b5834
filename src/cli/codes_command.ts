/**
 * `npm run codes -- DIR`: how the encoder uses its codes over the test set.
 * Per variable: how often each class is the argmax (a heat map), how many
 * classes are really used (perplexity) and how much the variable tells about
 * the digit label (mutual information, in nats).
 */
import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../data/index.js';
import { codeUsageReport, type CodeUsageReport } from '../inspect/code_usage.js';
import { usageHeatmap } from '../inspect/pictures.js';
import { checkScale, dataDirOption, loadTestDigits, openSession, pictureOptions, savePicture } from './picture_commands.js';
import { formatNumber, formatTable, shareBars } from '../inspect/text.js';
import { TEST_SEED } from '../model/evaluate.js';
import { codeIndices, codesOf, encode } from '../model/generate.js';
import type { CategoricalVae } from '../model/vae.js';
import { checkPositiveInt, cliParser, requireValues } from './parser.js';
import { taskProgress } from './task_progress.js';

/** Argmax class of every variable of every image, image by image ([count * N]), in batches. */
async function argmaxCodes(
  model: CategoricalVae,
  images: Float32Array,
  count: number,
  batchSize: number,
  onProgress: (done: number) => void,
): Promise<Int32Array> {
  const { inputDim: dim, latentVars: n } = model.config;
  const out = new Int32Array(count * n);
  for (let start = 0; start < count; start += batchSize) {
    const b = Math.min(batchSize, count - start);
    const x = tf.tensor2d(images.subarray(start * dim, (start + b) * dim), [b, dim]);
    const codes = tf.tidy(() => codesOf(encode(model, x), 'argmax'));
    out.set(await codeIndices(codes), start * n);
    tf.dispose([x, codes]);
    onProgress(start + b);
    // Lets a progress write or Ctrl-C through between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

function usageLines(report: CodeUsageReport): string[] {
  const { categories: k, labelEntropy } = report;
  const rows = report.variables.map((v) => {
    const top = v.usage.indexOf(Math.max(...v.usage));
    const mi = v.mutualInformation;
    return [
      String(v.variable),
      `${v.perplexity.toFixed(2)} / ${k}`,
      String(v.used),
      `${top} (${(100 * v.usage[top]).toFixed(0)}%)`,
      mi === null ? '-' : formatNumber(mi, 3),
      mi === null || !labelEntropy ? '-' : `${((100 * mi) / labelEntropy).toFixed(1)}%`,
      shareBars(v.usage),
    ];
  });
  const header = ['var', 'perplexity', 'used', 'top class', 'MI (nats)', 'of H(label)', `usage of classes 0..${k - 1}`];
  const lines = formatTable(header, rows, ['right', 'right', 'right', 'right', 'right', 'right', 'left']);
  const perplexities = report.variables.map((v) => v.perplexity);
  const mean = perplexities.reduce((a, b) => a + b, 0) / perplexities.length;
  const collapsed = report.variables.filter((v) => v.used === 1).map((v) => v.variable);
  lines.push(
    '',
    `mean perplexity ${mean.toFixed(2)} of ${k} classes; ${collapsed.length ? `variables with one class only: ${collapsed.join(', ')}` : 'no variable is stuck on one class'}`,
  );
  if (labelEntropy !== null) {
    const ranked = [...report.variables].sort((a, b) => b.mutualInformation! - a.mutualInformation!).slice(0, 3);
    lines.push(
      `H(label) = ${labelEntropy.toFixed(3)} nats is the most a variable can know of the digit; ` +
        `most informative: ${ranked.map((v) => `var ${v.variable} (${formatNumber(v.mutualInformation, 3)})`).join(', ')}`,
    );
  }
  return lines;
}

export async function codesCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run codes -- DIR [options]\n\n' +
      `Code usage over the test set (fixed binarisation, seed ${TEST_SEED}): for each variable, how often each of its K classes ` +
      'is the argmax of q(z|x). Prints per variable the perplexity exp(entropy of that usage) (1: one class used, K: all used ' +
      'equally) and the mutual information in nats between the argmax class and the digit label (which variable "knows" ' +
      'the digit; at most H(label), about log 10 = 2.303). Writes the usage as a heat map: rows are variables, columns ' +
      'classes, labelled with their indices; colour is usage relative to uniform (black: never, mid-ramp: 1/K, lightest: 2/K or more), ' +
      'with its scale under the map.\n\n' +
      'DIR is a run directory (checkpoints/<run>) or a checkpoint directory.',
    argv,
  )
    .command('$0 <dir>', false, (y) => y.positional('dir', { type: 'string', describe: 'Run directory or checkpoint directory' }))
    .options(
      requireValues({
        'test-size': { type: 'number', describe: 'Use only the first N test images', defaultDescription: 'all' },
        'batch-size': { type: 'number', default: 500, describe: 'Images per forward pass' },
        progress: { type: 'boolean', default: true, describe: 'Progress bar on a terminal (--no-progress: plain lines)' },
        ...dataDirOption,
        ...pictureOptions('codes.png'),
        json: { type: 'boolean', default: false, describe: 'Print the statistics as one JSON object (the picture is still written)' },
      }),
    )
    .check((a) => {
      checkPositiveInt(a['test-size'], 'test-size');
      checkPositiveInt(a['batch-size'], 'batch-size');
      checkScale(a.scale);
      return true;
    })
    .parseAsync();

  const log = (line: string) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  const session = await openSession({ dir: args.dir as string, out: args.out, which: args.which, backend: args.backend }, log);
  const { model } = session.checkpoint;
  const { latentVars: n, categories: k } = model.config;
  const digits = await loadTestDigits(session.checkpoint, args['data-dir'], args['test-size']);
  const count = digits.set.count;
  const progress = taskProgress({
    label: 'codes',
    unit: 'images',
    total: count,
    stream: process.stderr,
    bar: args.progress && !!process.stderr.isTTY,
  });
  let indices: Int32Array;
  try {
    indices = await argmaxCodes(model, digits.images, count, args['batch-size'], (done) => progress.update(done));
  } finally {
    progress.stop();
  }
  const report = codeUsageReport(indices, n, k, { values: digits.set.labels, classes: NUM_CLASSES });

  if (!args.json) {
    log(`code usage over ${count} test images from ${digits.source} (argmax of q(z|x)):`);
    for (const line of usageLines(report)) log(line);
  }
  const image = usageHeatmap(
    report.variables.map((v) => v.usage),
    { scale: args.scale },
  );
  savePicture(session, image, `heat map of ${n} variables (rows) x ${k} classes (columns)`);
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ checkpoint: session.checkpoint.dir, out: session.target, width: image.width, height: image.height, ...report })}\n`,
    );
  }
  return 0;
}
