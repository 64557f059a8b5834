/**
 * Two copies of tfjs in one process are reported at import with one line.
 * The second copy is tfjs-core's Node bundle copied to another path (the
 * situation of a project whose own tfjs does not satisfy catvae's range).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tfjsCopiesProblem } from '../src/tfjs_copies.js';

const ROOT = path.resolve(import.meta.dirname, '..');

test('one copy: no problem; an engine from another copy: one line naming the fix', () => {
  assert.equal(tfjsCopiesProblem(), null);
  class OtherEnvironment {}
  const line = tfjsCopiesProblem(new OtherEnvironment(), tf.Environment);
  assert.ok(line);
  assert.doesNotMatch(line, /\n/);
  assert.match(line, /two copies of @tensorflow\/tfjs/);
  assert.match(line, /npm ls @tensorflow\/tfjs/);
});

test('a real second copy of tfjs-core, imported first, makes importing catvae print the line once', () => {
  // Inside node_modules so that the copy finds tfjs-core's own dependencies (long, seedrandom, ...).
  const dir = fs.mkdtempSync(path.join(ROOT, 'node_modules', '.tfjs-copy-'));
  try {
    const copy = path.join(dir, 'tf-core.node.cjs');
    fs.copyFileSync(path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-core', 'dist', 'tf-core.node.js'), copy);
    const script = [
      "import { createRequire } from 'node:module';",
      `createRequire(import.meta.url)(${JSON.stringify(copy)});`,
      `await import(${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))});`,
      `await import(${JSON.stringify(path.join(ROOT, 'src', 'node.ts'))});`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.includes('two copies of @tensorflow/tfjs'));
    assert.equal(lines.length, 1, `stderr:\n${r.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
