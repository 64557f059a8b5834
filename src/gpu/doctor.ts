/**
 * `npm run doctor`: one report of what the GPU backends need and what this
 * machine has, with the fix for each gap. Built from DoctorProbes only, so
 * every branch is testable with fakes; rendering lives in doctor_render.ts.
 */
import { ALL_CUDA_LIBRARIES, NEWER_CUDA_LIBRARIES, type LibraryStatus } from './cuda_libraries.js';
import { driverSection, librarySection } from './doctor_cuda.js';
import type { Check, CheckStatus, DoctorReport, GpuBackendVerdict, Section } from './doctor_report.js';
import type { DoctorProbes, NativeLoadResult, PackageInfo } from './doctor_probes.js';
import type { NvidiaSmiResult } from './nvidia_smi.js';
import { parseTfLog, type TfLogFacts } from './tf_log.js';
import { diagnoseCpuFallback } from './tfjs_node_gpu.js';
import {
  NO_ADAPTER_FIX,
  TFJS_WEBGPU_PACKAGE,
  WEBGPU_INSTALL,
  WEBGPU_PACKAGE,
  describeAdapter,
  type AdapterInfo,
} from './webgpu_adapter.js';

export type { Check, CheckStatus, DoctorReport, GpuBackendVerdict, Section } from './doctor_report.js';

const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const NODE_CPU = '@tensorflow/tfjs-node';
const TFJS = '@tensorflow/tfjs';
const WASM = '@tensorflow/tfjs-backend-wasm';
const VULKAN_LOADER = 'libvulkan.so.1';

/** The documented ways to get libtensorflow when the install script cannot download it. */
export const LIBTENSORFLOW_FIX =
  `Its install script downloads libtensorflow-gpu-linux-x86_64-2.9.1.tar.gz from storage.googleapis.com. ` +
  `With network access: 'npm rebuild ${NODE_GPU}' (npm 11 may have skipped the script: 'npm install-scripts ls', ` +
  `then 'npm install-scripts approve ${NODE_GPU}'). ` +
  `From a mirror: TFJS_NODE_CDN_STORAGE=https://mirror/ (laid out like storage.googleapis.com) or ` +
  `TFJS_NODE_BASE_URI=https://host/path/libtensorflow- (the script appends 'gpu-linux-x86_64-2.9.1.tar.gz'), ` +
  `in the environment or .npmrc, then 'npm rebuild ${NODE_GPU}'. ` +
  `From a local copy: the script fetches over http(s) only, so serve its folder ('python3 -m http.server 8000') and use ` +
  `TFJS_NODE_BASE_URI=http://localhost:8000/libtensorflow-; or unpack it into node_modules/${NODE_GPU}/deps/ ` +
  `(giving deps/lib/libtensorflow.so.2.9.1), and 'npm rebuild ${NODE_GPU}' skips the download.`;

const ADDON_FIX =
  `'npm rebuild ${NODE_GPU}' fetches the prebuilt tfjs_binding.node (storage.googleapis.com/tf-builds) ` +
  `or builds it from source (needs python3, make, g++ and libtensorflow's headers in deps/include).`;

function packageCheck(info: PackageInfo | null, name: string, missingFix: string, missingStatus: CheckStatus = 'missing'): Check {
  return info
    ? { status: 'ok', label: `${name} ${info.version}` }
    : { status: missingStatus, label: `${name} not installed`, fix: missingFix };
}

/** tfjs-node (CPU libtensorflow): not a GPU backend, but auto's second choice, so say whether it loads. */
function nodeCpuCheck(cpu: PackageInfo | null, load: NativeLoadResult | null): Check {
  if (!cpu) return { status: 'info', label: `${NODE_CPU} not installed (CPU only; not needed for the GPU backends)` };
  if (load?.status === 'loaded')
    return { status: 'info', label: `${NODE_CPU} ${cpu.version} loads (CPU libtensorflow; not a GPU backend)` };
  const why = load?.status === 'timeout' ? 'loading it timed out' : `it does not load: ${load?.error ?? 'not tried'}`;
  return {
    status: 'warn',
    label: `${NODE_CPU} ${cpu.version} is installed but ${why} (auto falls back to wasm)`,
    fix: `'npm rebuild ${NODE_CPU}' downloads its libtensorflow (the same TFJS_NODE_BASE_URI / TFJS_NODE_CDN_STORAGE mirrors apply), or 'npm uninstall ${NODE_CPU}'.`,
  };
}

function nodeChecks(probes: DoctorProbes, tfjs: PackageInfo | null, cpu: PackageInfo | null, cpuLoad: NativeLoadResult | null): Section {
  const major = Number(/^v?(\d+)/.exec(probes.nodeVersion)?.[1] ?? 0);
  const wasm = probes.packageInfo(WASM);
  return {
    title: 'Node and TensorFlow.js',
    checks: [
      major >= 20
        ? { status: 'ok', label: `Node ${probes.nodeVersion}` }
        : { status: 'missing', label: `Node ${probes.nodeVersion}: catvae needs Node 20 or newer`, fix: 'Install Node 20 or newer.' },
      { status: 'info', label: `platform ${probes.platform}-${probes.arch}` },
      packageCheck(tfjs, TFJS, "Run 'npm install'."),
      packageCheck(wasm, WASM, "Run 'npm install'."),
      nodeCpuCheck(cpu, cpuLoad),
    ],
  };
}

interface NodeGpuOutcome {
  section: Section;
  verdict: GpuBackendVerdict;
  tfLog: TfLogFacts | null;
}

function nodeGpuSection(
  probes: DoctorProbes,
  pkg: PackageInfo | null,
  tfjs: PackageInfo | null,
  load: NativeLoadResult | null,
  fallbackFacts: { libraries: readonly LibraryStatus[]; newer: readonly LibraryStatus[]; smi: NvidiaSmiResult },
): NodeGpuOutcome {
  const title = `tfjs-node-gpu (${NODE_GPU}: libtensorflow 2.9.1, CUDA 11.2, cuDNN 8.1)`;
  if (!pkg) {
    return {
      section: {
        title,
        checks: [
          {
            status: 'missing',
            label: `${NODE_GPU} not installed`,
            fix:
              `On a CUDA machine: 'npm install ${NODE_GPU}'. It is an optional dependency, so npm drops it silently ` +
              `when its install script fails: read the install log. ${LIBTENSORFLOW_FIX}`,
          },
        ],
      },
      verdict: { backend: 'tensorflow-gpu', runs: false, detail: `${NODE_GPU} is not installed` },
      tfLog: null,
    };
  }
  const checks: Check[] = [{ status: 'ok', label: `${NODE_GPU} ${pkg.version} installed` }];
  if (tfjs && tfjs.version !== pkg.version) {
    checks.push({
      status: 'warn',
      label: `${NODE_GPU} ${pkg.version} differs from ${TFJS} ${tfjs.version}`,
      fix: `Install the same version of both: 'npm install ${NODE_GPU}@${tfjs.version}'.`,
    });
  }
  const artifacts = probes.nativeArtifacts(pkg);
  checks.push(
    artifacts.addon
      ? { status: 'ok', label: `native addon ${artifacts.addon}` }
      : { status: 'missing', label: 'native addon tfjs_binding.node missing', fix: ADDON_FIX },
    artifacts.libtensorflow
      ? { status: 'ok', label: `libtensorflow ${artifacts.libtensorflow}` }
      : { status: 'missing', label: 'libtensorflow missing (deps/lib/libtensorflow.so.2.9.1)', fix: LIBTENSORFLOW_FIX },
  );
  const tfLog = load ? parseTfLog(load.stderr) : null;
  if (!load || load.status !== 'loaded') {
    const why =
      load?.status === 'timeout'
        ? `did not finish loading within ${Math.round(load.ms / 1000)} s (CUDA initialisation hanging?)`
        : `does not load: ${load?.error ?? 'not tried'}`;
    const libtfMissing = !artifacts.libtensorflow || /libtensorflow/.test(load?.error ?? '');
    checks.push({ status: 'missing', label: `${NODE_GPU} ${why}`, fix: libtfMissing ? LIBTENSORFLOW_FIX : ADDON_FIX });
    return { section: { title, checks }, verdict: { backend: 'tensorflow-gpu', runs: false, detail: `${NODE_GPU} ${why}` }, tfLog };
  }
  checks.push({ status: 'ok', label: `${NODE_GPU} loads (${load.ms} ms)` });
  if (load.usingGpu === true) {
    const device = tfLog?.gpuDevices[0];
    const name = device ? `${device.name}${device.computeCapability ? `, compute capability ${device.computeCapability}` : ''}` : 'a GPU';
    checks.push({ status: 'ok', label: `GPU in use: TensorFlow created ${device?.device ?? 'a GPU device'} on ${name}` });
    if (tfLog?.ptxJitCapability) {
      checks.push({
        status: 'warn',
        label: `libtensorflow 2.9.1 has no kernels built for compute capability ${tfLog.ptxJitCapability}: they are JIT-compiled from PTX on first use (minutes)`,
        fix: 'Expect a slow first run; raise CUDA_CACHE_MAXSIZE (e.g. 2147483648) so the compiled kernels stay cached.',
      });
    }
    return { section: { title, checks }, verdict: { backend: 'tensorflow-gpu', runs: true, detail: `on ${name}` }, tfLog };
  }
  const diagnosis = diagnoseCpuFallback({
    ...fallbackFacts,
    cudaVisibleDevices: probes.env.CUDA_VISIBLE_DEVICES,
    ...(tfLog ? { tfLog } : {}),
  });
  const state = load.usingGpu === false ? 'runs on the CPU (no GPU device)' : 'loads, but whether it uses a GPU is unknown';
  checks.push({ status: 'missing', label: `${NODE_GPU} ${state}: ${diagnosis.reason}`, fix: diagnosis.fix });
  return {
    section: { title, checks },
    verdict: { backend: 'tensorflow-gpu', runs: false, detail: `${state}: ${diagnosis.reason}` },
    tfLog,
  };
}

interface WebGpuOutcome {
  section: Section;
  verdict: GpuBackendVerdict;
}

function webgpuSection(
  dawn: PackageInfo | null,
  backend: PackageInfo | null,
  tfjs: PackageInfo | null,
  vulkan: LibraryStatus | undefined,
  adapter: Awaited<ReturnType<DoctorProbes['webgpuAdapter']>> | null,
): WebGpuOutcome {
  const title = 'WebGPU (experimental: tfjs-backend-webgpu on Dawn, any Vulkan GPU)';
  const optIn = `Opt-in: '${WEBGPU_INSTALL}'.`;
  const checks: Check[] = [packageCheck(dawn, WEBGPU_PACKAGE, optIn), packageCheck(backend, TFJS_WEBGPU_PACKAGE, optIn)];
  if (backend && tfjs && backend.version !== tfjs.version) {
    checks.push({
      status: 'warn',
      label: `${TFJS_WEBGPU_PACKAGE} ${backend.version} differs from ${TFJS} ${tfjs.version}`,
      fix: `'npm install ${TFJS_WEBGPU_PACKAGE}@${tfjs.version}'.`,
    });
  }
  checks.push(
    vulkan?.found
      ? { status: 'ok', label: `Vulkan loader ${VULKAN_LOADER}${vulkan.path ? ` => ${vulkan.path}` : ''}` }
      : {
          status: 'missing',
          label: `Vulkan loader ${VULKAN_LOADER} not found`,
          fix: "Install it (Debian/Ubuntu: 'apt-get install libvulkan1') and a Vulkan driver.",
        },
  );
  let verdict: GpuBackendVerdict;
  if (!dawn) {
    verdict = { backend: 'webgpu', runs: false, detail: `${WEBGPU_PACKAGE} is not installed` };
  } else if (!adapter || adapter.status === 'failed' || adapter.status === 'timeout') {
    const why = adapter?.status === 'timeout' ? 'the adapter probe timed out' : `the adapter probe failed: ${adapter?.error ?? 'not run'}`;
    checks.push({
      status: 'missing',
      label: why,
      fix: 'Reinstall the webgpu package; its dawn.node is prebuilt for linux x64/arm64, macOS and Windows.',
    });
    verdict = { backend: 'webgpu', runs: false, detail: why };
  } else if (adapter.status === 'none') {
    checks.push({ status: 'missing', label: 'WebGPU finds no adapter', fix: NO_ADAPTER_FIX });
    verdict = { backend: 'webgpu', runs: false, detail: 'no WebGPU adapter' };
  } else {
    const described = describeAdapter(adapter.info as AdapterInfo);
    if (described.software) {
      checks.push({
        status: 'warn',
        label: `adapter: ${described.text}: a software rasteriser on the CPU (the backend runs, but on no GPU)`,
        fix: "For a GPU, install the GPU vendor's Vulkan driver.",
      });
    } else {
      checks.push({ status: 'ok', label: `adapter: ${described.text}` });
    }
    const ready = backend !== null;
    verdict = {
      backend: 'webgpu',
      runs: ready && !described.software,
      detail: !ready
        ? `${TFJS_WEBGPU_PACKAGE} is not installed`
        : described.software
          ? `only a software adapter (${described.text}): it would run, but on the CPU`
          : `on ${described.text}`,
    };
  }
  return { section: { title, checks }, verdict };
}

function verdictSection(verdicts: readonly GpuBackendVerdict[]): Section {
  const running = verdicts.filter((v) => v.runs);
  const checks: Check[] = verdicts.map((v) => ({
    status: v.runs ? 'ok' : 'missing',
    label: `--backend ${v.backend}: ${v.runs ? 'would run ' : 'would not run on a GPU: '}${v.detail}`,
  }));
  checks.push(
    running.length > 0
      ? { status: 'ok', label: `a GPU backend would run (${running.map((v) => v.backend).join(', ')})` }
      : { status: 'missing', label: 'no GPU backend would run here: training uses wasm or cpu' },
  );
  return { title: 'Verdict', checks };
}

/** Runs every probe (the slow ones concurrently) and builds the report. */
export async function runDoctor(probes: DoctorProbes): Promise<DoctorReport> {
  const tfjs = probes.packageInfo(TFJS);
  const nodeGpu = probes.packageInfo(NODE_GPU);
  const nodeCpu = probes.packageInfo(NODE_CPU);
  const dawn = probes.packageInfo(WEBGPU_PACKAGE);
  const tfjsWebgpu = probes.packageInfo(TFJS_WEBGPU_PACKAGE);
  const sonames = [...ALL_CUDA_LIBRARIES.map((l) => l.soname), ...NEWER_CUDA_LIBRARIES, VULKAN_LOADER];
  const [statuses, smi, load, cpuLoad, adapter] = await Promise.all([
    probes.libraries(sonames),
    probes.nvidiaSmi(),
    nodeGpu ? probes.loadNative(NODE_GPU) : Promise.resolve(null),
    nodeCpu ? probes.loadNative(NODE_CPU) : Promise.resolve(null),
    dawn ? probes.webgpuAdapter() : Promise.resolve(null),
  ]);
  const cudaNames = ALL_CUDA_LIBRARIES.map((l) => l.soname);
  const libraries = statuses.filter((s) => cudaNames.includes(s.soname));
  const newer = statuses.filter((s) => NEWER_CUDA_LIBRARIES.includes(s.soname));
  const vulkan = statuses.find((s) => s.soname === VULKAN_LOADER);

  const nodeGpuOutcome = nodeGpuSection(probes, nodeGpu, tfjs, load, { libraries, newer, smi });
  const webgpuOutcome = webgpuSection(dawn, tfjsWebgpu, tfjs, vulkan, adapter);
  const verdicts = [nodeGpuOutcome.verdict, webgpuOutcome.verdict];
  return {
    sections: [
      nodeChecks(probes, tfjs, nodeCpu, cpuLoad),
      nodeGpuOutcome.section,
      driverSection(smi),
      librarySection(libraries, newer, nodeGpuOutcome.tfLog),
      webgpuOutcome.section,
      verdictSection(verdicts),
    ],
    verdicts,
    exitCode: verdicts.some((v) => v.runs) ? 0 : 1,
  };
}
