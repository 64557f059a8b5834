/**
 * bench/gpu/gpu_check.sh runs once, unattended, on a lent GPU machine: a
 * flag that a command no longer knows would waste that run. Each catvae
 * command line in it is checked against the command's own --help here.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCRIPT = fs.readFileSync(path.join(ROOT, 'bench', 'gpu', 'gpu_check.sh'), 'utf8');

/** [script, flags] for each `node --import tsx scripts/<name>.ts ...` stage of the kit. */
function commandLines(): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  for (const line of SCRIPT.split('\n')) {
    const m = /^stage \S+ \d+ node --import tsx (scripts\/\w+\.ts)(.*)$/.exec(line);
    if (m) out.push([m[1], [...m[2].matchAll(/\s(--[a-z][a-z0-9-]*)/g)].map((f) => f[1])]);
  }
  return out;
}

test('every flag that gpu_check.sh gives a catvae command is one the command knows', () => {
  const lines = commandLines();
  assert.deepEqual(
    lines.map(([script]) => script),
    ['scripts/doctor.ts', 'scripts/bench.ts', 'scripts/train.ts', 'scripts/evaluate.ts'],
  );
  for (const [script, flags] of lines) {
    const help = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, script), '--help'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(help.status, 0, `${script} --help: ${help.stderr}`);
    for (const flag of flags) {
      // yargs lists a boolean's negation only as the flag itself.
      const name = flag.replace(/^--no-/, '--');
      assert.ok(
        new RegExp(`\\s${name}[\\s,]`).test(help.stdout),
        `${script}: gpu_check.sh passes ${flag}, which '${script} --help' does not list`,
      );
    }
  }
});
