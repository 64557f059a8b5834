/**
 * Reads libtensorflow's own log (what its C++ code writes to fd 2 while it
 * creates devices). That log is the ground truth of the GPU question: a
 * "Created device .../device:GPU:0" line means a GPU is in use; "Could not
 * load dynamic library 'X'" names each CUDA library it missed. Node cannot
 * capture fd 2 of its own process, so the doctor loads tfjs-node-gpu in a
 * child with TF_CPP_MIN_LOG_LEVEL=0 and parses the child's stderr here.
 */

export interface TfGpuDevice {
  /** e.g. /job:localhost/replica:0/task:0/device:GPU:0 */
  device: string;
  name: string;
  memoryMb: number;
  computeCapability?: string;
}

export interface TfLogFacts {
  gpuDevices: TfGpuDevice[];
  /** Sonames libtensorflow tried and failed to dlopen, in log order. */
  missingLibraries: string[];
  /** The loader's reason for the first miss of each soname. */
  missingReasons: Record<string, string>;
  /** Sonames it did load ("Successfully opened dynamic library X"). */
  openedLibraries: string[];
  /** "Cannot dlopen some GPU libraries... Skipping registering GPU devices". */
  skippedGpuRegistration: boolean;
  /** "failed call to cuInit: ..." (no device, driver too old, ...). */
  cuInitError?: string;
  /** Compute capability that has no SASS in this build: kernels JIT from PTX (slow first run). */
  ptxJitCapability?: string;
}

// Two spellings across TF versions:
//   Created TensorFlow device (/job:.../device:GPU:0 with 10175 MB memory) -> physical GPU (device: 0, name: Tesla T4, pci bus id: ..., compute capability: 7.5)
//   Created device /job:.../device:GPU:0 with 14785 MB memory:  -> device: 0, name: Tesla V100-SXM2-16GB, pci bus id: ..., compute capability: 7.0
const CREATED_DEVICE =
  /Created (?:TensorFlow )?device \(?(\S*device:GPU:\d+) with (\d+) MB memory\)?:?\s*->\s*(?:physical GPU \()?device: \d+, name: ([^,]+)(?:,[^,]*)?(?:, compute capability: (\d+\.\d+))?/;
const OPENED = /Successfully opened dynamic library (\S+)/;
const COULD_NOT_LOAD = /Could not load dynamic library '([^']+)'(?:; dlerror: ([^;\n]*))?/;
const CU_INIT = /failed call to cuInit: ([^\n]*)/;
const PTX_JIT = /not built with CUDA kernel binaries compatible with compute capability (\d+\.\d+)/;

export function parseTfLog(stderr: string): TfLogFacts {
  const facts: TfLogFacts = {
    gpuDevices: [],
    missingLibraries: [],
    missingReasons: {},
    openedLibraries: [],
    skippedGpuRegistration: false,
  };
  for (const line of stderr.split('\n')) {
    const created = CREATED_DEVICE.exec(line);
    if (created) {
      facts.gpuDevices.push({
        device: created[1],
        memoryMb: Number(created[2]),
        name: created[3].trim(),
        ...(created[4] ? { computeCapability: created[4] } : {}),
      });
      continue;
    }
    const missing = COULD_NOT_LOAD.exec(line);
    if (missing) {
      if (!facts.missingLibraries.includes(missing[1])) {
        facts.missingLibraries.push(missing[1]);
        facts.missingReasons[missing[1]] = (missing[2] ?? '').trim();
      }
      continue;
    }
    const opened = OPENED.exec(line);
    if (opened) {
      if (!facts.openedLibraries.includes(opened[1])) facts.openedLibraries.push(opened[1]);
      continue;
    }
    if (line.includes('Cannot dlopen some GPU libraries') || line.includes('Skipping registering GPU devices')) {
      facts.skippedGpuRegistration = true;
      continue;
    }
    const cuInit = CU_INIT.exec(line);
    if (cuInit && facts.cuInitError === undefined) {
      facts.cuInitError = cuInit[1].trim();
      continue;
    }
    const ptx = PTX_JIT.exec(line);
    if (ptx) facts.ptxJitCapability = ptx[1];
  }
  return facts;
}
