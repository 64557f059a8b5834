/** The benchmark's table: one row per run, with the ratio to PyTorch at the same batch size. */
import type { RunResult } from './run_spec.js';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Row {
  label: string;
  batch: number;
  detail: string;
  /** Medians over rounds. */
  imagesPerSecond: number;
  msPerStep: number;
  peakRssMiB: number;
  tensorDrift: number | null;
  rounds: number;
  /** imagesPerSecond / PyTorch's at the same batch (null for PyTorch or without it). */
  vsPytorch: number | null;
  error?: string;
}

/** Groups repeated runs (rounds) of the same label and batch into rows of medians. */
export function summarize(results: RunResult[]): Row[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const key = `${r.label}@${r.batch}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: Row[] = [];
  for (const runs of groups.values()) {
    const ok = runs.filter((r) => !r.error);
    const first = runs[0];
    rows.push({
      label: first.label,
      batch: first.batch,
      detail: (ok[0] ?? first).detail,
      imagesPerSecond: ok.length ? median(ok.map((r) => r.imagesPerSecond)) : NaN,
      msPerStep: ok.length ? median(ok.map((r) => r.msPerStep)) : NaN,
      peakRssMiB: ok.length ? Math.max(...ok.map((r) => r.peakRssMiB)) : NaN,
      tensorDrift: ok.some((r) => r.tensorDrift !== undefined) ? Math.max(...ok.map((r) => Math.abs(r.tensorDrift ?? 0))) : null,
      rounds: ok.length,
      vsPytorch: null,
      error: ok.length ? undefined : first.error,
    });
  }
  for (const row of rows) {
    const torch = rows.find((r) => r.label === 'pytorch' && r.batch === row.batch && !r.error);
    if (torch && row.label !== 'pytorch' && !row.error) row.vsPytorch = row.imagesPerSecond / torch.imagesPerSecond;
  }
  return rows;
}

export function formatTable(rows: Row[]): string {
  const head = ['run', 'batch', 'img/s', 'ms/step', 'peak RSS MiB', 'tensor drift', 'vs PyTorch', 'setup'];
  const body = rows.map((r) =>
    r.error
      ? [r.label, String(r.batch), '-', '-', '-', '-', '-', `failed: ${r.error}`]
      : [
          r.label,
          String(r.batch),
          r.imagesPerSecond.toFixed(0),
          r.msPerStep.toFixed(1),
          r.peakRssMiB.toFixed(0),
          r.tensorDrift === null ? '-' : String(r.tensorDrift),
          r.vsPytorch === null ? '-' : `${r.vsPytorch.toFixed(2)}x`,
          r.detail,
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
