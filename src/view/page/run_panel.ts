/** The run panel: config, step, tau and best, and the -ELBO curves per epoch from state.json. */
import { lineChart } from './charts.js';

interface EpochRow {
  epoch: number;
  step: number;
  tau: number;
  train_loss: number;
  val_neg_elbo: number | null;
}

export interface RunJson {
  run: string;
  which: string;
  checkpoint: string;
  step: number;
  tau: number;
  config: Record<string, unknown>;
  history: EpochRow[];
  best: { val_neg_elbo: number; step: number; epoch: number } | null;
  backend: string;
  savedAt: string | null;
}

const show = (value: unknown) =>
  Array.isArray(value) ? value.join(', ') : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);

/** Nested config objects as dotted keys, one table row each. */
function flatten(config: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(config).flatMap(([key, value]): [string, unknown][] => {
    if (value === null || value === undefined) return [];
    if (typeof value === 'object' && !Array.isArray(value)) return flatten(value as Record<string, unknown>, `${prefix}${key}.`);
    return [[`${prefix}${key}`, value]];
  });
}

export function renderRun(run: RunJson, table: HTMLElement, curves: HTMLElement): void {
  const rows: [string, unknown][] = [
    ['run', run.run],
    ['checkpoint', run.checkpoint],
    ['step', run.step],
    ['tau', run.tau.toFixed(4)],
    ['best val -ELBO', run.best ? `${run.best.val_neg_elbo.toFixed(2)} (step ${run.best.step})` : '-'],
    ['trained on', run.backend],
    ...flatten(run.config),
  ];
  table.replaceChildren(
    ...rows.flatMap(([key, value]) => {
      const a = document.createElement('span');
      const b = document.createElement('span');
      a.className = 'key';
      a.textContent = key;
      b.textContent = show(value);
      return [a, b];
    }),
  );
  const history = run.history;
  curves.replaceChildren(
    lineChart(
      [
        { name: 'train', className: 'train', points: history.map((h) => [h.step, h.train_loss]) },
        {
          name: 'validation',
          className: 'val',
          points: history.filter((h) => h.val_neg_elbo !== null).map((h) => [h.step, h.val_neg_elbo!]),
        },
      ],
      'step',
      '-ELBO (nats per image)',
    ),
  );
}
