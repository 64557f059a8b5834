/**
 * The pieces the GPU detection is built from: parsers of libtensorflow's log,
 * ldconfig and nvidia-smi; the tensorflow-gpu loader's verdict on a loaded
 * backend (with fake probes); and the real probes on this machine.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { cudaFix, interpretDlopenError, parseLdconfig, type LibraryStatus } from '../src/gpu/cuda_libraries.js';
import { compareVersions, driverSupportsCuda11, parseNvidiaSmi, type NvidiaSmiResult } from '../src/gpu/nvidia_smi.js';
import { dlopenLibraries, nvidiaSmi } from '../src/gpu/system_probes.js';
import { runCommand } from '../src/gpu/run_command.js';
import { parseTfLog } from '../src/gpu/tf_log.js';
import { describeTfjsNodeGpu, diagnoseCpuFallback, nativeBackendUsesGpu, type NativeGpuProbes } from '../src/gpu/tfjs_node_gpu.js';

test('parseTfLog: both spellings of the GPU device line, missing libraries, the skip line, cuInit and PTX JIT', () => {
  const facts = parseTfLog(
    [
      'I tensorflow/core/common_runtime/gpu/gpu_device.cc:1532] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 14785 MB memory:  -> device: 0, name: Tesla V100-SXM2-16GB, pci bus id: 0000:00:1e.0, compute capability: 7.0',
      'I tensorflow/core/common_runtime/gpu/gpu_device.cc:1418] Created TensorFlow device (/job:localhost/replica:0/task:0/device:GPU:1 with 10175 MB memory) -> physical GPU (device: 1, name: Tesla T4, pci bus id: 0000:00:07.0, compute capability: 7.5)',
      "W dso_loader.cc:64] Could not load dynamic library 'libcusolver.so.11'; dlerror: libnvJitLink.so.12: cannot open shared object file: No such file or directory",
      "W dso_loader.cc:64] Could not load dynamic library 'libcusolver.so.11'; dlerror: again",
      'W gpu_device.cc:1850] Cannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above are installed properly.',
      'E cuda_driver.cc:271] failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected',
      'I dso_loader.cc:53] Successfully opened dynamic library libcudart.so.11.0',
      'W gpu_device.cc:1234] TensorFlow was not built with CUDA kernel binaries compatible with compute capability 9.0. CUDA kernels will be jit-compiled from PTX',
    ].join('\n'),
  );
  assert.deepEqual(facts.gpuDevices, [
    { device: '/job:localhost/replica:0/task:0/device:GPU:0', memoryMb: 14785, name: 'Tesla V100-SXM2-16GB', computeCapability: '7.0' },
    { device: '/job:localhost/replica:0/task:0/device:GPU:1', memoryMb: 10175, name: 'Tesla T4', computeCapability: '7.5' },
  ]);
  assert.deepEqual(facts.missingLibraries, ['libcusolver.so.11']);
  assert.deepEqual(facts.openedLibraries, ['libcudart.so.11.0']);
  assert.match(facts.missingReasons['libcusolver.so.11'], /libnvJitLink\.so\.12/, 'the first reason is kept: it names the real culprit');
  assert.equal(facts.skippedGpuRegistration, true);
  assert.match(facts.cuInitError ?? '', /CUDA_ERROR_NO_DEVICE/);
  assert.equal(facts.ptxJitCapability, '9.0');
  assert.deepEqual(parseTfLog('I cpu_feature_guard.cc:193] This TensorFlow binary is optimized with oneDNN').gpuDevices, []);
});

test('parseLdconfig keeps 64-bit entries, first one wins', () => {
  const out = [
    "1234 libs found in cache `/etc/ld.so.cache'",
    '\tlibcudart.so.11.0 (libc6) => /usr/lib32/libcudart.so.11.0',
    '\tlibcudart.so.11.0 (libc6,x86-64) => /usr/local/cuda-11.8/lib64/libcudart.so.11.0',
    '\tlibcudart.so.11.0 (libc6,x86-64) => /opt/other/libcudart.so.11.0',
    '\tlibcudnn.so.8 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcudnn.so.8',
  ].join('\n');
  const map = parseLdconfig(out, 'x64');
  assert.equal(map.get('libcudart.so.11.0'), '/usr/local/cuda-11.8/lib64/libcudart.so.11.0');
  assert.equal(map.get('libcudnn.so.8'), '/lib/x86_64-linux-gnu/libcudnn.so.8');
  assert.equal(map.size, 2);
});

test('interpretDlopenError: "did not self-register" means the library loaded', () => {
  assert.deepEqual(interpretDlopenError("Module did not self-register: 'libz.so.1'."), { found: true });
  assert.deepEqual(interpretDlopenError(null), { found: true });
  const miss = interpretDlopenError('libcudart.so.11.0: cannot open shared object file: No such file or directory');
  assert.equal(miss.found, false);
  assert.match(miss.error ?? '', /cannot open/);
});

test('parseNvidiaSmi and the CUDA 11 driver floor', () => {
  assert.deepEqual(parseNvidiaSmi('NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\nTesla T4, 470.82.01, 15360 MiB\n'), [
    { name: 'NVIDIA H100 80GB HBM3', driverVersion: '550.54.15', memory: '81559 MiB' },
    { name: 'Tesla T4', driverVersion: '470.82.01', memory: '15360 MiB' },
  ]);
  assert.equal(compareVersions('450.80.02', '450.80.2'), 0);
  assert.equal(driverSupportsCuda11('450.80.02'), true);
  assert.equal(driverSupportsCuda11('450.51.06'), false);
  assert.equal(driverSupportsCuda11('535.104.05'), true);
  assert.equal(driverSupportsCuda11('[N/A]'), false);
});

test('cudaFix: driver, CUDA and cuDNN gaps, and the CUDA 12 hint only when CUDA 12 is there', () => {
  const fix = cudaFix(['libcuda.so.1', 'libcublas.so.11', 'libcudnn.so.8']);
  assert.match(fix, /NVIDIA driver/);
  assert.match(fix, /CUDA 11 runtime libraries/);
  assert.match(fix, /cuDNN 8/);
  assert.doesNotMatch(fix, /CUDA 12/);
  assert.match(cudaFix(['libcudart.so.11.0'], ['libcudart.so.12']), /side by side/);
  assert.equal(cudaFix([]), '');
});

// ---- the tensorflow-gpu loader's verdict once tfjs-node-gpu has loaded ----

const H100: NvidiaSmiResult = { status: 'ok', gpus: [{ name: 'NVIDIA H100 80GB HBM3', driverVersion: '550.54.15' }] };

function probes(found: readonly string[], smi: NvidiaSmiResult, env: NodeJS.ProcessEnv = {}): NativeGpuProbes & { asked: number } {
  const p = {
    asked: 0,
    env,
    nvidiaSmi: async () => smi,
    libraries: async (sonames: readonly string[]): Promise<LibraryStatus[]> => {
      p.asked++;
      return sonames.map((soname) => ({ soname, found: found.includes(soname) }));
    },
  };
  return p;
}

const ALL = [
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

test("nativeBackendUsesGpu reads tfjs-node's isUsingGpuDevice field, and only a boolean", () => {
  assert.equal(nativeBackendUsesGpu({ isUsingGpuDevice: true, isGPUPackage: true }), true);
  assert.equal(nativeBackendUsesGpu({ isUsingGpuDevice: false }), false);
  assert.equal(nativeBackendUsesGpu({}), null);
  assert.equal(nativeBackendUsesGpu(null), null);
  assert.equal(nativeBackendUsesGpu({ isUsingGpuDevice: 'yes' }), null);
});

test('backend line, GPU in use: names the GPU and does not probe libraries', async () => {
  const p = probes(ALL, H100);
  const detail = await describeTfjsNodeGpu({ isUsingGpuDevice: true }, p);
  assert.match(detail, /on GPU: NVIDIA H100 80GB HBM3 \(driver 550\.54\.15\)/);
  assert.equal(p.asked, 0);
  const two: NvidiaSmiResult = { status: 'ok', gpus: [H100.gpus[0], H100.gpus[0]] };
  assert.match(await describeTfjsNodeGpu({ isUsingGpuDevice: true }, probes(ALL, two)), /2 GPUs.*CUDA_VISIBLE_DEVICES/);
});

test('backend line, CPU fallback: says CPU ONLY, names the missing libraries and what to install', async () => {
  const detail = await describeTfjsNodeGpu(
    { isUsingGpuDevice: false },
    probes([...ALL.filter((s) => s !== 'libcudart.so.11.0' && s !== 'libcudnn.so.8'), 'libcudart.so.12'], H100),
  );
  assert.match(detail, /^CPU ONLY/);
  assert.match(detail, /libcudart\.so\.11\.0, libcudnn\.so\.8 not found/);
  assert.match(detail, /install the CUDA 11\.x runtime libraries and cuDNN 8 beside CUDA 12/);
  assert.match(detail, /npm run doctor/);
});

test('backend line, CPU fallback without a driver, and with the GPUs hidden', async () => {
  assert.match(await describeTfjsNodeGpu({ isUsingGpuDevice: false }, probes([], { status: 'absent' })), /no NVIDIA driver/);
  assert.match(
    await describeTfjsNodeGpu({ isUsingGpuDevice: false }, probes(ALL, H100, { CUDA_VISIBLE_DEVICES: '' })),
    /CUDA_VISIBLE_DEVICES='' hides every GPU/,
  );
  assert.match(await describeTfjsNodeGpu({ isUsingGpuDevice: false }, probes(ALL, H100)), /yet libtensorflow registered no GPU/);
});

test("diagnosis merges the probe with libtensorflow's log: its misses are added, what it opened is cleared", () => {
  const libraries = ALL.map((soname) => ({ soname, found: soname !== 'libcudnn.so.8' && soname !== 'libcufft.so.10' }));
  const tfLog = parseTfLog(
    [
      "W dso_loader.cc:64] Could not load dynamic library 'libcusolver.so.11'; dlerror: libnvJitLink.so.12: cannot open shared object file",
      'I dso_loader.cc:53] Successfully opened dynamic library libcufft.so.10',
    ].join('\n'),
  );
  const diagnosis = diagnoseCpuFallback({ libraries, newer: [], smi: H100, cudaVisibleDevices: undefined, tfLog });
  assert.deepEqual(diagnosis.missing, ['libcudnn.so.8', 'libcusolver.so.11']);
  assert.match(diagnosis.reason, /^libcudnn\.so\.8, libcusolver\.so\.11 not found/);
});

// ---- the real probes, on whatever machine runs the tests ----

test(
  'dlopen probe: finds libc, misses a library that does not exist',
  { skip: process.platform !== 'linux' && 'the dlopen probe is for Linux' },
  async () => {
    const [libc, none] = await dlopenLibraries(['libc.so.6', 'libcatvae-does-not-exist.so.1']);
    assert.equal(libc.found, true, JSON.stringify(libc));
    assert.equal(none.found, false);
    assert.match(none.error ?? '', /cannot open shared object file/);
  },
);

test('nvidia-smi probe answers one of its three states', async () => {
  const smi = await nvidiaSmi();
  assert.ok(['ok', 'absent', 'error'].includes(smi.status));
});

test('runCommand kills a child at its timeout and reports it', async () => {
  const t0 = Date.now();
  const result = await runCommand(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { timeoutMs: 300 });
  assert.equal(result.timedOut, true);
  assert.ok(Date.now() - t0 < 5000, 'returned soon after the timeout');
  const missing = await runCommand('catvae-no-such-command', [], { timeoutMs: 1000 });
  assert.equal(missing.startError, 'ENOENT');
});
