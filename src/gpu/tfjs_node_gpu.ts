/**
 * Is tfjs-node-gpu really on the GPU? The package loads fine without CUDA and
 * silently runs libtensorflow on the CPU, so "it imported" proves nothing.
 *
 * The signal: tfjs-node's NodeJSKernelBackend copies the binding's
 * isUsingGpuDevice() into a field when it is constructed (the binding lists
 * TensorFlow's devices and picks a GPU if there is one). When that is false,
 * the probes below find out why: driver, hidden devices, or which CUDA 11 /
 * cuDNN 8 libraries the dynamic loader cannot find.
 */
import {
  ALL_CUDA_LIBRARIES,
  CUDA_DRIVER_LIBRARY,
  NEWER_CUDA_LIBRARIES,
  cudaFix,
  cudaHint,
  missingLibraries,
  type LibraryProbe,
  type LibraryStatus,
} from './cuda_libraries.js';
import { MIN_CUDA11_DRIVER, describeGpus, driverSupportsCuda11, type NvidiaSmiProbe, type NvidiaSmiResult } from './nvidia_smi.js';
import type { TfLogFacts } from './tf_log.js';

/** The two fields of tfjs-node's NodeJSKernelBackend this module reads. */
interface NativeBackendFields {
  isUsingGpuDevice?: unknown;
  isGPUPackage?: unknown;
}

/** true/false from the backend tfjs-node registered; null when it is not a tfjs-node backend. */
export function nativeBackendUsesGpu(backend: unknown): boolean | null {
  if (backend === null || typeof backend !== 'object') return null;
  const flag = (backend as NativeBackendFields).isUsingGpuDevice;
  return typeof flag === 'boolean' ? flag : null;
}

export interface CpuFallbackFacts {
  /** The CUDA 11 / cuDNN 8 sonames (and libcuda.so.1) as the dynamic loader sees them. */
  libraries: readonly LibraryStatus[];
  /** Which of NEWER_CUDA_LIBRARIES (CUDA 12, cuDNN 9) are present. */
  newer: readonly LibraryStatus[];
  smi: NvidiaSmiResult;
  cudaVisibleDevices: string | undefined;
  /** libtensorflow's own log, when it was captured (the doctor's child process). */
  tfLog?: TfLogFacts;
}

export interface CpuFallbackDiagnosis {
  /** Why no GPU is used, one clause. */
  reason: string;
  /** What to do, in full. */
  fix: string;
  /** What to do, in a few words (the backend line). */
  hint: string;
  /** The sonames at fault, when libraries are. */
  missing: string[];
}

const DOCTOR = "run 'npm run doctor' for the report and the commands";

/** Explains a CPU fallback from the facts, most fundamental cause first. */
export function diagnoseCpuFallback(facts: CpuFallbackFacts): CpuFallbackDiagnosis {
  const cvd = facts.cudaVisibleDevices;
  if (cvd !== undefined && (cvd.trim() === '' || cvd.trim() === '-1')) {
    return {
      reason: `CUDA_VISIBLE_DEVICES='${cvd}' hides every GPU`,
      fix: 'Unset CUDA_VISIBLE_DEVICES or set it to a GPU index (e.g. 0).',
      hint: 'unset CUDA_VISIBLE_DEVICES',
      missing: [],
    };
  }
  // The probe sees every library; libtensorflow's log (when captured) adds what its own
  // search missed and clears what it did open (its loader also searches its RUNPATH).
  const opened = facts.tfLog?.openedLibraries ?? [];
  const missing = [...new Set([...missingLibraries(facts.libraries), ...(facts.tfLog?.missingLibraries ?? [])])].filter(
    (s) => !opened.includes(s),
  );
  const newer = facts.newer.filter((s) => s.found).map((s) => s.soname);
  if (facts.smi.status === 'absent' && missing.includes(CUDA_DRIVER_LIBRARY.soname)) {
    return {
      reason: 'no NVIDIA driver (nvidia-smi absent, libcuda.so.1 not found)',
      fix: cudaFix(missing, newer),
      hint: cudaHint(missing, newer),
      missing,
    };
  }
  if (facts.smi.status === 'error') {
    return {
      reason: `nvidia-smi fails (${facts.smi.message})`,
      fix: 'The NVIDIA driver is installed but not working (a driver/library version mismatch after an upgrade needs a reboot); fix nvidia-smi first.',
      hint: 'fix the driver until nvidia-smi works',
      missing,
    };
  }
  if (missing.length > 0) {
    return {
      reason: `${missing.join(', ')} not found by the dynamic loader`,
      fix: cudaFix(missing, newer),
      hint: cudaHint(missing, newer),
      missing,
    };
  }
  if (facts.smi.status === 'ok') {
    const old = facts.smi.gpus.find((g) => !driverSupportsCuda11(g.driverVersion));
    if (old) {
      return {
        reason: `driver ${old.driverVersion} is older than CUDA 11 needs (${MIN_CUDA11_DRIVER})`,
        fix: `Upgrade the NVIDIA driver to ${MIN_CUDA11_DRIVER} or newer.`,
        hint: 'upgrade the driver',
        missing,
      };
    }
    if (facts.smi.gpus.length === 0) {
      return {
        reason: 'nvidia-smi lists no GPU',
        fix: 'Check that the GPU is attached to this machine or container (docker: --gpus all).',
        hint: 'attach the GPU (docker: --gpus all)',
        missing,
      };
    }
  }
  if (facts.tfLog?.cuInitError) {
    return {
      reason: `CUDA initialisation failed (${facts.tfLog.cuInitError})`,
      fix: 'Check the driver and the device with nvidia-smi.',
      hint: 'check the driver',
      missing,
    };
  }
  return {
    reason: 'the CUDA 11 and cuDNN 8 libraries load and the driver answers, yet libtensorflow registered no GPU',
    fix: `Run with TF_CPP_MIN_LOG_LEVEL=0 to see libtensorflow's device log, or ${DOCTOR}.`,
    hint: "read libtensorflow's log (TF_CPP_MIN_LOG_LEVEL=0)",
    missing,
  };
}

export interface NativeGpuProbes {
  libraries: LibraryProbe;
  nvidiaSmi: NvidiaSmiProbe;
  env: NodeJS.ProcessEnv;
}

/** Gathers the facts a CPU fallback is diagnosed from. */
export async function gatherFallbackFacts(probes: NativeGpuProbes): Promise<CpuFallbackFacts> {
  const sonames = ALL_CUDA_LIBRARIES.map((l) => l.soname);
  const [statuses, smi] = await Promise.all([probes.libraries([...sonames, ...NEWER_CUDA_LIBRARIES]), probes.nvidiaSmi()]);
  return {
    libraries: statuses.filter((s) => sonames.includes(s.soname)),
    newer: statuses.filter((s) => NEWER_CUDA_LIBRARIES.includes(s.soname)),
    smi,
    cudaVisibleDevices: probes.env.CUDA_VISIBLE_DEVICES,
  };
}

/**
 * The phrase for the backend line once tfjs-node-gpu has loaded: which GPU,
 * or that it runs on the CPU, why, and what to install.
 */
export async function describeTfjsNodeGpu(backend: unknown, probes: NativeGpuProbes): Promise<string> {
  const usesGpu = nativeBackendUsesGpu(backend);
  if (usesGpu === true) {
    const smi = await probes.nvidiaSmi();
    if (smi.status !== 'ok' || smi.gpus.length === 0) return 'libtensorflow 2.9.1 on a CUDA GPU';
    // The binding keeps the last GPU TensorFlow lists: say so when there is a choice.
    const choice = smi.gpus.length > 1 ? '; it runs on one of them, pick it with CUDA_VISIBLE_DEVICES' : '';
    return `libtensorflow 2.9.1 on GPU: ${describeGpus(smi.gpus)}${choice}`;
  }
  if (usesGpu === null) return 'libtensorflow 2.9.1; could not tell whether a GPU is in use';
  const diagnosis = diagnoseCpuFallback(await gatherFallbackFacts(probes));
  return `CPU ONLY, no GPU in use: ${diagnosis.reason}; ${diagnosis.hint} (${DOCTOR})`;
}
