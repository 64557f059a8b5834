/**
 * What a sweep runs: grid axes and fixed training flags, from `--grid
 * name=a,b` flags or a JSON/YAML file, checked against a table of the
 * training flags (the train command's yargs options, passed in so that this
 * module does not depend on the CLI).
 */
import { parse as parseYaml } from 'yaml';
import { GridError, type Axis, type FlagValue } from './grid.js';

/** The part of a yargs option a value's parsing depends on. */
export interface FlagKind {
  type?: string;
  choices?: readonly string[] | string[];
  number?: boolean;
}

export type FlagTable = Record<string, FlagKind>;

export interface SweepSpec {
  axes: Axis[];
  /** Training flags every point gets. */
  fixed: Record<string, FlagValue>;
}

/** Train flags the sweep sets itself for each point: they can be neither axes nor fixed flags. */
export const SWEEP_OWNED_FLAGS = ['out', 'resume', 'json', 'logdir', 'progress'] as const;

function flagKind(name: string, flags: FlagTable): FlagKind {
  const kind = flags[name];
  if (!kind || (SWEEP_OWNED_FLAGS as readonly string[]).includes(name)) {
    const known = Object.keys(flags).filter((f) => !(SWEEP_OWNED_FLAGS as readonly string[]).includes(f));
    throw new GridError(`--grid ${name}: not a training flag the sweep can vary; use one of ${known.join(', ')}`);
  }
  return kind;
}

function parseNumber(name: string, text: string): number {
  const value = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(value)) throw new GridError(`--grid ${name}: '${text}' is not a number`);
  return value;
}

/** One value of flag `name`, from its text in a `--grid` list (arrays written 512x256) or a spec file's JSON value. */
export function flagValue(name: string, raw: unknown, flags: FlagTable): FlagValue {
  const kind = flagKind(name, flags);
  if (kind.type === 'array') {
    const items = Array.isArray(raw) ? raw : typeof raw === 'number' ? [raw] : String(raw).split('x');
    if (items.length === 0) throw new GridError(`--grid ${name}: an empty list is not a value`);
    return items.map((item) => parseNumber(name, String(item)));
  }
  if (kind.type === 'number') return typeof raw === 'number' ? parseNumber(name, String(raw)) : parseNumber(name, String(raw));
  if (kind.type === 'boolean') {
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    throw new GridError(`--grid ${name}: '${String(raw)}' is not true or false`);
  }
  if (Array.isArray(raw) || (typeof raw === 'object' && raw !== null)) throw new GridError(`--grid ${name}: expected a single value`);
  const text = String(raw);
  if (kind.choices && !kind.choices.includes(text)) {
    throw new GridError(`--grid ${name}: '${text}' is not one of ${kind.choices.join(', ')}`);
  }
  return text;
}

/** `latent-vars=20,30` -> the axis latent-vars with values 20 and 30. */
export function parseGridFlag(text: string, flags: FlagTable): Axis {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new GridError(`--grid ${text}: expected NAME=V1,V2,... (e.g. --grid latent-vars=20,30)`);
  const name = text.slice(0, eq).trim().replace(/^--/, '');
  const list = text.slice(eq + 1).trim();
  flagKind(name, flags);
  if (list === '') throw new GridError(`--grid ${name}: the axis has no values; give at least one (--grid ${name}=A,B)`);
  const items = list.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new GridError(`--grid ${text}: an empty value in the list`);
  return { name, values: items.map((item) => flagValue(name, item, flags)) };
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new GridError(`${where} must be a mapping of flag names to values`);
  return value as Record<string, unknown>;
}

/**
 * A spec file's contents: `{ "grid": { "latent-vars": [20, 30], "seed": [1, 2] }, "train": { "steps": 50000 } }`
 * (the same in YAML). Axes keep the file's order.
 */
export function specFromDocument(doc: unknown, flags: FlagTable, file = 'the spec'): SweepSpec {
  const top = asRecord(doc, file);
  const unknown = Object.keys(top).filter((k) => k !== 'grid' && k !== 'train');
  if (unknown.length > 0) throw new GridError(`${file}: unknown key ${unknown[0]}; a spec has 'grid' (axes) and 'train' (fixed flags)`);
  const axes = Object.entries(asRecord(top.grid, `${file}: grid`)).map(([name, values]) => {
    const list = Array.isArray(values) ? values : [values];
    flagKind(name, flags);
    // An array-valued flag's single value is itself a list: [[512, 256], [1024]].
    return { name, values: list.map((v) => flagValue(name, v, flags)) };
  });
  const fixed = Object.fromEntries(
    Object.entries(asRecord(top.train, `${file}: train`)).map(([name, value]) => [name, flagValue(name, value, flags)]),
  );
  return { axes, fixed };
}

/** Parses a spec file's text: JSON when it looks like JSON, YAML otherwise (YAML is a superset). */
export function parseSpecText(text: string, flags: FlagTable, file: string): SweepSpec {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new GridError(`${file}: not valid JSON or YAML (${String((error as Error).message).split('\n')[0]})`);
  }
  return specFromDocument(doc, flags, file);
}

/** The command-line flags for some training flag values, as train parses them back. */
export function flagsToArgv(values: Record<string, FlagValue>): string[] {
  return Object.entries(values).flatMap(([name, value]) => {
    if (typeof value === 'boolean') return [value ? `--${name}` : `--no-${name}`];
    if (Array.isArray(value)) return [`--${name}`, ...value.map(String)];
    return [`--${name}`, String(value)];
  });
}

/** Merges grid axes from a file and from flags, and fixed flags; a flag may be only one of axis or fixed. */
export function mergeSpecs(file: SweepSpec | null, gridAxes: Axis[], fixedFlags: Record<string, FlagValue>): SweepSpec {
  const axes = [...(file?.axes ?? []), ...gridAxes];
  const fixed = { ...(file?.fixed ?? {}), ...fixedFlags };
  const clash = axes.find((a) => a.name in fixed);
  if (clash) throw new GridError(`--${clash.name} is both a grid axis and a fixed flag; give it in one place`);
  return { axes, fixed };
}
