/**
 * The contract between `catvae bench` and its PyTorch peer (the repository's
 * bench/pytorch.ts, loaded at run time because the package does not ship it):
 * declared once here, implemented there.
 */
import type { RunResult } from './run_spec.js';

export interface TorchOptions {
  python?: string;
  batch: number;
  latentVars: number;
  categories: number;
  seconds: number;
  threads: number;
  images: string | null;
  flushDenormal: boolean;
  /** OPENBLAS_CORETYPE to use; undefined: the environment's, or the fastest in a trial. */
  coretype?: string;
  /** Keep torch's thread count at `threads` (given with --threads) instead of searching it. */
  fixedTorchThreads?: boolean;
  /** Cores to search torch's thread count over; default: the machine's. */
  cores?: number;
}

/** The OpenBLAS environment of a reference run (null: leave OpenBLAS its default). */
export interface BlasSetup {
  coretype: string | null;
  threads: number | null;
  /** torch.set_num_threads for the run; undefined or null: TorchOptions.threads. */
  torchThreads?: number | null;
}

/** What the bench command uses of the peer module. */
export interface TorchPeer {
  findTorchPython(preferred?: string): string | null;
  runTorch(python: string, o: TorchOptions, setup: BlasSetup): RunResult;
  chooseBlasSetup(python: string, o: TorchOptions): { setup: BlasSetup; trials: Array<{ setup: BlasSetup; result: RunResult }> };
  describeTrial(setup: BlasSetup, result: RunResult): string;
  peerWarning(results: readonly RunResult[]): string | null;
}
