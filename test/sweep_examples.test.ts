import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..');
const out = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-sweep-example-')), 'sweep');

/** The words of a shell command line (quotes removed; no expansion but the variables given). */
function words(command: string, vars: Record<string, string>): string[] {
  let text = command.replace(/\\\n/g, ' ');
  for (const [name, value] of Object.entries(vars)) text = text.split(name).join(value);
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/^"(.*)"$/, '$1'));
}

/** Runs the example's sweep command with --dry-run: the points of one shard, or exit 2 on a bad flag. */
function dryRun(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'sweep.ts'), ...args, '--dry-run'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

test('the Slurm array script is valid bash, and its task I of N runs the points with index mod N == I', () => {
  const file = path.join(ROOT, 'examples', 'slurm_sweep.sh');
  const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  const text = fs.readFileSync(file, 'utf8');
  const [, first, last] = /#SBATCH --array=(\d+)-(\d+)/.exec(text)!;
  const tasks = Number(last) - Number(first) + 1;
  const command = /exec \$CATVAE sweep ([\s\S]*?)\n\s*\n|exec \$CATVAE sweep ([\s\S]*)$/.exec(text)!;
  const args = words(command[1] ?? command[2], {
    '${SLURM_ARRAY_TASK_ID}': '1',
    '${SLURM_ARRAY_TASK_COUNT}': String(tasks),
    '${SLURM_CPUS_PER_TASK:-1}': '2',
    $SWEEP_DIR: out(),
  });
  const lines = dryRun(args);
  assert.ok(lines.length > 0);
  for (const line of lines) assert.equal(Number(line.split('\t')[0]) % tasks, 1, line);
});

test('the Kubernetes manifest is an Indexed Job whose --shard N equals its completions', () => {
  const job = parseYaml(fs.readFileSync(path.join(ROOT, 'examples', 'k8s_sweep_job.yaml'), 'utf8'));
  assert.equal(job.kind, 'Job');
  assert.equal(job.spec.completionMode, 'Indexed');
  const container = job.spec.template.spec.containers[0];
  const script: string = container.args[0];
  const n = Number(/--shard "\$\{JOB_COMPLETION_INDEX\}\/(\d+)"/.exec(script)![1]);
  assert.equal(n, job.spec.completions);
  const mount = container.volumeMounts[0].mountPath;
  assert.ok(script.includes(`--out ${mount}/`), 'the sweep folder is on the shared volume');
  const args = words(script.replace(/^exec catvae sweep/, ''), { '${JOB_COMPLETION_INDEX}': '0', [`${mount}/latents`]: out() });
  for (const line of dryRun(args)) assert.equal(Number(line.split('\t')[0]) % n, 0, line);
});
