/**
 * The WebGPU loader's logic with fake packages: the setup order that makes
 * tfjs-backend-webgpu register, and a clear reason for every way it fails.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { BackendUnavailable, defaultLoaders } from '../src/backend.js';
import { loadWebGpu, webGpuDeps, WebGpuUnavailable, type WebGpuDeps } from '../src/gpu/webgpu.js';
import { describeAdapter, type AdapterInfo } from '../src/gpu/webgpu_adapter.js';

interface FakeOptions {
  installed?: string[];
  adapter?: AdapterInfo | null;
  /** The backend package registers only if navigator.gpu exists when it is imported (as the real one does). */
  registerOnImport?: boolean;
  setBackendResult?: boolean;
  dawnThrows?: boolean;
}

function fakeDeps(o: FakeOptions = {}) {
  const factories = new Set<string>();
  const events: string[] = [];
  const global: Record<string, unknown> = {};
  const deps: WebGpuDeps = {
    isInstalled: (spec) => (o.installed ?? ['webgpu', '@tensorflow/tfjs-backend-webgpu']).includes(spec),
    importModule: async (spec) => {
      events.push(`import ${spec}`);
      if (spec === 'webgpu') {
        if (o.dawnThrows) throw new Error('dawn.node: GLIBC_2.34 not found');
        return {
          globals: { GPUBufferUsage: { STORAGE: 128 } },
          create: (options: string[]) => {
            events.push(`create ${JSON.stringify(options)}`);
            return {
              requestAdapter: async () =>
                o.adapter === null ? null : { info: o.adapter ?? { description: 'NVIDIA RTX A6000', architecture: 'ampere' } },
            };
          },
        };
      }
      const navigator = global.navigator as { gpu?: unknown } | undefined;
      if ((o.registerOnImport ?? true) && navigator?.gpu && global.GPUBufferUsage) factories.add('webgpu');
      return {};
    },
    global,
    hasBackendFactory: (name) => factories.has(name),
    setBackend: async (name) => {
      events.push(`setBackend ${name}`);
      return o.setBackendResult ?? true;
    },
  };
  return { deps, events, global };
}

async function rejection(promise: Promise<unknown>): Promise<WebGpuUnavailable> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WebGpuUnavailable, `expected WebGpuUnavailable, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the loader to throw');
}

test('navigator.gpu and Dawn globals are installed before tfjs-backend-webgpu is imported, then webgpu is selected', async () => {
  const { deps, events, global } = fakeDeps();
  const detail = await loadWebGpu(deps);
  assert.deepEqual(events, ['import webgpu', 'create []', 'import @tensorflow/tfjs-backend-webgpu', 'setBackend webgpu']);
  assert.ok((global.navigator as { gpu?: unknown }).gpu, 'navigator.gpu is set');
  assert.deepEqual(global.GPUBufferUsage, { STORAGE: 128 });
  assert.match(detail, /adapter: NVIDIA RTX A6000/);
  assert.doesNotMatch(detail, /software/);
  // A second load reuses navigator.gpu and the registered backend.
  await loadWebGpu(deps);
  assert.equal(events.filter((e) => e.startsWith('create')).length, 1);
});

test('package missing: the reason names it and the fix is the opt-in install command', async () => {
  const error = await rejection(loadWebGpu(fakeDeps({ installed: ['webgpu'] }).deps));
  assert.match(error.reason, /@tensorflow\/tfjs-backend-webgpu is not installed/);
  assert.match(error.fix, /npm install webgpu @tensorflow\/tfjs-backend-webgpu@4\.22\.0/);
});

test('no adapter: the fix is a Vulkan driver, and tfjs-backend-webgpu is never imported', async () => {
  const { deps, events } = fakeDeps({ adapter: null });
  const error = await rejection(loadWebGpu(deps));
  assert.match(error.reason, /no adapter/);
  assert.match(error.fix, /Vulkan/);
  assert.ok(!events.includes('import @tensorflow/tfjs-backend-webgpu'));
});

test('dawn.node that does not load, a backend that did not register, a backend that did not initialise', async () => {
  assert.match((await rejection(loadWebGpu(fakeDeps({ dawnThrows: true }).deps))).reason, /dawn\.node did not load \(dawn\.node: GLIBC/);
  assert.match((await rejection(loadWebGpu(fakeDeps({ registerOnImport: false }).deps))).reason, /registered no backend/);
  assert.match(
    (await rejection(loadWebGpu(fakeDeps({ setBackendResult: false }).deps))).reason,
    /did not initialise on 'NVIDIA RTX A6000'/,
  );
});

test('a software adapter is said to be one', async () => {
  const lavapipe: AdapterInfo = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7', isFallbackAdapter: true };
  assert.match(await loadWebGpu(fakeDeps({ adapter: lavapipe }).deps), /llvmpipe: Mesa 25\.0\.7 \(software: runs on the CPU, not a GPU\)/);
  // auto (allowSoftware false) skips it with the reason; forcing it (true) uses it.
  await assert.rejects(loadWebGpu(fakeDeps({ adapter: lavapipe }).deps, { allowSoftware: false }), /only WebGPU adapter is a software one/);
  assert.match(await loadWebGpu(fakeDeps({ adapter: lavapipe }).deps, { allowSoftware: true }), /software/);
  assert.deepEqual(describeAdapter({ vendor: 'nvidia', device: 'rtx' }), { text: 'nvidia rtx', software: false });
  assert.equal(describeAdapter({ description: 'SwiftShader Device (Subzero)' }).software, true);
  assert.equal(describeAdapter(undefined).text, 'unnamed adapter');
});

test('the real loader without the opt-in packages: BackendUnavailable with the install command', async () => {
  const require = createRequire(import.meta.url);
  let installed = true;
  try {
    require.resolve('webgpu');
    require.resolve('@tensorflow/tfjs-backend-webgpu');
  } catch {
    installed = false;
  }
  if (installed) {
    // They are devDependencies: the real dependencies with the packages hidden stand for a user's install.
    await assert.rejects(loadWebGpu({ ...webGpuDeps(), isInstalled: () => false }), (error: unknown) => {
      assert.ok(error instanceof WebGpuUnavailable);
      assert.match(error.reason, /^webgpu is not installed/);
      assert.match(error.fix, /npm install webgpu @tensorflow\/tfjs-backend-webgpu@4\.22\.0/);
      return true;
    });
    return;
  }
  await assert.rejects(defaultLoaders().webgpu(true), (error: unknown) => {
    assert.ok(error instanceof BackendUnavailable);
    assert.equal(error.backend, 'webgpu');
    assert.match(error.reason, /is not installed/);
    assert.match(error.fix, /npm install webgpu @tensorflow\/tfjs-backend-webgpu/);
    return true;
  });
});
