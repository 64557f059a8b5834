/**
 * The doctor's report logic on fake machines: each scenario is what users
 * of tfjs-node-gpu actually hit (package missing, libtensorflow missing,
 * CUDA 11 libraries missing on a CUDA 12 box, all good), plus WebGPU.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { runDoctor, type Check, type DoctorReport } from '../src/gpu/doctor.js';
import type { AdapterResult, DoctorProbes, NativeLoadResult, PackageInfo } from '../src/gpu/doctor_probes.js';
import { renderJson, renderReport } from '../src/gpu/doctor_render.js';
import type { LibraryStatus } from '../src/gpu/cuda_libraries.js';
import type { NvidiaSmiResult } from '../src/gpu/nvidia_smi.js';

const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const CUDA11 = [
  'libcuda.so.1',
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
];

interface Machine {
  packages?: Record<string, string>;
  libtensorflow?: boolean;
  addon?: boolean;
  /** sonames the loader finds */
  libs?: string[];
  smi?: NvidiaSmiResult;
  load?: NativeLoadResult;
  adapter?: AdapterResult;
  env?: NodeJS.ProcessEnv;
}

const H100: NvidiaSmiResult = { status: 'ok', gpus: [{ name: 'NVIDIA H100 80GB HBM3', driverVersion: '550.54.15', memory: '81559 MiB' }] };

function fakeProbes(m: Machine): DoctorProbes & { loaded: string[] } {
  const packages: Record<string, string> = { '@tensorflow/tfjs': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.22.0', ...m.packages };
  const loaded: string[] = [];
  return {
    loaded,
    nodeVersion: 'v20.20.2',
    platform: 'linux',
    arch: 'x64',
    env: m.env ?? {},
    packageInfo: (name): PackageInfo | null =>
      packages[name] ? { name, version: packages[name], dir: `/proj/node_modules/${name}` } : null,
    nativeArtifacts: (pkg) => ({
      addon: m.addon === false ? null : `${pkg.dir}/lib/napi-v8/tfjs_binding.node`,
      libtensorflow: m.libtensorflow === false ? null : `${pkg.dir}/deps/lib/libtensorflow.so.2.9.1`,
    }),
    libraries: async (sonames): Promise<LibraryStatus[]> =>
      sonames.map((soname) =>
        (m.libs ?? []).includes(soname)
          ? { soname, found: true, path: `/usr/lib/${soname}` }
          : { soname, found: false, error: `${soname}: cannot open shared object file: No such file or directory` },
      ),
    nvidiaSmi: async () => m.smi ?? { status: 'absent' },
    loadNative: async (pkg) => {
      loaded.push(pkg);
      return m.load ?? { status: 'failed', usingGpu: null, error: 'not faked', stderr: '', ms: 0 };
    },
    webgpuAdapter: async () => m.adapter ?? { status: 'none', stderr: '' },
  };
}

function allChecks(report: DoctorReport): Check[] {
  return report.sections.flatMap((s) => s.checks);
}

function findCheck(report: DoctorReport, pattern: RegExp): Check {
  const hit = allChecks(report).find((c) => pattern.test(c.label));
  assert.ok(
    hit,
    `no check matches ${pattern}; labels:\n${allChecks(report)
      .map((c) => c.label)
      .join('\n')}`,
  );
  return hit;
}

const CPU_FALLBACK_LOG = [
  "2026-11-27 10:00:00.000000: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory; LD_LIBRARY_PATH: /usr/local/cuda/lib64",
  "2026-11-27 10:00:00.000001: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory",
  '2026-11-27 10:00:00.000002: W tensorflow/core/common_runtime/gpu/gpu_device.cc:1850] Cannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above are installed properly if you would like to use GPU.',
  'Skipping registering GPU devices...',
].join('\n');

const GPU_LOG =
  '2026-11-27 10:00:01.000000: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1532] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 78901 MB memory:  -> device: 0, name: NVIDIA H100 80GB HBM3, pci bus id: 0000:00:05.0, compute capability: 9.0';

test('nothing installed, no driver: exit 1, every gap has its fix, the install fix names the libtensorflow variables', async () => {
  const probes = fakeProbes({});
  const report = await runDoctor(probes);
  assert.equal(report.exitCode, 1);
  assert.deepEqual(probes.loaded, [], 'no child load is attempted for a package that is not installed');
  const pkg = findCheck(report, /tfjs-node-gpu not installed/);
  assert.equal(pkg.status, 'missing');
  assert.match(pkg.fix ?? '', /TFJS_NODE_BASE_URI=/);
  assert.match(pkg.fix ?? '', /TFJS_NODE_CDN_STORAGE=/);
  assert.equal(findCheck(report, /nvidia-smi not found/).status, 'missing');
  for (const soname of CUDA11) assert.equal(findCheck(report, new RegExp(`^${soname.replace(/\./g, '\\.')} not found`)).status, 'missing');
  assert.match(findCheck(report, /^webgpu not installed/).fix ?? '', /npm install webgpu @tensorflow\/tfjs-backend-webgpu/);
  for (const check of allChecks(report)) {
    if (check.status === 'missing' && !/not found \(from|would not run|no GPU backend/.test(check.label)) {
      assert.ok(check.fix, `gap without a fix: ${check.label}`);
    }
  }
});

test('package present but libtensorflow missing: the binding fails to load and the fix is the libtensorflow one', async () => {
  const report = await runDoctor(
    fakeProbes({
      packages: { [NODE_GPU]: '4.22.0' },
      libtensorflow: false,
      smi: H100,
      libs: CUDA11,
      load: {
        status: 'failed',
        usingGpu: null,
        error: 'libtensorflow.so.2: cannot open shared object file: No such file or directory',
        stderr: '',
        ms: 40,
      },
    }),
  );
  assert.equal(report.exitCode, 1);
  assert.equal(findCheck(report, /^libtensorflow missing/).status, 'missing');
  const load = findCheck(report, /does not load: libtensorflow\.so\.2/);
  assert.equal(load.status, 'missing');
  assert.match(load.fix ?? '', /TFJS_NODE_BASE_URI/);
  assert.match(load.fix ?? '', /npm rebuild @tensorflow\/tfjs-node-gpu/);
  const verdict = report.verdicts.find((v) => v.backend === 'tensorflow-gpu');
  assert.equal(verdict?.runs, false);
});

test('loads but falls back to the CPU on a CUDA 12 machine: names the missing CUDA 11 libraries and the side-by-side fix', async () => {
  const present = [...CUDA11.filter((s) => s !== 'libcudart.so.11.0' && s !== 'libcudnn.so.8'), 'libcudart.so.12'];
  const report = await runDoctor(
    fakeProbes({
      packages: { [NODE_GPU]: '4.22.0' },
      smi: H100,
      libs: present,
      load: { status: 'loaded', usingGpu: false, stderr: CPU_FALLBACK_LOG, ms: 900 },
    }),
  );
  assert.equal(report.exitCode, 1);
  const fallback = findCheck(report, /runs on the CPU/);
  assert.equal(fallback.status, 'missing');
  assert.match(fallback.label, /libcudart\.so\.11\.0, libcudnn\.so\.8 not found/);
  assert.match(fallback.fix ?? '', /CUDA 11/);
  assert.match(fallback.fix ?? '', /side by side/);
  assert.match(fallback.fix ?? '', /libcudart\.so\.12/);
  assert.equal(findCheck(report, /^libcudart\.so\.11\.0 not found/).status, 'missing');
  assert.equal(findCheck(report, /^libcublas\.so\.11 =>/).status, 'ok');
  assert.equal(findCheck(report, /^libcudart\.so\.12 present/).status, 'info');
});

test('all present: TensorFlow created a GPU device, exit 0, and the verdict names the GPU', async () => {
  const report = await runDoctor(
    fakeProbes({
      packages: { [NODE_GPU]: '4.22.0' },
      smi: H100,
      libs: CUDA11,
      load: { status: 'loaded', usingGpu: true, stderr: GPU_LOG, ms: 2100 },
    }),
  );
  assert.equal(report.exitCode, 0);
  const gpu = findCheck(report, /^GPU in use/);
  assert.equal(gpu.status, 'ok');
  assert.match(gpu.label, /NVIDIA H100 80GB HBM3, compute capability 9\.0/);
  assert.deepEqual(
    report.verdicts.map((v) => [v.backend, v.runs]),
    [
      ['tensorflow-gpu', true],
      ['webgpu', false],
    ],
  );
  assert.equal(allChecks(report).filter((c) => c.status === 'missing' && /^lib/.test(c.label)).length, 0);
});

test('a load that hangs is reported as a timeout, not waited for', async () => {
  const report = await runDoctor(
    fakeProbes({
      packages: { [NODE_GPU]: '4.22.0' },
      smi: H100,
      libs: CUDA11,
      load: { status: 'timeout', usingGpu: null, stderr: '', ms: 15000 },
    }),
  );
  assert.equal(report.exitCode, 1);
  assert.match(findCheck(report, /did not finish loading within 15 s/).label, /tfjs-node-gpu/);
});

test('CUDA_VISIBLE_DEVICES=-1 is named as the cause even when the libraries are there', async () => {
  const report = await runDoctor(
    fakeProbes({
      packages: { [NODE_GPU]: '4.22.0' },
      smi: H100,
      libs: CUDA11,
      env: { CUDA_VISIBLE_DEVICES: '-1' },
      load: { status: 'loaded', usingGpu: false, stderr: '', ms: 500 },
    }),
  );
  assert.match(findCheck(report, /runs on the CPU/).label, /CUDA_VISIBLE_DEVICES='-1'/);
});

test('an old driver is a gap of its own', async () => {
  const report = await runDoctor(fakeProbes({ smi: { status: 'ok', gpus: [{ name: 'Tesla K80', driverVersion: '418.67' }] } }));
  assert.match(findCheck(report, /driver 418\.67 is older/).fix ?? '', /450\.80\.02/);
});

test('WebGPU on a hardware adapter: exit 0; on lavapipe: runs, but exit 1 and the report says it is software', async () => {
  const webgpu = { webgpu: '0.6.2', '@tensorflow/tfjs-backend-webgpu': '4.22.0' };
  const hardware = await runDoctor(
    fakeProbes({
      packages: webgpu,
      libs: ['libvulkan.so.1'],
      adapter: { status: 'found', info: { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA RTX A6000' }, stderr: '' },
    }),
  );
  assert.equal(hardware.exitCode, 0);
  assert.equal(findCheck(hardware, /^adapter: NVIDIA RTX A6000/).status, 'ok');

  const lavapipe = await runDoctor(
    fakeProbes({
      packages: webgpu,
      libs: ['libvulkan.so.1'],
      adapter: {
        status: 'found',
        info: { vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', isFallbackAdapter: true },
        stderr: '',
      },
    }),
  );
  assert.equal(lavapipe.exitCode, 1);
  assert.equal(findCheck(lavapipe, /^adapter: llvmpipe/).status, 'warn');
  assert.match(lavapipe.verdicts[1].detail, /software adapter/);
});

test('WebGPU installed but no adapter: the fix is a Vulkan driver', async () => {
  const report = await runDoctor(fakeProbes({ packages: { webgpu: '0.6.2', '@tensorflow/tfjs-backend-webgpu': '4.22.0' } }));
  assert.equal(report.exitCode, 1);
  assert.match(findCheck(report, /finds no adapter/).fix ?? '', /Vulkan/);
  assert.equal(findCheck(report, /libvulkan\.so\.1 not found/).status, 'missing');
});

test('version skew between tfjs and the GPU packages is flagged', async () => {
  const report = await runDoctor(
    fakeProbes({
      packages: { [NODE_GPU]: '4.20.0', '@tensorflow/tfjs-backend-webgpu': '4.21.0' },
      load: { status: 'loaded', usingGpu: null, stderr: '', ms: 1 },
    }),
  );
  assert.match(findCheck(report, /tfjs-node-gpu 4\.20\.0 differs/).fix ?? '', /@4\.22\.0/);
  assert.equal(findCheck(report, /tfjs-backend-webgpu 4\.21\.0 differs/).status, 'warn');
});

test('tfjs-node (CPU) is load-probed too: a failed load is a warning with the rebuild fix, a good load is reported as loading', async () => {
  const NODE_CPU = '@tensorflow/tfjs-node';
  const broken = fakeProbes({
    packages: { [NODE_CPU]: '4.22.0' },
    load: { status: 'failed', usingGpu: null, error: 'libtensorflow.so.2: cannot open shared object file', stderr: '', ms: 5 },
  });
  const report = await runDoctor(broken);
  assert.deepEqual(broken.loaded, [NODE_CPU]);
  const check = findCheck(report, /tfjs-node 4\.22\.0 is installed but it does not load: libtensorflow\.so\.2/);
  assert.equal(check.status, 'warn');
  assert.match(check.fix ?? '', /npm rebuild @tensorflow\/tfjs-node'/);
  const good = await runDoctor(
    fakeProbes({ packages: { [NODE_CPU]: '4.22.0' }, load: { status: 'loaded', usingGpu: false, stderr: '', ms: 5 } }),
  );
  assert.equal(findCheck(good, /tfjs-node 4\.22\.0 loads/).status, 'info');
  assert.equal(good.exitCode, 1, 'the CPU package is not a GPU backend');
});

test('text report: sections, ✓/✗ marks, fix lines and the exit line; JSON: one object with the same verdict', async () => {
  const report = await runDoctor(
    fakeProbes({
      packages: { [NODE_GPU]: '4.22.0' },
      smi: H100,
      libs: CUDA11,
      load: { status: 'loaded', usingGpu: true, stderr: GPU_LOG, ms: 1 },
    }),
  );
  const text = renderReport(report, 80);
  assert.match(text, /^NVIDIA driver$/m);
  assert.match(text, /^ {2}✓ nvidia-smi: NVIDIA H100 80GB HBM3 \(driver 550\.54\.15\)$/m);
  assert.match(text, /^ {2}✗ webgpu not installed$/m);
  assert.match(text, /^ {6}fix: Opt-in: 'npm install webgpu/m);
  assert.match(text, /exit code 0: a GPU backend would run$/);
  for (const line of text.split('\n')) {
    if (line.trimStart().startsWith('fix:') || line.startsWith('      '))
      assert.ok(line.length <= 80 || !line.trim().includes(' '), `over-long line: ${line}`);
  }
  const json = JSON.parse(renderJson(report)) as {
    ok: boolean;
    exitCode: number;
    sections: unknown[];
    verdicts: Array<{ backend: string; runs: boolean }>;
  };
  assert.equal(json.ok, true);
  assert.equal(json.exitCode, 0);
  assert.equal(json.sections.length, report.sections.length);
  assert.deepEqual(json.verdicts.find((v) => v.backend === 'tensorflow-gpu')?.runs, true);
});
