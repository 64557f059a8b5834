/**
 * `catvae sweep` / `npm run sweep`: a grid of training runs, each an ordinary
 * run directory DIR/<point>/ made by `train` in a child process; --parallel P
 * at once, resumable by rerunning the same command, --shard I/N for job
 * arrays, and a report over every point at the end. Every check (flags, grid,
 * each point's values, the --out folder) passes before anything is written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GridError, parseShard, shardPoints, type FlagValue, type GridPoint, type Shard } from '../sweep/grid.js';
import { checkSweepDir, makeManifest, writeManifest } from '../sweep/manifest.js';
import { EVALUATION_JSON } from '../sweep/point_state.js';
import { REPORT_FILES, writeReport } from '../sweep/report_files.js';
import { lastErrorLine, runChild, SweepRunner, type ChildCommand } from '../sweep/runner.js';
import { mergeSpecs, parseGridFlag, parseSpecText, type FlagKind, type SweepSpec } from '../sweep/spec.js';
import { checkNonNegativeInt, checkPositiveInt, cliParser, requireValues } from './parser.js';
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE } from './run.js';
import { checkPoint, pointArgv, sweepableFlags, totalStepsOf } from './sweep_points.js';
import { sweepProgress } from './sweep_progress.js';
import { sweepReportCommand } from './sweep_report_command.js';

/**
 * The child process: sweep_child next to this module. From the sources (.ts,
 * run through tsx) it needs tsx's loader; from the built package (dist/*.js) plain node.
 */
export function childCommand(): ChildCommand {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const entry = path.join(path.dirname(here), `sweep_child${ext}`);
  return { file: process.execPath, args: ext === '.ts' ? ['--import', import.meta.resolve('tsx'), entry] : [entry] };
}

const sweepOptions = {
  out: { type: 'string', demandOption: true, describe: 'Sweep folder: one run directory per point, sweep.json and the report' },
  grid: { type: 'string', array: true, describe: 'An axis: NAME=V1,V2,... for any training flag (repeatable; arrays as 512x256)' },
  spec: { type: 'string', describe: 'A JSON or YAML file: { grid: { NAME: [values] }, train: { NAME: value } }' },
  parallel: { type: 'number', default: 1, describe: 'Points trained at once; the cores are shared between them (--threads each)' },
  shard: { type: 'string', describe: 'Run only the points whose index mod N is I (I/N, I from 0): one job of an array' },
  'iw-samples': {
    type: 'number',
    default: 0,
    describe: 'After each point, evaluate the importance-weighted bound with this many samples (0: skip)',
  },
  report: { type: 'boolean', default: false, describe: 'Only write the report of the sweep in --out (as sweep-report does)' },
  'dry-run': { type: 'boolean', default: false, describe: 'List the points and their flags, run nothing' },
  progress: { type: 'boolean', default: true, describe: 'Live display on a terminal (--no-progress: plain lines)' },
} as const;

/** The training flags typed on the command line: fixed for every point. */
function fixedFlags(args: Record<string, unknown>): Record<string, FlagValue> {
  const table = sweepableFlags();
  return Object.fromEntries(Object.entries(args).filter(([name, v]) => name in table && v !== undefined)) as Record<string, FlagValue>;
}

function readSpecFile(file: string): SweepSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new GridError(`--spec ${file}: cannot read the file`);
  }
  return parseSpecText(text, sweepableFlags(), file);
}

export async function sweepCommand(argv?: string[]): Promise<number> {
  const table = sweepableFlags();
  // Training flags are the train command's, without yargs defaults, so only those typed become fixed flags.
  const trainFlags = Object.fromEntries(
    Object.entries(table).map(([name, o]) => {
      const { default: _default, ...rest } = o as FlagKind & { default?: unknown };
      return [name, { ...rest, group: 'Training flags (the same for every point):' }];
    }),
  );
  const args = await cliParser(
    'npm run sweep -- --out DIR --grid NAME=V1,V2 [--grid ...] [training flags]\n\nTrain a grid of configurations; rerun the same command to resume.',
    argv,
  )
    .options(requireValues({ ...trainFlags, ...sweepOptions }))
    .check((a) => {
      checkPositiveInt(a.parallel as number, 'parallel');
      checkNonNegativeInt(a['iw-samples'] as number, 'iw-samples');
      return true;
    })
    .parseAsync();

  const out = path.resolve(args.out as string);
  if (args.report) return sweepReportCommand([out]);
  let spec: SweepSpec;
  let shard: Shard | null = null;
  try {
    const fromFile = args.spec ? readSpecFile(args.spec as string) : null;
    const axes = ((args.grid as string[] | undefined) ?? []).map((g) => parseGridFlag(String(g), table));
    spec = mergeSpecs(fromFile, axes, fixedFlags(args));
    if (args.shard !== undefined) shard = parseShard(String(args.shard));
  } catch (error) {
    if (error instanceof GridError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
  let manifest: ReturnType<typeof makeManifest>;
  try {
    manifest = makeManifest(spec);
    checkSweepDir(out, manifest);
  } catch (error) {
    if (error instanceof GridError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
  const parallel = args.parallel as number;
  // P runs share the cores, unless --threads was given.
  const threads = spec.fixed.threads === undefined ? Math.max(1, Math.floor(os.availableParallelism() / parallel)) : null;
  const argvOf = (p: GridPoint) => [...pointArgv(spec.fixed, p), ...(threads === null ? [] : ['--threads', String(threads)])];
  const configs = new Map(manifest.points.map((p) => [p.name, checkPoint(p.name, argvOf(p))]));
  const points = shardPoints(manifest.points, shard);

  if (args['dry-run']) {
    for (const p of points) process.stdout.write(`${p.index}\t${p.name}\t${argvOf(p).join(' ')}\n`);
    return 0;
  }
  writeManifest(out, manifest);
  const stream = process.stderr;
  const progress = sweepProgress({
    stream,
    live: (args.progress as boolean) && !!stream.isTTY,
    points,
    totalSteps: (p) => totalStepsOf(configs.get(p.name)!),
  });
  const iwSamples = args['iw-samples'] as number;
  const child = childCommand();
  const runner = new SweepRunner({
    sweepDir: out,
    points,
    parallel,
    child: { file: child.file, args: [...child.args, 'train'] },
    argvFor: argvOf,
    onEvent: (e) => progress.onEvent(e),
    afterCompleted: iwSamples > 0 ? async (p, runDir) => evaluatePoint(child, runDir, iwSamples, spec.fixed) : undefined,
  });
  stream.write(
    `sweep: ${points.length} of ${manifest.points.length} points${shard ? ` (shard ${shard.index}/${shard.count})` : ''}, ` +
      `${parallel} at once${threads === null ? '' : `, ${threads} thread${threads > 1 ? 's' : ''} each`}, in ${out}\n`,
  );
  const onSignal = (signal: NodeJS.Signals) => {
    stream.write(`\n${signal}: stopping every point (each saves a checkpoint); rerun the same command to resume\n`);
    runner.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome: Awaited<ReturnType<SweepRunner['run']>>;
  try {
    outcome = await runner.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.close();
  }
  writeReport(out);
  const c = outcome.counts;
  stream.write(
    `sweep: ${c.completed} completed, ${c.skipped} already finished, ${c.diverged} diverged, ${c.failed} failed, ${c.interrupted} interrupted; ` +
      `report: ${path.join(out, REPORT_FILES.markdown)}\n`,
  );
  if (outcome.stopped) return EXIT_INTERRUPTED;
  if (c.failed > 0 || c.interrupted > 0) return EXIT_FAILURE;
  return 0;
}

/** Runs `evaluate --json` on a completed point and keeps its output as evaluation.json. */
async function evaluatePoint(child: ChildCommand, runDir: string, iwSamples: number, fixed: Record<string, FlagValue>): Promise<void> {
  const file = path.join(runDir, EVALUATION_JSON);
  if (fs.existsSync(file)) return;
  const extra = [
    ...(fixed['test-size'] !== undefined ? ['--test-size', String(fixed['test-size'])] : []),
    ...(fixed.backend !== undefined ? ['--backend', String(fixed.backend)] : []),
  ];
  const r = await runChild(child, ['evaluate', runDir, '--json', '--iw-samples', String(iwSamples), ...extra]);
  const line = r.stdout.trim().split('\n').at(-1);
  if (r.code !== 0 || !line) {
    throw new CliError(`evaluate failed: ${lastErrorLine(r.stderr) ?? (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`)}`);
  }
  fs.writeFileSync(file, `${line}\n`);
}
