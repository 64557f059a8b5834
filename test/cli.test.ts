import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readEventFile } from './helpers/tfevents_reader.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const TINY = [
  '--train-size',
  '200',
  '--validation-size',
  '100',
  '--batch-size',
  '50',
  '--latent-vars',
  '6',
  '--categories',
  '4',
  '--encoder-units',
  '32',
  '--decoder-units',
  '32',
  '--backend',
  'wasm',
  '--no-progress',
];

function run(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', script), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-cli-'));

test('bad flags exit 2 with one message, and nothing is written', () => {
  const dir = path.join(tmp(), 'run');
  const cases: Array<[string[], RegExp]> = [
    [['--bogus-flag'], /Unknown argument: bogus-flag/],
    [['--tau0', '0.4', '--tau-min', '0.5'], /tauMin \(0\.5\) must not exceed tau0 \(0\.4\)/],
    [['--batch-size', '-5'], /batch-size must be a positive integer, got -5/],
    [['--categories', '1'], /categories \(K\) must be at least 2/],
    [['--backend', 'tpu'], /Invalid values:[\s\S]*backend/],
    [['--binarization', 'gray'], /Invalid values:[\s\S]*binarization/],
    [['--test-size', '0'], /--test-size must be a positive integer, got 0/],
    [['--epochs'], /Not enough arguments following: epochs/],
    [['--threads', '0'], /--threads must be a positive integer, got 0/],
    [['--train-size', '100', '--batch-size', '200'], /--batch-size 200 is more than the 100 training images/],
    [['--data-dir', path.join(os.tmpdir(), 'no-such-catvae-data')], /no-such-catvae-data: the data folder does not exist/],
  ];
  for (const [args, message] of cases) {
    const r = run('train.ts', [...args, '--out', dir]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    assert.ok(!fs.existsSync(dir), `${args.join(' ')} wrote ${dir}`);
  }
});

test('train --json: the last stdout line is the summary; checkpoint and TensorBoard events are there', () => {
  const dir = path.join(tmp(), 'run');
  const r = run('train.ts', [...TINY, '--epochs', '2', '--log-every', '2', '--test-size', '60', '--out', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const summary = JSON.parse(lines.at(-1)!);
  for (const key of ['steps', 'epochs', 'tau', 'train_loss', 'val_neg_elbo', 'images_per_sec', 'checkpoint', 'test_neg_elbo']) {
    assert.ok(key in summary, `missing ${key}`);
  }
  assert.equal(summary.steps, 8);
  assert.equal(summary.epochs, 2);
  assert.ok(Number.isFinite(summary.test_neg_elbo));
  assert.equal(summary.test_examples, 60, '--test-size limits the final test report');
  assert.ok(fs.existsSync(path.join(summary.checkpoint, 'model.json')));
  assert.match(r.stderr, /^backend: wasm/m, 'the backend line is printed');

  const events = (run: string) => {
    const folder = path.join(dir, 'logs', run);
    return fs.readdirSync(folder).flatMap((f) => readEventFile(path.join(folder, f)));
  };
  const tags = (run: string) => new Set(events(run).flatMap((e) => e.summary?.map((v) => v.tag) ?? []));
  const train = tags('train');
  for (const tag of [
    'elbo/neg_elbo',
    'elbo/recon',
    'elbo/kl',
    'schedule/tau',
    'schedule/learning_rate',
    'speed/images_per_sec',
    'pictures/reconstructions',
    'pictures/prior_samples',
    'codes/logits',
    'code_usage/var_00',
    'config',
  ]) {
    assert.ok(train.has(tag), `train events lack ${tag}`);
  }
  assert.ok(tags('validation').has('elbo/neg_elbo'));
  assert.ok(fs.existsSync(path.join(dir, 'pictures', 'epoch-002-samples.png')));

  const e = run('evaluate.ts', [dir, '--iw-samples', '20', '--test-size', '50', '--backend', 'wasm', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const result = JSON.parse(e.stdout.trim().split('\n').at(-1)!);
  for (const key of ['neg_elbo', 'recon', 'kl', 'nll_iw', 'iw_samples', 'examples', 'checkpoint'])
    assert.ok(key in result, `missing ${key}`);
  assert.equal(result.examples, 50);
  assert.ok(result.nll_iw < result.neg_elbo);
});

test('a missing checkpoint or an unloadable backend: one clear line, non-zero exit', () => {
  const missing = run('evaluate.ts', [path.join(tmp(), 'none'), '--backend', 'wasm']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: .*none: no such directory/m);
  const gpu = run('train.ts', ['--backend', 'tensorflow-gpu', '--out', path.join(tmp(), 'run')]);
  assert.notEqual(gpu.code, 0);
  assert.match(gpu.stderr, /^error: backend 'tensorflow-gpu' cannot load: .*npm install @tensorflow\/tfjs-node-gpu/m);
  assert.equal(gpu.stderr.trim().split('\n').length, 1, gpu.stderr);
});

test(
  'Ctrl-C under `npm run train` saves a checkpoint and says so (--json too); --resume finishes the run',
  { timeout: 180_000 },
  async () => {
    const dir = path.join(tmp(), 'run');
    // As in a terminal: npm and the script in their own process group, and Ctrl-C sends SIGINT to the whole group.
    const child = spawn('npm', ['run', '-s', 'train', '--', ...TINY, '--epochs', '1000', '--log-every', '1', '--out', dir, '--json'], {
      cwd: ROOT,
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      // With --json the progress lines go to stderr.
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/^epoch 2\/1000 /m.test(stderr) && !sent) {
          sent = true;
          process.kill(-child.pid!, 'SIGINT');
        }
      });
      // 'close': every process holding the pipes, the script included, has ended.
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    // npm itself ends with the signal (a shell shows 130); the script saved first and said where.
    assert.ok(ended.signal === 'SIGINT' || ended.code === 130, `npm ended with ${JSON.stringify(ended)}\n${stderr}`);
    assert.match(stderr, /^stopped at step \d+; resume with --resume /m);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.status, 'interrupted');
    assert.equal(summary.checkpoint, path.join(dir, 'latest'));
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'latest', 'state.json'), 'utf8'));
    assert.equal(state.step, summary.steps);
    assert.ok(state.step >= 8 && state.step < 4000, `saved at step ${state.step}`);
    const epochs = Math.ceil(state.step / 4) + 1;
    const resumed = run('train.ts', ['--resume', dir, '--epochs', String(epochs), '--backend', 'wasm', '--no-progress', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!).steps, epochs * 4);
  },
);
