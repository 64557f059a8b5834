/**
 * Progress of a long pass over images (evaluate, codes): a bar with the ETA on
 * a terminal (cli-progress, as train uses), and on a pipe or a log file a plain
 * line now and then (at most one per ten seconds, plus the last), so a job log
 * shows the run is alive without filling up.
 */
import cliProgress from 'cli-progress';

export interface TaskProgress {
  update(done: number): void;
  stop(): void;
}

export interface TaskProgressOptions {
  /** What is being done, e.g. "evaluate". */
  label: string;
  /** What is counted, e.g. "images". */
  unit: string;
  total: number;
  stream: NodeJS.WriteStream;
  /** Draw a bar; otherwise plain lines. */
  bar: boolean;
  /** Seconds between plain lines. */
  every?: number;
  now?: () => number;
}

/** `1 min 5 s`, `12 s`: an ETA people read at a glance. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A plain progress line: `evaluate: 2,000/10,000 images (20%), 13.1 s, ETA 52 s`. */
export function progressLine(label: string, unit: string, done: number, total: number, seconds: number): string {
  const eta = done > 0 ? formatSeconds((seconds * (total - done)) / done) : '?';
  const fmt = (v: number) => v.toLocaleString('en-US');
  return `${label}: ${fmt(done)}/${fmt(total)} ${unit} (${Math.floor((100 * done) / total)}%), ${seconds.toFixed(1)} s, ETA ${eta}`;
}

export function taskProgress(options: TaskProgressOptions): TaskProgress {
  const { label, unit, total, stream, every = 10 } = options;
  const now = options.now ?? (() => performance.now() / 1000);
  const started = now();
  if (options.bar) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} |{bar}| {value}/{total} ${unit} | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  let lastLine = started;
  return {
    update(done) {
      const t = now();
      // A pass shorter than `every` prints nothing; a longer one ends with its last line.
      if (t - lastLine < every && (done < total || lastLine === started)) return;
      lastLine = t;
      stream.write(`${progressLine(label, unit, done, total, t - started)}\n`);
    },
    stop() {},
  };
}
