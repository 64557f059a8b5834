/**
 * The architecture, checked on every test run: each import between folders
 * of src/ (and from scripts/) must be an allowed arrow of the diagram in the
 * README ("Architecture"), and no folders may import each other in a cycle,
 * nor any modules. A failure names the file, the line and the import.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCycle, importGraph, importSpecifiers, type ImportEdge } from './helpers/import_graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The unit a file belongs to: a folder of src/ ('model'), a top-level module
 * of src/ ('backend', 'random'), 'scripts', or the top folder outside both ('bench').
 */
export function unitOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'src') return parts[0];
  return parts.length === 2 ? parts[1].replace(/\.ts$/, '') : parts[1];
}

/** Below the command line: what src/cli and its peers may build on. */
const LIBRARY = ['model', 'layers', 'ops', 'data', 'image', 'io', 'random', 'versions'];

/**
 * Unit -> the units it may import (the diagram's arrows, made transitive
 * where a layer may skip the ones below it). Future folders included:
 * src/webgpu (a plug-in like src/wasm), src/view and src/sweep (beside
 * src/inspect, under src/cli), src/node.ts (the Node entry).
 */
export const ALLOWED: Record<string, string[]> = {
  scripts: ['cli'],
  // The command line may import anything below it.
  cli: ['sweep', 'view', 'inspect', 'tensorboard', 'bench', 'backend', 'gpu', 'wasm', 'webgpu', ...LIBRARY],
  // What one benchmark run measures and its table (src/bench; the PyTorch peer in the repo's bench/).
  bench: ['versions'],
  sweep: ['view', 'inspect', 'tensorboard', 'backend', ...LIBRARY],
  // The view's page (src/view/page) runs on the package's browser entry.
  view: ['index', 'inspect', 'tensorboard', 'backend', ...LIBRARY],
  inspect: ['tensorboard', ...LIBRARY],
  tensorboard: ['image', 'io', 'random', 'versions'],
  model: ['layers', 'ops', 'data', 'tensorboard', 'image', 'io', 'random', 'versions'],
  layers: ['ops', 'random'],
  ops: ['random'],
  data: ['io', 'random'],
  image: [],
  io: [],
  random: [],
  versions: [],
  tfjs_copies: [],
  // Node's backend choice: the only importer of the plug-ins outside src/cli.
  backend: ['wasm', 'webgpu', 'gpu', 'io', 'versions'],
  // Plug-ins: kernels for the op names of src/ops.
  wasm: ['ops'],
  webgpu: ['ops', 'gpu'],
  gpu: ['io', 'versions'],
  // Package entries may import what they re-export; 'catvae' (index) stays browser-safe.
  index: ['tfjs_copies', 'layers', 'ops', 'model', 'data', 'image', 'tensorboard', 'random', 'versions'],
  node: ['index', 'backend', 'wasm', 'webgpu', 'gpu', 'inspect', 'tensorboard', 'view', ...LIBRARY],
};

const graph = importGraph(ROOT, ['src', 'scripts']);
const describe = (e: ImportEdge) => `${e.from}:${e.line} imports '${e.specifier}'`;

test('the import parser finds static, re-export, side-effect and dynamic imports, and skips comments', () => {
  const source = [
    "import * as tf from '@tensorflow/tfjs';",
    'import {',
    '  a,',
    '  type B,',
    "} from './a.js';",
    "import type { C } from '../c.js';",
    "export { d } from './d.js';",
    "export * from './e/index.js';",
    "import './side_effect.js';",
    "// import { x } from './commented.js';",
    "/* export * from './block_commented.js'; */",
    "const url = 'http://example.com/from/here';",
    "const lazy = await import('./lazy.js');",
    'const dynamic = await import(`./${name}.js`);',
  ].join('\n');
  assert.deepEqual(importSpecifiers(source), [
    { specifier: '@tensorflow/tfjs', line: 1, typeOnly: false },
    { specifier: './a.js', line: 5, typeOnly: false },
    { specifier: '../c.js', line: 6, typeOnly: true },
    { specifier: './d.js', line: 7, typeOnly: false },
    { specifier: './e/index.js', line: 8, typeOnly: false },
    { specifier: './side_effect.js', line: 9, typeOnly: false },
    { specifier: './lazy.js', line: 13, typeOnly: false },
  ]);
});

test('the graph is read: every relative import resolves to a source file', () => {
  assert.ok(graph.length > 100, `only ${graph.length} imports found`);
  const unresolved = graph.filter((e) => e.to === '');
  assert.deepEqual(unresolved.map(describe), []);
});

test('every import between folders is an allowed arrow', () => {
  const bad: string[] = [];
  for (const e of graph) {
    const [from, to] = [unitOf(e.from), unitOf(e.to)];
    if (from === to) continue;
    const allowed = ALLOWED[from];
    if (allowed?.includes(to)) continue;
    bad.push(
      allowed
        ? `${describe(e)}: ${from} -> ${to} is not an allowed arrow (${from} may import: ${allowed.join(', ') || 'nothing'})`
        : `${describe(e)}: '${from}' is a new folder or module: add it to ALLOWED in test/architecture.test.ts and to the README's diagram`,
    );
  }
  if (bad.length > 0) assert.fail(`disallowed imports:\n  ${bad.join('\n  ')}`);
});

/** The first cycle of the graph over `key`, described by one import per arrow. */
function cycleOf(key: (file: string) => string): string[] | null {
  const adjacency = new Map<string, Set<string>>();
  const example = new Map<string, ImportEdge>();
  for (const e of graph) {
    const [a, b] = [key(e.from), key(e.to)];
    if (a === b) continue;
    adjacency.set(a, (adjacency.get(a) ?? new Set()).add(b));
    if (!example.has(`${a} ${b}`)) example.set(`${a} ${b}`, e);
  }
  const cycle = findCycle(adjacency);
  return cycle && cycle.slice(1).map((node, i) => `${cycle[i]} -> ${node}: ${describe(example.get(`${cycle[i]} ${node}`)!)}`);
}

test('no cycle between folders', () => {
  const cycle = cycleOf(unitOf);
  if (cycle) assert.fail(`folders import each other:\n  ${cycle.join('\n  ')}`);
});

test('no cycle between modules', () => {
  const cycle = cycleOf((file) => file);
  if (cycle) assert.fail(`modules import each other:\n  ${cycle.join('\n  ')}`);
});

/** Node's own modules, by either name ('node:fs' or 'fs'). */
const NODE_BUILTINS = new Set([
  'assert',
  'buffer',
  'child_process',
  'crypto',
  'events',
  'fs',
  'module',
  'os',
  'path',
  'process',
  'stream',
  'url',
  'util',
  'v8',
  'worker_threads',
  'zlib',
]);
const isNodeOnly = (specifier: string) => specifier.startsWith('node:') || NODE_BUILTINS.has(specifier.split('/')[0]);

/** The chain of imports from `entry` to a module that imports a Node builtin, or null when none does (type-only imports load nothing). */
function nodeOnlyChain(entry: string): string[] | null {
  const parents = new Map<string, ImportEdge | null>([[entry, null]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const builtin = importSpecifiers(fs.readFileSync(path.join(ROOT, file), 'utf8')).find((i) => !i.typeOnly && isNodeOnly(i.specifier));
    if (builtin) {
      const chain = [`${file}:${builtin.line} imports '${builtin.specifier}'`];
      for (let e = parents.get(file); e; e = parents.get(e.from)) chain.unshift(describe(e));
      return chain;
    }
    for (const e of graph.filter((g) => g.from === file && !g.typeOnly && !parents.has(g.to))) {
      parents.set(e.to, e);
      queue.push(e.to);
    }
  }
  return null;
}

// Enforced once the package has its Node entry (src/node.ts, issue 15): until then 'catvae' still carries the Node-only exports.
const nodeEntry = fs.existsSync(path.join(ROOT, 'src/node.ts'));
test(
  'the browser entry (src/index.ts) reaches no Node builtin, however indirectly',
  { todo: nodeEntry ? false : 'src/index.ts is split into index.ts and node.ts by issue 15' },
  () => {
    const chain = nodeOnlyChain('src/index.ts');
    if (chain) assert.fail(`src/index.ts reaches Node-only code:\n  ${chain.join('\n  ')}`);
  },
);
