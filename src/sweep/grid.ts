/**
 * A sweep's grid: named axes of training-flag values, expanded into points
 * (every combination, the last axis varying fastest) with stable indexes and
 * folder names. Pure: no file system, no processes.
 */

/** One value of a training flag: what yargs would parse from the command line. */
export type FlagValue = number | string | boolean | number[];

export interface Axis {
  /** A training flag without its dashes, e.g. `latent-vars`. */
  name: string;
  values: FlagValue[];
}

export interface GridPoint {
  /** Position in the full grid; sharding uses it (index mod N). */
  index: number;
  /** Folder name under the sweep's --out, unique within the grid. */
  name: string;
  values: Record<string, FlagValue>;
}

/** A grid that cannot be used: one line naming the axis and the fix. */
export class GridError extends Error {
  override name = 'GridError';
}

/** A value as it appears in a folder name: arrays joined with `x` (512x256). */
export function formatValue(value: FlagValue): string {
  return Array.isArray(value) ? value.join('x') : String(value);
}

/** Characters other than letters, digits, `.`, `+` and `-` become `-`, so a name is safe in any shell and file system. */
function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9.+-]/g, '-');
}

/** `latent-vars-20_seed-1`; the point of an empty grid is `default`. */
export function pointName(values: Record<string, FlagValue>): string {
  const parts = Object.entries(values).map(([name, value]) => `${name}-${safe(formatValue(value))}`);
  return parts.length === 0 ? 'default' : parts.join('_');
}

/** Checks the axes' shape: names unique, each axis non-empty, no value twice. */
export function checkAxes(axes: Axis[]): void {
  const seen = new Set<string>();
  for (const axis of axes) {
    if (seen.has(axis.name)) throw new GridError(`the grid names ${axis.name} twice; give each flag one axis with all its values`);
    seen.add(axis.name);
    if (axis.values.length === 0)
      throw new GridError(`the grid axis ${axis.name} has no values; give at least one (--grid ${axis.name}=A,B)`);
    const keys = axis.values.map(formatValue);
    const twice = keys.find((k, i) => keys.indexOf(k) !== i);
    if (twice !== undefined) throw new GridError(`the grid axis ${axis.name} lists ${twice} twice`);
  }
}

/** Every combination of the axes' values, the last axis varying fastest. */
export function expandGrid(axes: Axis[]): GridPoint[] {
  checkAxes(axes);
  let combos: Array<Record<string, FlagValue>> = [{}];
  for (const axis of axes) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.name]: v })));
  const points = combos.map((values, index) => ({ index, name: pointName(values), values }));
  // Two values can sanitise to the same name (a/b and a-b): such points get their index appended.
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
  return points.map((p) => (counts.get(p.name)! > 1 ? { ...p, name: `${p.name}_${p.index}` } : p));
}

export interface Shard {
  index: number;
  count: number;
}

/** `I/N` with 0 <= I < N. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new GridError(`--shard ${text}: expected I/N, e.g. --shard 0/4 (I counts from 0)`);
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (count < 1 || index >= count) throw new GridError(`--shard ${text}: I must be in 0..N-1 and N at least 1`);
  return { index, count };
}

/** The points a shard runs: those whose index mod N is I. */
export function shardPoints(points: GridPoint[], shard: Shard | null): GridPoint[] {
  return shard ? points.filter((p) => p.index % shard.count === shard.index) : points;
}
