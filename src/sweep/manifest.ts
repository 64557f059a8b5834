/**
 * DIR/sweep.json: the spec a sweep folder was made with, so that a rerun of
 * the same command can pick up where it stopped and a different spec in the
 * same folder is refused before anything runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandGrid, formatValue, GridError, type Axis, type FlagValue, type GridPoint } from './grid.js';
import type { SweepSpec } from './spec.js';

export const MANIFEST_JSON = 'sweep.json';
const FORMAT = 'catvae-sweep';
const FORMAT_VERSION = 1;

/**
 * Fixed flags that do not change a point's results (or that a rerun on
 * another machine may set differently): they are left out of the comparison.
 */
const NOT_PART_OF_IDENTITY = new Set(['threads', 'log-every', 'backend']);

export interface SweepManifest {
  format: typeof FORMAT;
  formatVersion: number;
  axes: Axis[];
  fixed: Record<string, FlagValue>;
  points: GridPoint[];
}

export function makeManifest(spec: SweepSpec): SweepManifest {
  return { format: FORMAT, formatVersion: FORMAT_VERSION, axes: spec.axes, fixed: spec.fixed, points: expandGrid(spec.axes) };
}

/** What must agree between two runs of a sweep in one folder. */
function identity(m: Pick<SweepManifest, 'axes' | 'fixed'>): { axes: Axis[]; fixed: Array<[string, FlagValue]> } {
  const fixed = Object.entries(m.fixed)
    .filter(([name]) => !NOT_PART_OF_IDENTITY.has(name))
    .sort(([a], [b]) => a.localeCompare(b));
  return { axes: m.axes, fixed };
}

/** Null if the two specs make the same sweep, else one line saying the first difference. */
export function manifestConflict(existing: SweepManifest, wanted: SweepManifest): string | null {
  const a = identity(existing);
  const b = identity(wanted);
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  const axesA = a.axes.map((x) => `${x.name}=${x.values.map(formatValue).join(',')}`).join(' ');
  const axesB = b.axes.map((x) => `${x.name}=${x.values.map(formatValue).join(',')}`).join(' ');
  if (axesA !== axesB) return `its grid is ${axesA || '(none)'}, this one is ${axesB || '(none)'}`;
  const show = (f: Array<[string, FlagValue]>) => f.map(([k, v]) => `--${k} ${formatValue(v)}`).join(' ') || '(none)';
  return `its fixed flags are ${show(a.fixed)}, these are ${show(b.fixed)}`;
}

export function readManifest(dir: string): SweepManifest | null {
  const file = path.join(dir, MANIFEST_JSON);
  if (!fs.existsSync(file)) return null;
  let parsed: SweepManifest;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as SweepManifest;
  } catch {
    throw new GridError(`${file}: not valid JSON; the sweep folder is damaged (move the file away to start the sweep again)`);
  }
  if (parsed.format !== FORMAT) throw new GridError(`${file}: not a catvae sweep manifest`);
  if (parsed.formatVersion > FORMAT_VERSION) throw new GridError(`${file}: written by a newer catvae; upgrade catvae to use it`);
  return parsed;
}

/** Writes the manifest atomically: shards starting at once on a shared folder all write the same text. */
export function writeManifest(dir: string, manifest: SweepManifest): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, MANIFEST_JSON);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/**
 * Checks `dir` can hold this sweep: empty, missing, or made by the same spec.
 * A folder that holds something else (a run, another sweep) is refused.
 */
export function checkSweepDir(dir: string, wanted: SweepManifest): void {
  const existing = readManifest(dir);
  if (existing) {
    const conflict = manifestConflict(existing, wanted);
    if (conflict) throw new GridError(`${dir} holds another sweep (${conflict}); rerun that sweep's command, or choose another --out`);
    return;
  }
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new GridError(`${dir} is a file; choose another --out`);
    const names = wanted.points.map((p) => p.name);
    const foreign = fs.readdirSync(dir).filter((f) => !names.includes(f));
    if (foreign.length > 0)
      throw new GridError(`${dir} is not empty and holds no ${MANIFEST_JSON} (found ${foreign[0]}); choose another --out`);
  }
}
