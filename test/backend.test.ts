import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, defaultLoaders, BackendUnavailable, type BackendLoader, type BackendName } from '../src/backend.js';
import { ensureFileSystemHandlers, readModelArtifacts } from '../src/io/file_io.js';

/** Loaders that fail with a reason, except those named, which switch to a real backend. */
function fakeLoaders(working: Partial<Record<BackendName, 'wasm' | 'cpu'>>): {
  loaders: Record<BackendName, BackendLoader>;
  tried: BackendName[];
} {
  const tried: BackendName[] = [];
  const real = defaultLoaders();
  const make =
    (name: BackendName): BackendLoader =>
    async (forced) => {
      tried.push(name);
      const target = working[name];
      if (!target) throw new BackendUnavailable(name, `${name} is not here`, `Install ${name}.`);
      const loaded = await real[target](forced);
      return { ...loaded, detail: `${loaded.detail} (as ${name})` };
    };
  const loaders = Object.fromEntries((['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const).map((n) => [n, make(n)]));
  return { loaders: loaders as Record<BackendName, BackendLoader>, tried };
}

test('auto tries tensorflow-gpu, tensorflow, webgpu, wasm, cpu in order and says why each was skipped', async () => {
  const { loaders, tried } = fakeLoaders({ wasm: 'wasm' });
  const selection = await selectBackend('auto', loaders);
  assert.deepEqual(tried, ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm']);
  assert.equal(selection.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(selection.summary.split('\n').length, 1);
  assert.match(
    selection.summary,
    /^backend: wasm \(SIMD, .*\); skipped tensorflow-gpu: tensorflow-gpu is not here; tensorflow: tensorflow is not here; webgpu: webgpu is not here$/,
  );
});

test('auto stops at the first backend that loads', async () => {
  const { loaders, tried } = fakeLoaders({ tensorflow: 'cpu', wasm: 'wasm' });
  const selection = await selectBackend('auto', loaders);
  assert.deepEqual(tried, ['tensorflow-gpu', 'tensorflow']);
  assert.equal(selection.name, 'tensorflow');
  await selectBackend('wasm');
});

test('a forced backend that cannot load throws one line with the fix; an unknown name is rejected', async () => {
  const { loaders } = fakeLoaders({});
  await assert.rejects(selectBackend('tensorflow-gpu', loaders), (e: Error) => {
    assert.ok(e instanceof BackendUnavailable);
    assert.equal(e.message, "backend 'tensorflow-gpu' cannot load: tensorflow-gpu is not here. Install tensorflow-gpu.");
    return true;
  });
  // The real loader, without the package installed here.
  await assert.rejects(
    selectBackend('tensorflow-gpu'),
    /cannot load: @tensorflow\/tfjs-node-gpu is not installed\. Install it with 'npm install @tensorflow\/tfjs-node-gpu' on a CUDA machine; it needs an NVIDIA driver, CUDA 11\.2 and cuDNN 8\.1/,
  );
  await assert.rejects(
    selectBackend('tpu' as BackendName),
    /unknown backend 'tpu': use one of auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu/,
  );
});

test('file IO without tfjs-node: one handler, the tfjs-node layout, and truncated weights named', async () => {
  await selectBackend('wasm');
  ensureFileSystemHandlers();
  ensureFileSystemHandlers(); // idempotent: two handlers would make model.save throw
  assert.equal(tf.io.getSaveHandlers('file:///x').length, 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-io-'));
  try {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
    await model.save(`file://${dir}`);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    assert.deepEqual(json.weightsManifest[0].paths, ['./weights.bin']);
    const loaded = await tf.loadLayersModel(`file://${path.join(dir, 'model.json')}`);
    assert.deepEqual(Array.from(loaded.getWeights()[0].dataSync()), Array.from(model.getWeights()[0].dataSync()));
    fs.truncateSync(path.join(dir, 'weights.bin'), 10);
    await assert.rejects(readModelArtifacts(dir), /weights\.bin: truncated \(10 bytes, model\.json expects 32\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('file IO with tfjs-node present: its file:// handlers stay the only ones (two would make model.save throw)', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-io-'));
  const script = path.join(dir, 'child.ts');
  const fileIo = new URL('../src/io/file_io.ts', import.meta.url).href;
  // The same tfjs module file_io.ts imports (the child script lives outside the project).
  const { createRequire } = await import('node:module');
  const { pathToFileURL } = await import('node:url');
  const tfjs = pathToFileURL(createRequire(import.meta.url).resolve('@tensorflow/tfjs')).href;
  // Stands in for tfjs-node, which registers its file:// routers when imported.
  fs.writeFileSync(
    script,
    `import * as tf from '${tfjs}';\n` +
      `import { ensureFileSystemHandlers } from '${fileIo}';\n` +
      `const nodeRouter = (url) => (String(url).startsWith('file://') ? { save: async () => ({ modelArtifactsInfo: {} }), tag: 'tfjs-node' } : null);\n` +
      `tf.io.registerSaveRouter(nodeRouter);\n` +
      `tf.io.registerLoadRouter(nodeRouter);\n` +
      `ensureFileSystemHandlers();\n` +
      `const save = tf.io.getSaveHandlers('file:///tmp/x');\n` +
      `const load = tf.io.getLoadHandlers('file:///tmp/x/model.json');\n` +
      `console.log(JSON.stringify({ save: save.length, load: load.length, tags: [...save, ...load].map((h) => h.tag ?? 'catvae') }));\n`,
  );
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout.trim().split('\n').at(-1)!), { save: 1, load: 1, tags: ['tfjs-node', 'tfjs-node'] });
});
