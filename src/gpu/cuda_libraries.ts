/**
 * The CUDA shared libraries tfjs-node-gpu needs, and how to tell which of
 * them the dynamic loader finds.
 *
 * tfjs-node-gpu 4.x runs libtensorflow 2.9.1, built against CUDA 11.2 and
 * cuDNN 8.1. libtensorflow dlopens these libraries by soname when it creates
 * its devices; if any one is missing it logs "Cannot dlopen some GPU
 * libraries... Skipping registering GPU devices" and runs on the CPU. The
 * sonames are fixed by that build: CUDA 12's libcudart.so.12 does not
 * satisfy libcudart.so.11.0, so a CUDA 12 machine needs the CUDA 11 runtime
 * libraries installed beside it.
 */

export interface CudaLibrary {
  soname: string;
  /** What provides it, for the fix line. */
  provider: 'driver' | 'cuda' | 'cudnn';
}

/** The NVIDIA driver's user-space library: without it there is no CUDA at all. */
export const CUDA_DRIVER_LIBRARY: CudaLibrary = { soname: 'libcuda.so.1', provider: 'driver' };

/** What libtensorflow 2.9.1's dlopen check requires (all of them, or no GPU). */
export const CUDA_RUNTIME_LIBRARIES: readonly CudaLibrary[] = [
  { soname: 'libcudart.so.11.0', provider: 'cuda' },
  { soname: 'libcublas.so.11', provider: 'cuda' },
  { soname: 'libcublasLt.so.11', provider: 'cuda' },
  { soname: 'libcufft.so.10', provider: 'cuda' },
  { soname: 'libcurand.so.10', provider: 'cuda' },
  { soname: 'libcusolver.so.11', provider: 'cuda' },
  { soname: 'libcusparse.so.11', provider: 'cuda' },
  { soname: 'libcudnn.so.8', provider: 'cudnn' },
];

export const ALL_CUDA_LIBRARIES: readonly CudaLibrary[] = [CUDA_DRIVER_LIBRARY, ...CUDA_RUNTIME_LIBRARIES];

/** Newer majors that are often installed instead: their presence explains a miss. */
export const NEWER_CUDA_LIBRARIES: readonly string[] = ['libcudart.so.12', 'libcudnn.so.9'];

/** Whether one library could be loaded, and from where when known. */
export interface LibraryStatus {
  soname: string;
  found: boolean;
  /** Where ldconfig's cache or LD_LIBRARY_PATH has it. */
  path?: string;
  /** The loader's message when it could not be loaded. */
  error?: string;
}

/** Asks the dynamic loader about each soname (the real one runs dlopen in a child). */
export type LibraryProbe = (sonames: readonly string[]) => Promise<LibraryStatus[]>;

/** soname -> path from `ldconfig -p` output (the first entry wins, as for the loader). */
export function parseLdconfig(output: string, arch: string = process.arch): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of output.split('\n')) {
    // "\tlibcudart.so.11.0 (libc6,x86-64) => /usr/local/cuda-11.8/lib64/libcudart.so.11.0"
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
    if (!m) continue;
    // Skip 32-bit entries: a 64-bit process cannot load them.
    if (arch === 'x64' && !m[2].includes('x86-64')) continue;
    if (!found.has(m[1])) found.set(m[1], m[3]);
  }
  return found;
}

/**
 * Interprets one dlopen attempt made with process.dlopen: a plain shared
 * library loads and then fails Node's addon check ("did not self-register"),
 * which proves the loader found it and all of its own dependencies.
 */
export function interpretDlopenError(message: string | null): { found: boolean; error?: string } {
  if (message === null) return { found: true };
  if (/did not self-register|Module did not/i.test(message)) return { found: true };
  return { found: false, error: message.split('\n')[0] };
}

export function missingLibraries(statuses: readonly LibraryStatus[]): string[] {
  return statuses.filter((s) => !s.found).map((s) => s.soname);
}

/** The fix for a set of missing sonames, naming the CUDA 12 trap when it applies. */
export function cudaFix(missing: readonly string[], newerFound: readonly string[] = []): string {
  const needs: string[] = [];
  if (missing.includes(CUDA_DRIVER_LIBRARY.soname)) {
    needs.push('an NVIDIA driver (>= 450.80.02; it provides libcuda.so.1)');
  }
  const cuda = missing.filter((s) => CUDA_RUNTIME_LIBRARIES.some((l) => l.soname === s && l.provider === 'cuda'));
  const cudnn = missing.filter((s) => s.startsWith('libcudnn'));
  if (cuda.length > 0) {
    needs.push(
      'the CUDA 11 runtime libraries (CUDA 11.2 or a later 11.x; 11.8 for Hopper GPUs), e.g. ' +
        "'apt-get install cuda-libraries-11-8' from NVIDIA's CUDA repository, or " +
        "'pip install nvidia-cuda-runtime-cu11 nvidia-cublas-cu11 nvidia-cufft-cu11 nvidia-curand-cu11 nvidia-cusolver-cu11 nvidia-cusparse-cu11'",
    );
  }
  if (cudnn.length > 0) {
    needs.push("cuDNN 8 for CUDA 11 (8.1 or later 8.x), e.g. 'apt-get install libcudnn8' or 'pip install \"nvidia-cudnn-cu11<9\"'");
  }
  if (needs.length === 0) return '';
  let fix = `Install ${needs.join('; and ')}, then put their lib directories on LD_LIBRARY_PATH (or run ldconfig).`;
  if (newerFound.length > 0) {
    fix +=
      ` This machine has ${newerFound.join(', ')}: tfjs-node-gpu's libtensorflow 2.9.1 cannot use CUDA 12 / cuDNN 9;` +
      ' install the CUDA 11 libraries side by side (renaming or symlinking CUDA 12 files to the .so.11 names is not ABI-compatible).';
  }
  return fix;
}

/** cudaFix in a few words, for the one-line backend summary. */
export function cudaHint(missing: readonly string[], newerFound: readonly string[] = []): string {
  const parts: string[] = [];
  if (missing.includes(CUDA_DRIVER_LIBRARY.soname)) parts.push('an NVIDIA driver');
  if (missing.some((s) => CUDA_RUNTIME_LIBRARIES.some((l) => l.soname === s && l.provider === 'cuda')))
    parts.push('the CUDA 11.x runtime libraries');
  if (missing.some((s) => s.startsWith('libcudnn'))) parts.push('cuDNN 8');
  if (parts.length === 0) return '';
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0];
  return `install ${list}${newerFound.length > 0 ? ' beside CUDA 12 (whose libraries it cannot use)' : ''}`;
}
