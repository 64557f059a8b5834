/**
 * A sweep's progress for people: on a terminal, a block redrawn in place
 * (one line per running point and an overall line with the ETA); otherwise
 * one plain line per point started and ended.
 */
import type { GridPoint } from '../sweep/grid.js';
import type { RunnerEvent } from '../sweep/runner.js';

const duration = (seconds: number) => {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
};

export interface SweepProgress {
  onEvent(event: RunnerEvent): void;
  /** Clears the live block (before the final lines). */
  close(): void;
}

export function sweepProgress(options: {
  stream: NodeJS.WriteStream;
  live: boolean;
  points: GridPoint[];
  totalSteps: (point: GridPoint) => number;
}): SweepProgress {
  const { stream, live, points } = options;
  const started = performance.now();
  const current = new Map<string, number>(points.map((p) => [p.name, 0]));
  const startStep = new Map<string, number>();
  const running = new Map<string, GridPoint>();
  let ended = 0;
  /** When the first step was seen: the rate leaves out the first start-up (loading tfjs and the data). */
  let firstStepAt: number | null = null;
  let drawn = 0;
  let timer: NodeJS.Timeout | null = null;

  const header = () => {
    const remaining = points.reduce((a, p) => a + Math.max(0, options.totalSteps(p) - (current.get(p.name) ?? 0)), 0);
    const done = [...startStep.entries()].reduce((a, [name, s0]) => a + (current.get(name)! - s0), 0);
    const elapsed = (performance.now() - started) / 1000;
    const stepping = firstStepAt === null ? 0 : (performance.now() - firstStepAt) / 1000;
    const eta = done > 0 && remaining > 0 && stepping > 0 ? `, ETA ${duration((remaining / done) * stepping)}` : '';
    return `sweep: ${ended}/${points.length} points ended, ${running.size} running, ${duration(elapsed)} elapsed${eta}`;
  };
  const draw = () => {
    const lines = [
      header(),
      ...[...running.values()].map((p) => {
        const total = options.totalSteps(p);
        const step = current.get(p.name) ?? 0;
        return `  ${p.name}  step ${step}/${total}  ${total > 0 ? Math.floor((100 * step) / total) : 0}%`;
      }),
    ];
    const cols = stream.columns || 100;
    // Move up over the last block and rewrite it line by line.
    stream.write(`${drawn > 0 ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\x1b[2K${l.slice(0, cols - 1)}\n`).join('')}\x1b[J`);
    drawn = lines.length;
  };
  const clear = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  /** A permanent line: above the live block on a terminal. */
  const say = (line: string) => {
    if (live) clear();
    stream.write(`${line}\n`);
    if (live) draw();
  };
  if (live) timer = setInterval(draw, 1000).unref();

  return {
    onEvent(event) {
      const name = event.point.name;
      if (event.type === 'skip') {
        ended++;
        current.set(name, options.totalSteps(event.point));
        say(`${name}: already finished, skipped`);
      } else if (event.type === 'start') {
        running.set(name, event.point);
        say(`${name}: ${event.plan === 'resume' ? 'resuming from latest/' : 'starting'}`);
      } else if (event.type === 'step') {
        firstStepAt ??= performance.now();
        if (!startStep.has(name)) startStep.set(name, event.step);
        current.set(name, event.step);
      } else {
        running.delete(name);
        ended++;
        const test = event.summary?.test_neg_elbo;
        const detail =
          event.outcome === 'completed'
            ? `completed, test -ELBO ${typeof test === 'number' ? test.toFixed(2) : '-'}`
            : event.outcome === 'failed'
              ? `FAILED: ${event.message}`
              : event.outcome;
        say(`${name}: ${detail} (${duration(event.seconds)}) [${ended}/${points.length}]${live ? '' : `  ${header()}`}`);
      }
    },
    close() {
      if (timer) clearInterval(timer);
      if (live) clear();
    },
  };
}
