import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

// `npm test` builds dist/ first; these tests use the package the way another project would.
test('the built entries import by package name: the layer and the VAE in catvae, the Node tools in catvae/node', async () => {
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'index.js')), 'dist/index.js missing: run npm run build');
  const catvae = (await import('catvae')) as Record<string, unknown>;
  const node = (await import('catvae/node')) as Record<string, unknown>;
  const browserSafe = ['GumbelSoftmax', 'gumbelSoftmax', 'TemperatureAnnealer', 'temperatureAnnealer', 'buildVae', 'negativeElbo'];
  for (const name of [...browserSafe, 'trainStep', 'evaluateVae', 'encode', 'relaxedSoftmax', 'fusedAdam']) {
    assert.equal(typeof catvae[name], 'function', `catvae.${name}`);
    assert.equal(node[name], catvae[name], `catvae/node re-exports ${name}`);
  }
  for (const name of ['train', 'loadDataset', 'SummaryWriter', 'selectBackend', 'ensureFileSystemHandlers']) {
    assert.equal(typeof node[name], 'function', `catvae/node.${name}`);
    assert.equal(catvae[name], undefined, `${name} needs Node: not in the browser entry`);
  }
  const wasm = (await import('catvae/wasm')) as Record<string, unknown>;
  assert.equal(typeof wasm.installWasmSpeedups, 'function', 'catvae/wasm.installWasmSpeedups');
});

test('its type declarations let a TypeScript consumer use the layer in a model', () => {
  const dir = fs.mkdtempSync(path.join(ROOT, 'dist', 'consumer-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'consumer.ts'),
      [
        "import * as tf from '@tensorflow/tfjs';",
        "import { gumbelSoftmax, temperatureAnnealer, type GumbelSoftmaxArgs } from 'catvae';",
        'const args: GumbelSoftmaxArgs = { hard: true, temperature: 0.5 };',
        'const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 6 }), tf.layers.reshape({ targetShape: [2, 3] }), gumbelSoftmax(args)] });',
        'const callbacks: tf.Callback[] = [temperatureAnnealer({ tau0: 1, tauMin: 0.5 })];',
        'export { model, callbacks };',
      ].join('\n'),
    );
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
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
