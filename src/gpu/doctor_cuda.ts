/**
 * The doctor's CUDA sections: the NVIDIA driver (nvidia-smi) and the CUDA 11 /
 * cuDNN 8 shared libraries that libtensorflow 2.9.1 opens, each gap with its
 * fix. Pure functions of what the probes found.
 */
import { ALL_CUDA_LIBRARIES, cudaFix, missingLibraries, type CudaLibrary, type LibraryStatus } from './cuda_libraries.js';
import type { Check, Section } from './doctor_report.js';
import { MIN_CUDA11_DRIVER, describeGpus, driverSupportsCuda11, type NvidiaSmiResult } from './nvidia_smi.js';
import type { TfLogFacts } from './tf_log.js';

export function driverSection(smi: NvidiaSmiResult): Section {
  if (smi.status === 'absent') {
    return {
      title: 'NVIDIA driver',
      checks: [
        {
          status: 'missing',
          label: 'nvidia-smi not found: no NVIDIA driver on this machine',
          fix: `Install the NVIDIA driver (>= ${MIN_CUDA11_DRIVER} for CUDA 11), on a machine with an NVIDIA GPU.`,
        },
      ],
    };
  }
  if (smi.status === 'error') {
    return {
      title: 'NVIDIA driver',
      checks: [
        {
          status: 'missing',
          label: `nvidia-smi fails: ${smi.message}`,
          fix: 'Fix the driver first (after a driver upgrade, a reboot clears a driver/library version mismatch).',
        },
      ],
    };
  }
  const checks: Check[] = [{ status: smi.gpus.length > 0 ? 'ok' : 'missing', label: `nvidia-smi: ${describeGpus(smi.gpus)}` }];
  const old = smi.gpus.find((g) => !driverSupportsCuda11(g.driverVersion));
  if (old) {
    checks.push({
      status: 'missing',
      label: `driver ${old.driverVersion} is older than CUDA 11 needs (${MIN_CUDA11_DRIVER})`,
      fix: `Upgrade the NVIDIA driver to ${MIN_CUDA11_DRIVER} or newer.`,
    });
  }
  return { title: 'NVIDIA driver', checks };
}

const LIBRARY_PACKAGES: Record<string, string> = {
  'libcuda.so.1': 'the NVIDIA driver',
  'libcudart.so.11.0': 'apt cuda-cudart-11-8 | pip nvidia-cuda-runtime-cu11',
  'libcublas.so.11': 'apt libcublas-11-8 | pip nvidia-cublas-cu11',
  'libcublasLt.so.11': 'apt libcublas-11-8 | pip nvidia-cublas-cu11',
  'libcufft.so.10': 'apt libcufft-11-8 | pip nvidia-cufft-cu11',
  'libcurand.so.10': 'apt libcurand-11-8 | pip nvidia-curand-cu11',
  'libcusolver.so.11': 'apt libcusolver-11-8 | pip nvidia-cusolver-cu11',
  'libcusparse.so.11': 'apt libcusparse-11-8 | pip nvidia-cusparse-cu11',
  'libcudnn.so.8': 'apt libcudnn8 (a +cuda11 build) | pip "nvidia-cudnn-cu11<9"',
};

export function librarySection(libraries: readonly LibraryStatus[], newer: readonly LibraryStatus[], tfLog: TfLogFacts | null): Section {
  const byName = new Map(libraries.map((s) => [s.soname, s]));
  const checks: Check[] = ALL_CUDA_LIBRARIES.map((lib: CudaLibrary) => {
    const s = byName.get(lib.soname);
    if (s?.found) return { status: 'ok', label: `${lib.soname}${s.path ? ` => ${s.path}` : ''}` };
    if (tfLog?.openedLibraries.includes(lib.soname)) return { status: 'ok', label: `${lib.soname} (opened by libtensorflow)` };
    // "cannot open shared object file" is the plain miss; anything else (a missing dependency, a wrong ELF class) is news.
    const why = s?.error && !s.error.startsWith(`${lib.soname}: cannot open shared object file`) ? `: ${s.error}` : '';
    return { status: 'missing', label: `${lib.soname} not found${why} (from ${LIBRARY_PACKAGES[lib.soname]})` };
  });
  // libtensorflow's own log outranks the probe when they disagree (its loader also searches its RUNPATH).
  for (const name of tfLog?.missingLibraries ?? []) {
    if (byName.get(name)?.found)
      checks.push({ status: 'warn', label: `libtensorflow could not load ${name}: ${tfLog?.missingReasons[name] ?? ''}` });
  }
  for (const s of newer.filter((n) => n.found)) {
    checks.push({ status: 'info', label: `${s.soname} present (CUDA 12 / cuDNN 9: not usable by libtensorflow 2.9.1)` });
  }
  const missing = missingLibraries(libraries).filter((s) => !tfLog?.openedLibraries.includes(s));
  const fix = cudaFix(
    missing,
    newer.filter((n) => n.found).map((n) => n.soname),
  );
  return { title: 'CUDA 11 / cuDNN 8 libraries (what libtensorflow 2.9.1 dlopens)', checks, ...(fix ? { fix } : {}) };
}
