/** A tiny trained run for the view tests: the default N x K model, 30 steps on 500 images, through the CLI. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export function trainTinyRun(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-view-')), 'run');
  const args = ['--steps', '30', '--train-size', '500', '--validation-size', '100', '--test-size', '100', '--log-every', '10'];
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts', 'train.ts'), ...args, '--backend', 'wasm', '--no-progress', '--out', dir],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`training the test run failed (exit ${r.status}): ${r.stderr}`);
  return dir;
}

/** Runs a catvae script and returns its exit code and output. */
export function runScript(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', script), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
