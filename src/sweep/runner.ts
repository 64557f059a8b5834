/**
 * Runs a sweep's points as child processes, at most `parallel` at once: each
 * child is `train` with the point's flags and --json; its stderr goes to
 * <point>/train.log, its summary to <point>/result.json. A failed point is
 * recorded (failure.json) and the others go on. stop() asks every child to
 * save and stop, exactly once, as Ctrl-C does for train.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GridPoint } from './grid.js';
import { ATTEMPTS_JSONL, FAILURE_JSON, planPoint, RESULT_JSON, type PointPlan, type TrainSummary } from './point_state.js';

/** Train's exit code after a clean stop on SIGINT (src/cli/run.ts EXIT_INTERRUPTED), and on SIGTERM (128 + 15). */
export const EXIT_INTERRUPTED = 130;
const EXIT_TERMINATED = 143;
/** The line train prints when it starts saving after a SIGINT; seeing it means the child already got one. */
const STOPPING_LINE = /^stopping on SIG[A-Z]+: saving a checkpoint/m;
/** How long stop() waits for a terminal's Ctrl-C to reach the children before sending SIGINT itself. */
const FORWARD_DELAY_MS = 300;

export interface ChildCommand {
  /** The executable (node) and the arguments before the training flags (the entry script). */
  file: string;
  args: string[];
}

export type Outcome = 'completed' | 'diverged' | 'interrupted' | 'failed';

export type RunnerEvent =
  | { type: 'skip'; point: GridPoint }
  | { type: 'start'; point: GridPoint; plan: PointPlan }
  | { type: 'step'; point: GridPoint; step: number }
  | { type: 'end'; point: GridPoint; outcome: Outcome; summary: TrainSummary | null; message: string | null; seconds: number };

export interface RunnerOptions {
  sweepDir: string;
  points: GridPoint[];
  parallel: number;
  child: ChildCommand;
  /** The training flags of a point (without --out, --resume and --json, which the runner adds). */
  argvFor(point: GridPoint): string[];
  onEvent(event: RunnerEvent): void;
  /** After a point completes (e.g. an extra evaluation); errors are reported as that point's failure. */
  afterCompleted?(point: GridPoint, runDir: string): Promise<void>;
}

export interface SweepOutcome {
  counts: Record<Outcome | 'skipped', number>;
  stopped: boolean;
}

interface Running {
  point: GridPoint;
  child: ChildProcess;
  stderrTail: string;
  sawStopping: boolean;
}

export class SweepRunner {
  private readonly running = new Set<Running>();
  private stopRequests = 0;

  constructor(private readonly options: RunnerOptions) {}

  /** First call: every child saves and stops, nothing new starts. Second call: children quit at once. */
  stop(): void {
    this.stopRequests++;
    const now = this.stopRequests;
    setTimeout(
      () => {
        for (const r of this.running) {
          if (now === 1 && r.sawStopping) continue;
          r.child.kill('SIGINT');
        }
      },
      now === 1 ? FORWARD_DELAY_MS : 0,
    ).unref();
  }

  async run(): Promise<SweepOutcome> {
    const counts: SweepOutcome['counts'] = { completed: 0, diverged: 0, interrupted: 0, failed: 0, skipped: 0 };
    const queue = [...this.options.points];
    const worker = async () => {
      for (let point = queue.shift(); point && this.stopRequests === 0; point = queue.shift()) {
        const outcome = await this.runPoint(point);
        counts[outcome === 'done' ? 'skipped' : outcome]++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.parallel) }, worker));
    return { counts, stopped: this.stopRequests > 0 };
  }

  private async runPoint(point: GridPoint): Promise<Outcome | 'done'> {
    const { sweepDir, child, argvFor, onEvent } = this.options;
    const runDir = path.join(sweepDir, point.name);
    const plan = planPoint(runDir);
    if (plan === 'done') {
      onEvent({ type: 'skip', point });
      // A finished point whose extra step (evaluation) failed or was stopped gets it now.
      await this.options.afterCompleted?.(point, runDir).catch(() => undefined);
      return 'done';
    }
    fs.mkdirSync(runDir, { recursive: true });
    onEvent({ type: 'start', point, plan });
    const started = performance.now();
    const args = [
      ...child.args,
      ...argvFor(point),
      '--out',
      runDir,
      '--json',
      '--no-progress',
      ...(plan === 'resume' ? ['--resume', runDir] : []),
    ];
    const log = fs.openSync(path.join(runDir, 'train.log'), 'a');
    fs.writeSync(
      log,
      `\n# ${new Date().toISOString()} ${plan === 'resume' ? 'resume' : 'start'}: ${args.slice(child.args.length).join(' ')}\n`,
    );
    // stdin stays open: the child stops cleanly when it closes, i.e. when this process dies.
    const proc = spawn(child.file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CATVAE_SWEEP_CHILD: '1' } });
    const entry: Running = { point, child: proc, stderrTail: '', sawStopping: false };
    this.running.add(entry);
    let stdout = '';
    proc.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      fs.writeSync(log, text);
      entry.stderrTail = (entry.stderrTail + text).slice(-4000);
      if (STOPPING_LINE.test(text)) entry.sawStopping = true;
      const steps = [...text.matchAll(/\bstep (\d+)\b/g)];
      if (steps.length > 0) onEvent({ type: 'step', point, step: Number(steps.at(-1)![1]) });
    });
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      proc.on('error', (error) => {
        entry.stderrTail += `\nerror: ${error.message}`;
        resolve({ code: null, signal: null });
      });
      proc.on('close', (code, signal) => resolve({ code, signal }));
    });
    this.running.delete(entry);
    fs.closeSync(log);
    const seconds = (performance.now() - started) / 1000;
    const summary = lastJsonLine(stdout);
    let outcome: Outcome;
    let message: string | null = null;
    if (code === 0 && summary?.status === 'completed') outcome = 'completed';
    else if (summary?.status === 'diverged') outcome = 'diverged';
    else if (code === EXIT_INTERRUPTED || code === EXIT_TERMINATED || (this.stopRequests > 0 && signal === 'SIGINT'))
      outcome = 'interrupted';
    else {
      outcome = 'failed';
      message = lastErrorLine(entry.stderrTail) ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
    }
    if (outcome === 'completed' || outcome === 'diverged') {
      writeJson(path.join(runDir, RESULT_JSON), { ...summary, point: point.name, values: point.values });
      fs.rmSync(path.join(runDir, FAILURE_JSON), { force: true });
    } else if (outcome === 'failed') {
      writeJson(path.join(runDir, FAILURE_JSON), { exit_code: code, signal, message });
    }
    if (outcome === 'completed' && this.options.afterCompleted) {
      try {
        await this.options.afterCompleted(point, runDir);
      } catch (error) {
        outcome = 'failed';
        message = String((error as Error).message ?? error).split('\n')[0];
      }
    }
    fs.appendFileSync(
      path.join(runDir, ATTEMPTS_JSONL),
      `${JSON.stringify({ started: new Date(Date.now() - seconds * 1000).toISOString(), seconds, outcome })}\n`,
    );
    onEvent({ type: 'end', point, outcome, summary, message, seconds });
    return outcome;
  }
}

/** Runs a short helper command (e.g. evaluate) as a child like the training ones: stdin held open, output collected. */
export function runChild(
  command: ChildCommand,
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const proc = spawn(command.file, [...command.args, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CATVAE_SWEEP_CHILD: '1' },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    proc.on('error', (error) => resolve({ code: null, signal: null, stdout, stderr: `${stderr}\nerror: ${error.message}` }));
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** Train's --json summary: the last line of its stdout that parses as an object with a status. */
export function lastJsonLine(stdout: string): TrainSummary | null {
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      const parsed = JSON.parse(line) as TrainSummary;
      if (parsed && typeof parsed === 'object' && typeof parsed.status === 'string') return parsed;
    } catch {
      // not the summary line
    }
  }
  return null;
}

/** The line that explains a failure: train's `error: ...` line, else the last non-empty line. */
export function lastErrorLine(stderr: string): string | null {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    [...lines]
      .reverse()
      .find((l) => l.startsWith('error:'))
      ?.replace(/^error:\s*/, '') ??
    lines.at(-1) ??
    null
  );
}
