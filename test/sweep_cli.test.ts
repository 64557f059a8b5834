import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeManifest, writeManifest } from '../src/sweep/manifest.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const GRID = ['--grid', 'latent-vars=6,8', '--grid', 'seed=1,2'];
// Tiny runs: 4 steps an epoch, a checkpoint after each.
const TINY_RUN = [
  ...['--train-size', '200', '--validation-size', '100', '--test-size', '100', '--batch-size', '50'],
  ...['--categories', '4', '--encoder-units', '32', '--decoder-units', '32', '--backend', 'wasm', '--no-progress'],
];
const TINY = [...TINY_RUN, '--steps', '16'];
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-sweep-'));

function sweep(args: string[], options: { detached?: boolean } = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'sweep.ts'), ...args], {
    cwd: ROOT,
    detached: options.detached,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', () => {});
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** The report's rows without the timing column: what must agree between two sweeps of the same spec. */
function results(dir: string) {
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
  return {
    points: report.points.map(({ train_seconds: _s, wall_seconds: _w, ...row }: Record<string, unknown>) => row),
    configurations: report.configurations.map(({ train_seconds: _s, wall_seconds: _w, ...row }: Record<string, unknown>) => row),
  };
}

const stateFiles = (dir: string) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .map((p) => path.join(dir, p, 'latest', 'state.json'))
        .filter((f) => fs.existsSync(f))
    : [];

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('bad input: one line, exit 2, and nothing written', () => {
  const base = tmp();
  const other = path.join(base, 'other');
  writeManifest(other, makeManifest({ axes: [{ name: 'seed', values: [1, 2] }], fixed: { steps: 16 } }));
  const run = path.join(base, 'run');
  fs.mkdirSync(path.join(run, 'latest'), { recursive: true });
  const cases: Array<[string[], RegExp, string]> = [
    [['--grid', 'bogus=1,2'], /^error: --grid bogus: not a training flag the sweep can vary/, 'fresh'],
    [['--grid', 'seed='], /^error: --grid seed: the axis has no values/, 'fresh'],
    [['--grid', 'categories=4,1'], /^error: point categories-1 \(.*\): categories \(K\) must be at least 2, got 1/, 'fresh'],
    // train's own checks beyond the config's (here: the model's size) run on every point too.
    [['--grid', 'latent-vars=20,1000000'], /^error: point latent-vars-1000000 \(.*\): the model would have 5\.13e\+9 weights/, 'fresh'],
    [
      ['--grid', 'seed=1,3', '--steps', '16'],
      /^error: .*other holds another sweep \(its grid is seed=1,2, this one is seed=1,3\)/,
      'other',
    ],
    [['--grid', 'seed=1,2'], /^error: .*run is not empty and holds no sweep.json \(found latest\)/, 'run'],
  ];
  for (const [args, message, out] of cases) {
    const dir = path.join(base, out);
    const before = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).sort() : null;
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'sweep.ts'), '--out', dir, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const after = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).sort() : null;
    assert.deepEqual(after, before, `${args.join(' ')} changed ${dir}`);
  }
});

let reference: Promise<{ dir: string; results: ReturnType<typeof results> }> | null = null;
/** An uninterrupted, unsharded 2x2 sweep with --parallel 2 (run once, shared by the tests below). */
function referenceSweep() {
  reference ??= (async () => {
    const dir = path.join(tmp(), 'sweep');
    const r = await sweep(['--out', dir, ...GRID, ...TINY, '--parallel', '2']).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /sweep: 4 completed, 0 already finished/);
    const again = await sweep(['--out', dir, ...GRID, ...TINY, '--parallel', '2']).done;
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /sweep: 0 completed, 4 already finished/, 'a rerun of a finished sweep runs nothing');
    return { dir, results: results(dir) };
  })();
  return reference;
}

test('a 2x2 sweep killed with SIGKILL, then stopped with SIGTERM, and rerun, ends with the results of an uninterrupted one', async () => {
  const ref = await referenceSweep();
  assert.equal(ref.results.points.length, 4);
  assert.ok(ref.results.points.every((p: { status: string; steps: number }) => p.status === 'completed' && p.steps === 16));
  assert.equal(ref.results.configurations.length, 2, 'seeds averaged per latent-vars');

  const dir = path.join(tmp(), 'sweep');
  const args = ['--out', dir, ...GRID, ...TINY, '--parallel', '2'];
  // 1. The whole process group (sweep and children) dies at the first checkpoint, as in a crash.
  const first = sweep(args, { detached: true });
  await waitFor(() => stateFiles(dir).length > 0, 'a first checkpoint');
  process.kill(-first.child.pid!, 'SIGKILL');
  await first.done;
  const unfinished = () =>
    fs.readdirSync(dir).filter((p) => fs.existsSync(path.join(dir, p, 'latest')) && !fs.existsSync(path.join(dir, p, 'result.json')));
  assert.ok(unfinished().length > 0, 'a point was cut off mid-run');

  // 2. SIGTERM to the sweep alone, once the rerun has saved a checkpoint: each child saves and stops, exit 130.
  const t0 = Date.now();
  const second = sweep(args, { detached: true });
  // statSync's throwIfNoEntry: false: a checkpoint being saved may vanish between the listing and the stat.
  await waitFor(
    () => stateFiles(dir).some((f) => (fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0) > t0),
    'a checkpoint of the second run',
  );
  process.kill(second.child.pid!, 'SIGTERM');
  const stopped = await second.done;
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /SIGTERM: stopping every point/);
  assert.match(stopped.stderr, /resuming from latest\//);
  assert.ok(
    unfinished().length > 0 || fs.readdirSync(dir).filter((p) => p.startsWith('latent-vars')).length < 4,
    'the stop left work to do',
  );

  // 3. The same command again finishes the sweep.
  const third = await sweep(args).done;
  assert.equal(third.code, 0, third.stderr);
  const got = results(dir);
  assert.equal(got.points.length, 4);
  assert.deepEqual(got, ref.results);
});

test('--shard 0/2 and 1/2 run disjoint halves; the report over the shared folder equals the unsharded one', async () => {
  const ref = await referenceSweep();
  const dir = path.join(tmp(), 'sweep');
  const [a, b] = await Promise.all(['0/2', '1/2'].map((s) => sweep(['--out', dir, ...GRID, ...TINY, '--shard', s]).done));
  const started = (stderr: string) => [...stderr.matchAll(/^(\S+): starting$/gm)].map((m) => m[1]).sort();
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(started(a.stderr), ['latent-vars-6_seed-1', 'latent-vars-8_seed-1']);
  assert.deepEqual(started(b.stderr), ['latent-vars-6_seed-2', 'latent-vars-8_seed-2']);
  const report = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'sweep_report.ts'), dir], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(report.status, 0, report.stderr);
  assert.match(report.stdout, /\| latent-vars-8_seed-2 \| 8 \| 2 \| completed \| 16 \|/);
  assert.deepEqual(results(dir), ref.results);
  for (const f of ['report.md', 'report.csv', 'curves.png']) assert.ok(fs.statSync(path.join(dir, f)).size > 0, f);
});

test('a sweep child saves and stops when its sweep dies (stdin closes, pipes break) and on SIGTERM', async () => {
  const dir = path.join(tmp(), 'run');
  const start = (extra: string[]) =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'src', 'cli', 'sweep_child.ts'),
        'train',
        ...TINY_RUN,
        '--steps',
        '100000',
        '--out',
        dir,
        '--json',
        ...extra,
      ],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
  const exit = (child: ReturnType<typeof start>) => new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const step = () => JSON.parse(fs.readFileSync(path.join(dir, 'latest', 'state.json'), 'utf8')).step as number;
  // While a child saves, 'latest' is briefly absent (it becomes 'latest.prev' before the new one takes its name).
  const stepWhileRunning = () => {
    try {
      return step();
    } catch {
      return -1;
    }
  };
  const children: Array<ReturnType<typeof start>> = [];
  try {
    // The sweep is gone: its end of every pipe closes at once.
    const orphan = start([]);
    children.push(orphan);
    const orphanExit = exit(orphan);
    let first = -1;
    await waitFor(() => (first = stepWhileRunning()) >= 0, 'a first checkpoint');
    orphan.stdout.destroy();
    orphan.stderr.destroy();
    orphan.stdin.end();
    assert.equal(await orphanExit, 130, 'stopped as on Ctrl-C');
    const saved = step();
    assert.ok(saved > first && saved < 100000, `saved at step ${saved} on stopping (first checkpoint: ${first})`);

    const termed = start(['--resume', dir]);
    children.push(termed);
    let stderr = '';
    termed.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const termedExit = exit(termed);
    await waitFor(() => /resuming .* at step/.test(stderr) && stepWhileRunning() > saved, 'a checkpoint of the resumed run');
    termed.kill('SIGTERM');
    assert.equal(await termedExit, 143, stderr);
    assert.match(stderr, /stopping on SIGTERM: saving a checkpoint/);
  } finally {
    // A failed assertion must not leave a 100,000-step run behind.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('a point that fails is recorded and reported, and the others still run', async () => {
  const dir = path.join(tmp(), 'sweep');
  // --batch-size 300 passes the flag checks but is more than the 200 training images: train exits 2 once it has the data.
  const args = [
    '--out',
    dir,
    '--grid',
    'batch-size=300,50',
    ...TINY.filter((a, i) => a !== '--batch-size' && TINY[i - 1] !== '--batch-size'),
  ];
  const r = await sweep([...args, '--latent-vars', '6', '--parallel', '2']).done;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /batch-size-300: FAILED: --batch-size 300 is more than the 200 training images/);
  assert.match(r.stderr, /sweep: 1 completed, 0 already finished, 0 diverged, 1 failed/);
  const failure = JSON.parse(fs.readFileSync(path.join(dir, 'batch-size-300', 'failure.json'), 'utf8'));
  assert.equal(failure.exit_code, 2);
  const rows = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')).points;
  assert.deepEqual(
    rows.map((p: { point: string; status: string }) => [p.point, p.status]),
    [
      ['batch-size-300', 'failed'],
      ['batch-size-50', 'completed'],
    ],
  );
  assert.match(
    fs.readFileSync(path.join(dir, 'report.md'), 'utf8'),
    /\| batch-size-300 \| 300 \| blue \| failed \(--batch-size 300 is more/,
  );
});
