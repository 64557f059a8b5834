import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkAxes, expandGrid, GridError, parseShard, pointName, shardPoints } from '../src/sweep/grid.js';
import { makeManifest, manifestConflict } from '../src/sweep/manifest.js';
import { flagsToArgv, mergeSpecs, parseGridFlag, parseSpecText, type FlagTable } from '../src/sweep/spec.js';
import { sweepableFlags } from '../src/cli/sweep_points.js';

const flags: FlagTable = sweepableFlags();

test('a grid expands to every combination, the last axis fastest, with stable names and indexes', () => {
  const points = expandGrid([
    { name: 'latent-vars', values: [20, 30] },
    { name: 'seed', values: [1, 2, 3] },
  ]);
  assert.deepEqual(
    points.map((p) => [p.index, p.name]),
    [
      [0, 'latent-vars-20_seed-1'],
      [1, 'latent-vars-20_seed-2'],
      [2, 'latent-vars-20_seed-3'],
      [3, 'latent-vars-30_seed-1'],
      [4, 'latent-vars-30_seed-2'],
      [5, 'latent-vars-30_seed-3'],
    ],
  );
  assert.deepEqual(points[4].values, { 'latent-vars': 30, seed: 2 });
  assert.deepEqual(expandGrid([]), [{ index: 0, name: 'default', values: {} }]);
  assert.equal(pointName({ 'encoder-units': [512, 256], 'data-dir': '/a b/c' }), 'encoder-units-512x256_data-dir--a-b-c');
  // Values that sanitise alike still get distinct folders.
  const clash = expandGrid([{ name: 'data-dir', values: ['a/b', 'a-b'] }]);
  assert.equal(new Set(clash.map((p) => p.name)).size, 2);
});

test('an empty axis, an axis named twice and a repeated value are refused', () => {
  assert.throws(() => checkAxes([{ name: 'seed', values: [] }]), /the grid axis seed has no values/);
  assert.throws(
    () =>
      checkAxes([
        { name: 'seed', values: [1] },
        { name: 'seed', values: [2] },
      ]),
    /names seed twice/,
  );
  assert.throws(() => checkAxes([{ name: 'seed', values: [1, 1] }]), /lists 1 twice/);
});

test('shards are disjoint and together are the whole grid, for any N', () => {
  const points = expandGrid([
    { name: 'categories', values: [2, 4, 8] },
    { name: 'seed', values: [1, 2, 3, 4, 5] },
  ]);
  for (const n of [1, 2, 3, 4, 7, 20]) {
    const shards = Array.from({ length: n }, (_, i) => shardPoints(points, { index: i, count: n }).map((p) => p.index));
    const all = shards.flat().sort((a, b) => a - b);
    assert.deepEqual(
      all,
      points.map((p) => p.index),
      `N=${n}: every point exactly once`,
    );
    shards.forEach((s, i) => assert.ok(s.every((index) => index % n === i)));
  }
  assert.deepEqual(parseShard(' 3/4 '), { index: 3, count: 4 });
  for (const bad of ['4/4', '1/0', '1', '-1/2', 'a/b']) assert.throws(() => parseShard(bad), GridError, bad);
});

test('--grid values are parsed and checked by the type of the training flag', () => {
  assert.deepEqual(parseGridFlag('latent-vars=20, 30', flags), { name: 'latent-vars', values: [20, 30] });
  assert.deepEqual(parseGridFlag('--learning-rate=1e-3,0.0005', flags).values, [0.001, 0.0005]);
  assert.deepEqual(parseGridFlag('encoder-units=512x256,1024', flags).values, [[512, 256], [1024]]);
  assert.deepEqual(parseGridFlag('hard=true,false', flags).values, [true, false]);
  assert.deepEqual(parseGridFlag('binarization=dynamic,fixed', flags).values, ['dynamic', 'fixed']);
  assert.throws(() => parseGridFlag('bogus=1,2', flags), /--grid bogus: not a training flag/);
  assert.throws(() => parseGridFlag('out=a,b', flags), /--grid out: not a training flag/);
  assert.throws(() => parseGridFlag('seed=', flags), /the axis has no values/);
  assert.throws(() => parseGridFlag('seed=1,,2', flags), /an empty value/);
  assert.throws(() => parseGridFlag('seed', flags), /expected NAME=V1,V2/);
  assert.throws(() => parseGridFlag('seed=one', flags), /'one' is not a number/);
  assert.throws(() => parseGridFlag('hard=yes', flags), /'yes' is not true or false/);
  assert.throws(() => parseGridFlag('binarization=gray', flags), /'gray' is not one of/);
  assert.deepEqual(flagsToArgv({ seed: 1, hard: false, 'encoder-units': [8, 4], binarization: 'fixed' }), [
    '--seed',
    '1',
    '--no-hard',
    '--encoder-units',
    '8',
    '4',
    '--binarization',
    'fixed',
  ]);
});

test('a spec file (YAML or JSON) gives the same sweep as the flags', () => {
  const yaml = 'grid:\n  latent-vars: [20, 30]\n  encoder-units: [[64, 32], [128]]\ntrain:\n  steps: 100\n  hard: true\n';
  const json = JSON.stringify({ grid: { 'latent-vars': [20, 30], 'encoder-units': [[64, 32], [128]] }, train: { steps: 100, hard: true } });
  const fromFlags = mergeSpecs(null, [parseGridFlag('latent-vars=20,30', flags), parseGridFlag('encoder-units=64x32,128', flags)], {
    steps: 100,
    hard: true,
  });
  assert.deepEqual(parseSpecText(yaml, flags, 'spec.yaml'), fromFlags);
  assert.deepEqual(parseSpecText(json, flags, 'spec.json'), fromFlags);
  assert.throws(() => parseSpecText('grid: {bogus: [1]}', flags, 's.yaml'), /--grid bogus: not a training flag/);
  assert.throws(() => parseSpecText('axes: {seed: [1]}', flags, 's.yaml'), /s.yaml: unknown key axes/);
  assert.throws(() => parseSpecText('grid: [1, 2]', flags, 's.yaml'), /must be a mapping/);
  assert.throws(() => parseSpecText('grid: {seed: [1', flags, 's.yaml'), /not valid JSON or YAML/);
  assert.throws(() => mergeSpecs(fromFlags, [], { 'latent-vars': 20 }), /--latent-vars is both a grid axis and a fixed flag/);
});

test('a manifest conflicts with a different grid or fixed flags, not with threads, log-every or backend', () => {
  const base = makeManifest({ axes: [{ name: 'seed', values: [1, 2] }], fixed: { steps: 10, threads: 2 } });
  const same = makeManifest({ axes: [{ name: 'seed', values: [1, 2] }], fixed: { 'log-every': 5, steps: 10, backend: 'cpu' } });
  assert.equal(manifestConflict(base, same), null);
  assert.match(
    manifestConflict(base, makeManifest({ axes: [{ name: 'seed', values: [1, 3] }], fixed: { steps: 10 } }))!,
    /its grid is seed=1,2, this one is seed=1,3/,
  );
  assert.match(
    manifestConflict(base, makeManifest({ axes: [{ name: 'seed', values: [1, 2] }], fixed: { steps: 20 } }))!,
    /its fixed flags are --steps 10, these are --steps 20/,
  );
});
