/**
 * The `catvae` bin as users run it (bin/catvae.js over the built dist/):
 * every command answers --help and --version, bad commands exit 2 with one
 * line, and the dispatcher hands a command exactly its own arguments.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../src/cli/commands.js';
import { catvaeMain } from '../src/cli/main.js';
import { CliError } from '../src/cli/run.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'catvae.js');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

function catvae(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('package.json points the catvae bin at bin/catvae.js, which runs the built CLI', () => {
  assert.equal(pkg.bin.catvae, 'bin/catvae.js');
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')), 'dist/cli/main.js missing: run npm run build');
});

test('catvae --version, --help, and one line with exit 2 for a missing or unknown command', async () => {
  const [version, help, none, unknown] = await Promise.all([catvae(['--version']), catvae(['--help']), catvae([]), catvae(['trian'])]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, new RegExp(`^catvae ${pkg.version.replace(/\./g, '\\.')} \\(@tensorflow/tfjs 4\\.\\d+\\.\\d+, node `));
  assert.equal(help.code, 0);
  for (const c of COMMANDS)
    assert.match(
      help.stdout,
      new RegExp(`^\\s+${c.name}\\s+${c.describe.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'),
      `--help lists ${c.name}`,
    );
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^error: name a command: train, evaluate/);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
  assert.match(unknown.stderr, /unknown command 'trian'/);
});

test('every command answers --help (as `catvae <name>`), and --version, with exit 0', async () => {
  const names = ['train', 'evaluate', 'inspect', 'sample', 'reconstruct', 'traverse', 'codes', 'bench', 'doctor'];
  assert.deepEqual(
    names.filter((n) => !COMMANDS.some((c) => c.name === n)),
    [],
  );
  // --help of every command; --version of two (the flag comes from the shared parser): each spawn loads tfjs.
  const runs = await Promise.all([
    ...names.map((name) => catvae([name, '--help'])),
    catvae(['train', '--version']),
    catvae(['doctor', '--version']),
  ]);
  names.forEach((name, i) => {
    assert.equal(runs[i].code, 0, `${name} --help: ${runs[i].stderr}`);
    assert.match(runs[i].stdout, new RegExp(`^catvae ${name}\\b`), `${name} --help usage line`);
  });
  for (const version of runs.slice(names.length)) {
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^catvae \d+\.\d+\.\d+ /);
  }
});

test('the dispatcher hands a command the arguments after its name, and returns its exit code', async () => {
  const seen: string[][] = [];
  const fake = [{ name: 'sweep', describe: 'a grid', run: async (argv: string[]) => (seen.push(argv), 7) }];
  assert.equal(await catvaeMain(['sweep', '--grid', 'x.json', '--json'], fake), 7);
  assert.deepEqual(seen, [['--grid', 'x.json', '--json']]);
  await assert.rejects(catvaeMain(['--steps', '5', 'train'], fake), /unknown option '--steps' before the command/);
  await assert.rejects(
    catvaeMain(['view'], fake),
    (e: unknown) => e instanceof CliError && e.exitCode === 2 && /unknown command 'view': use one of sweep/.test(e.message),
  );
});
