/**
 * What nvidia-smi says about the driver and the GPUs. Its presence is the
 * cheapest proof that an NVIDIA driver is installed and talks to a device.
 */

/** The arguments the probe runs nvidia-smi with; parseNvidiaSmi reads their output. */
export const NVIDIA_SMI_ARGS = ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'] as const;

export interface NvidiaGpu {
  name: string;
  driverVersion: string;
  memory?: string;
}

export type NvidiaSmiResult =
  | { status: 'ok'; gpus: NvidiaGpu[] }
  /** nvidia-smi is not installed (no NVIDIA driver on this machine). */
  | { status: 'absent' }
  /** Installed but failed (driver/library mismatch, no device, timeout...). */
  | { status: 'error'; message: string };

export type NvidiaSmiProbe = () => Promise<NvidiaSmiResult>;

/** "NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB" per line. */
export function parseNvidiaSmi(output: string): NvidiaGpu[] {
  const gpus: NvidiaGpu[] = [];
  for (const line of output.split('\n')) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 2 || fields[0] === '') continue;
    gpus.push({ name: fields[0], driverVersion: fields[1], ...(fields[2] ? { memory: fields[2] } : {}) });
  }
  return gpus;
}

/** CUDA 11.x runs on drivers >= 450.80.02 (minor-version compatibility). */
export const MIN_CUDA11_DRIVER = '450.80.02';

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export function driverSupportsCuda11(driverVersion: string): boolean {
  return /^\d+(\.\d+)*$/.test(driverVersion) && compareVersions(driverVersion, MIN_CUDA11_DRIVER) >= 0;
}

export function describeGpus(gpus: readonly NvidiaGpu[]): string {
  if (gpus.length === 0) return 'no GPU listed';
  const names = [...new Set(gpus.map((g) => g.name))];
  const count = gpus.length > 1 ? `${gpus.length} GPUs: ` : '';
  return `${count}${names.join(', ')} (driver ${gpus[0].driverVersion})`;
}
