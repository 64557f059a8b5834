/**
 * The doctor's report: sections of checks and a verdict per GPU backend.
 * Its own module so that the checks (doctor.ts, doctor_cuda.ts) and the
 * rendering (doctor_render.ts) share it without importing each other.
 */
export type CheckStatus = 'ok' | 'missing' | 'warn' | 'info';

export interface Check {
  status: CheckStatus;
  label: string;
  /** What to do about it (gaps only). */
  fix?: string;
}

export interface Section {
  title: string;
  checks: Check[];
  /** One fix for the section as a whole (e.g. all missing CUDA libraries). */
  fix?: string;
}

export interface GpuBackendVerdict {
  backend: 'tensorflow-gpu' | 'webgpu';
  runs: boolean;
  /** The device, or why not. */
  detail: string;
}

export interface DoctorReport {
  sections: Section[];
  verdicts: GpuBackendVerdict[];
  /** 0 when a GPU backend would run, 1 otherwise. */
  exitCode: 0 | 1;
}
