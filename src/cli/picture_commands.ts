/**
 * What the picture commands (sample, reconstruct, traverse, codes) share:
 * their common flags, the order of work (check --out, pick the backend, load
 * the checkpoint, load test digits) and the atomic PNG write with its report.
 */
import { selectBackend, type BackendChoice, type BackendSelection } from '../backend.js';
import { backendOption } from './parser.js';
import { CliError, EXIT_USAGE } from './run.js';
import { binarizeSet, loadDataset, sliceSet, type ImageSet } from '../data/index.js';
import { encodePng, type PixelImage } from '../image/index.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../model/checkpoint.js';
import { TEST_SEED } from '../model/evaluate.js';
import { checkOutputPath, writeFileAtomic } from '../inspect/output.js';

/** The flags every picture command takes; `out` is the default file name in the current folder. */
export function pictureOptions(out: string) {
  return {
    out: { type: 'string', default: out, describe: 'PNG file to write; its folder must exist' },
    which: { choices: ['best', 'latest'], default: 'best', describe: 'Which checkpoint of a run directory' },
    scale: {
      type: 'number',
      describe: 'Enlarge the picture this many times (whole number, nearest neighbour)',
      defaultDescription: 'auto: 1 to 4, about 800 px on the longer side',
    },
    json: {
      type: 'boolean',
      default: false,
      describe: 'Print one JSON line (the file written, its size) on stdout; the rest goes to stderr',
    },
    ...backendOption,
  } as const;
}

/** --data-dir, for the commands that show test digits. */
export const dataDirOption = {
  'data-dir': { type: 'string', describe: 'Folder with the four IDX files; default: the data the run was trained on' },
} as const;

/** yargs check of --scale: one line for a bad value. */
export function checkScale(value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 32)) {
    throw new Error(`--scale must be a whole number from 1 to 32, got ${value}`);
  }
}

export interface PictureSession {
  backend: BackendSelection;
  checkpoint: LoadedCheckpoint;
  /** The resolved --out path, checked writable before anything else. */
  target: string;
  log: (line: string) => void;
  /** --json: savePicture prints one JSON line on stdout. */
  json: boolean;
}

/**
 * Checks the output path first (a bad --out fails before minutes of work),
 * then loads the backend and the checkpoint.
 */
export async function openSession(
  args: { dir: string; out: string; which: string; backend: string; json?: boolean },
  log: (line: string) => void = (line) => (args.json ? process.stderr : process.stdout).write(`${line}\n`),
): Promise<PictureSession> {
  const target = checkOutputPath(args.out);
  const backend = await selectBackend(args.backend as BackendChoice);
  log(backend.summary);
  const checkpoint = await loadCheckpoint(args.dir, args.which as 'best' | 'latest');
  log(
    `checkpoint: ${checkpoint.dir} (step ${checkpoint.state.step}, N=${checkpoint.model.config.latentVars}, K=${checkpoint.model.config.categories})`,
  );
  return { backend, checkpoint, target, log, json: args.json ?? false };
}

export interface TestDigits {
  set: ImageSet;
  /** The first `set.count` test digits, binarised as evaluation sees them. */
  images: Float32Array;
  source: string;
}

/**
 * The first `count` test digits (all when undefined), with the fixed
 * binarisation of TEST_SEED: the very inputs `evaluate` scores, so pictures
 * and figures agree. `flag` names the option that asked for them, for the
 * error when the test set is smaller.
 */
export async function loadTestDigits(
  checkpoint: LoadedCheckpoint,
  dataDir: string | undefined,
  count?: number,
  flag = '--test-size',
): Promise<TestDigits> {
  const data = await loadDataset({ dataDir: dataDir ?? checkpoint.state.config.dataDir ?? undefined, validationSize: 0 });
  const inputDim = checkpoint.model.config.inputDim;
  if (data.test.rows * data.test.cols !== inputDim) {
    throw new Error(`the test images are ${data.test.rows}x${data.test.cols}, the model expects ${inputDim} pixels`);
  }
  if (count !== undefined && count > data.test.count) {
    throw new CliError(
      `${flag} asks for test digit ${count - 1}, but the test set of ${data.source} holds ${data.test.count} (0 to ${data.test.count - 1})`,
      EXIT_USAGE,
    );
  }
  const set = count === undefined ? data.test : sliceSet(data.test, 0, count);
  return { set, images: binarizeSet(set, 'fixed', TEST_SEED), source: data.source };
}

/** Encodes and writes the picture atomically; prints where it went and its size. */
export function savePicture(session: PictureSession, image: PixelImage, what: string): void {
  writeFileAtomic(session.target, encodePng(image));
  if (session.json) process.stdout.write(`${JSON.stringify({ file: session.target, width: image.width, height: image.height, what })}\n`);
  else session.log(`wrote ${session.target}: ${what}, ${image.width}x${image.height} px`);
}

/** Height and width of the model's images: square ones (MNIST: 784 = 28 x 28). */
export function imageShape(inputDim: number): [number, number] {
  const side = Math.round(Math.sqrt(inputDim));
  if (side * side !== inputDim) throw new Error(`the model's ${inputDim} inputs are not a square image; pictures need square images`);
  return [side, side];
}
