/**
 * The results table of a sweep: one row per point (config columns, status,
 * steps, test -ELBO, IW bound, best validation -ELBO, training seconds), and
 * when seed is an axis one row per configuration with the mean and spread
 * over seeds. Rendered as Markdown, CSV and JSON. Pure.
 */
import { formatValue, type Axis, type FlagValue } from './grid.js';
import type { PointRecord } from './point_state.js';

/** A point as the report lists it: the record's figures, named by its point's name, with its grid index and flags. */
export interface PointRow extends Omit<PointRecord, 'point'> {
  point: string;
  index: number;
  config: Record<string, FlagValue>;
}

/** Mean and sample standard deviation (null for fewer than two values) over the seeds that have the value. */
export interface Spread {
  mean: number | null;
  sd: number | null;
  n: number;
}

export interface ConfigRow {
  /** The axes other than seed. */
  config: Record<string, FlagValue>;
  points: string[];
  completed: number;
  test_neg_elbo: Spread;
  nll_iw: Spread;
  best_val_neg_elbo: Spread;
  train_seconds: Spread;
  wall_seconds: Spread;
  /** Validation -ELBO by step, averaged over the seeds that reached the step. */
  curve: Array<{ step: number; value: number }>;
}

export interface SweepReport {
  axes: Axis[];
  fixed: Record<string, FlagValue>;
  points: PointRow[];
  /** Present when seed is an axis (else each point is its own configuration). */
  configurations: ConfigRow[];
  seedAxis: boolean;
}

export function spread(values: Array<number | null>): Spread {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, sd: null, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length < 2 ? null : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd, n: xs.length };
}

/** The mean curve of several runs: at each step, the mean over the runs that logged it. */
export function meanCurve(curves: Array<Array<{ step: number; value: number }>>): Array<{ step: number; value: number }> {
  const byStep = new Map<number, number[]>();
  for (const curve of curves) for (const { step, value } of curve) byStep.set(step, [...(byStep.get(step) ?? []), value]);
  return [...byStep.entries()].sort(([a], [b]) => a - b).map(([step, vs]) => ({ step, value: vs.reduce((a, b) => a + b, 0) / vs.length }));
}

export function buildReport(axes: Axis[], fixed: Record<string, FlagValue>, records: PointRecord[]): SweepReport {
  const sorted = [...records].sort((a, b) => a.point.index - b.point.index);
  const points: PointRow[] = sorted.map(({ point, ...figures }) => ({
    point: point.name,
    index: point.index,
    config: point.values,
    ...figures,
  }));

  const seedAxis = axes.some((a) => a.name === 'seed');
  const groups = new Map<string, PointRecord[]>();
  for (const r of sorted) {
    const config = Object.entries(r.point.values).filter(([name]) => name !== 'seed');
    const key = JSON.stringify(config);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const configurations: ConfigRow[] = [...groups.values()].map((rs) => {
    const done = rs.filter((r) => r.status === 'completed');
    return {
      config: Object.fromEntries(Object.entries(rs[0].point.values).filter(([name]) => name !== 'seed')),
      points: rs.map((r) => r.point.name),
      completed: done.length,
      test_neg_elbo: spread(done.map((r) => r.test_neg_elbo)),
      nll_iw: spread(done.map((r) => r.nll_iw)),
      best_val_neg_elbo: spread(done.map((r) => r.best_val_neg_elbo)),
      train_seconds: spread(done.map((r) => r.train_seconds)),
      wall_seconds: spread(done.map((r) => r.wall_seconds)),
      curve: meanCurve(rs.map((r) => r.curve)),
    };
  });
  return { axes, fixed, points, configurations, seedAxis };
}

const num = (v: number | null, digits = 2) => (v === null ? '-' : v.toFixed(digits));
const withSpread = (s: Spread, digits = 2) =>
  s.mean === null ? '-' : s.sd === null ? num(s.mean, digits) : `${num(s.mean, digits)} ± ${num(s.sd, digits)}`;
const cell = (v: FlagValue) => formatValue(v);

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The Markdown report; `curvesPng` names the picture of the validation curves, `colours` the line colour of each configuration. */
export function reportMarkdown(report: SweepReport, options: { curvesPng?: string; colours?: string[] } = {}): string {
  const axisNames = report.axes.map((a) => a.name);
  const fixed = Object.entries(report.fixed).map(([k, v]) => `--${k} ${cell(v)}`);
  const lines = [
    '# Sweep results',
    '',
    `Grid: ${report.axes.map((a) => `${a.name} = ${a.values.map(cell).join(', ')}`).join('; ') || '(one point)'}.`,
    `Fixed flags: ${fixed.length > 0 ? `\`${fixed.join(' ')}\`` : 'none'}.`,
    '',
    'Test -ELBO: the best checkpoint on the test set (nats); IW: the importance-weighted bound when evaluated; ' +
      'best val: the lowest validation -ELBO; train s: training time summed over epochs; ' +
      "wall s: the runs' wall-clock time (start-up and test evaluation included) summed over the attempts the sweep saw end.",
    '',
  ];
  if (report.seedAxis) {
    const names = axisNames.filter((n) => n !== 'seed');
    lines.push('## Over seeds (mean ± sd)', '');
    lines.push(
      table(
        [...names, 'colour', 'seeds done', 'test -ELBO', 'IW bound', 'best val -ELBO', 'train s', 'wall s'],
        report.configurations.map((c, i) => [
          ...names.map((n) => cell(c.config[n])),
          options.colours?.[i] ?? '-',
          `${c.completed}/${c.points.length}`,
          withSpread(c.test_neg_elbo),
          withSpread(c.nll_iw),
          withSpread(c.best_val_neg_elbo),
          withSpread(c.train_seconds, 1),
          withSpread(c.wall_seconds, 1),
        ]),
      ),
      '',
    );
  }
  lines.push('## Points', '');
  const colourOf = (row: PointRow) => {
    if (report.seedAxis || !options.colours) return [];
    return [options.colours[report.points.indexOf(row)] ?? '-'];
  };
  lines.push(
    table(
      [
        'point',
        ...axisNames,
        ...(report.seedAxis || !options.colours ? [] : ['colour']),
        'status',
        'steps',
        'test -ELBO',
        'IW bound',
        'best val -ELBO',
        'train s',
        'wall s',
      ],
      report.points.map((p) => [
        p.point,
        ...axisNames.map((n) => cell(p.config[n])),
        ...colourOf(p),
        p.status + (p.message ? ` (${p.message.replace(/\|/g, '/')})` : ''),
        p.steps === null ? '-' : String(p.steps),
        num(p.test_neg_elbo),
        num(p.nll_iw),
        num(p.best_val_neg_elbo),
        num(p.train_seconds, 1),
        num(p.wall_seconds, 1),
      ]),
    ),
  );
  if (options.curvesPng) lines.push('', `![validation -ELBO by step](${options.curvesPng})`);
  return `${lines.join('\n')}\n`;
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One line per point; config columns first, then the results (empty when absent). */
export function reportCsv(report: SweepReport): string {
  const axisNames = report.axes.map((a) => a.name);
  const header = [
    'point',
    ...axisNames,
    'status',
    'steps',
    'test_neg_elbo',
    'nll_iw',
    'best_val_neg_elbo',
    'train_seconds',
    'wall_seconds',
  ];
  const value = (v: number | null) => (v === null ? '' : String(v));
  const rows = report.points.map((p) => [
    p.point,
    ...axisNames.map((n) => cell(p.config[n])),
    p.status,
    value(p.steps),
    value(p.test_neg_elbo),
    value(p.nll_iw),
    value(p.best_val_neg_elbo),
    value(p.train_seconds),
    value(p.wall_seconds),
  ]);
  return `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}

export function reportJson(report: SweepReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
