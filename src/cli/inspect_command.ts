/**
 * `npm run inspect -- DIR`: what a checkpoint holds (config, progress,
 * parameters, weight statistics, metrics history, best vs latest) and whether
 * it is intact. Integrity problems end in one line and exit code 1.
 */
import * as path from 'node:path';
import { selectBackend, type BackendChoice } from '../backend.js';
import { buildReport, type CheckpointRole } from '../inspect/report.js';
import { renderReport } from '../inspect/render.js';
import { loadCheckpoint, resolveCheckpointDir, type LoadedCheckpoint } from '../model/checkpoint.js';
import { backendOption, checkNonNegativeInt, cliParser, requireValues } from './parser.js';
import { CliError } from './run.js';

/**
 * The checkpoints to show: latest and best of a run directory (one when they
 * are the same directory, or when DIR is a checkpoint itself).
 */
function checkpointDirs(location: string): Array<{ role: CheckpointRole; dir: string }> {
  const latest = resolveCheckpointDir(location, 'latest');
  if (path.resolve(latest) === path.resolve(location)) return [{ role: 'checkpoint', dir: latest }];
  const best = resolveCheckpointDir(location, 'best');
  const dirs: Array<{ role: CheckpointRole; dir: string }> = [{ role: 'latest', dir: latest }];
  if (path.resolve(best) !== path.resolve(latest)) dirs.push({ role: 'best', dir: best });
  return dirs;
}

export async function inspectCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run inspect -- DIR [options]\n\n' +
      'Shows what a checkpoint holds: config, step and epoch, temperature, the backend and versions it was trained with, ' +
      'parameters per layer, weight statistics per tensor, the metrics history, best vs latest. ' +
      'Checks its integrity (files present, sizes matching the manifests, values finite): a problem exits 1 with one line.\n\n' +
      'DIR is a run directory (checkpoints/<run>: shows latest and best) or one checkpoint directory.',
    argv,
  )
    .command('$0 <dir>', false, (y) => y.positional('dir', { type: 'string', describe: 'Run directory or checkpoint directory' }))
    .options(
      requireValues({
        json: { type: 'boolean', default: false, describe: 'Print the same report as one JSON object' },
        'history-rows': { type: 'number', default: 20, describe: 'Most rows of the history table (0: all)' },
        ...backendOption,
      }),
    )
    .check((a) => {
      const rows = a['history-rows'];
      checkNonNegativeInt(rows, 'history-rows');
      return true;
    })
    .parseAsync();

  const location = args.dir as string;
  // Resolved before the backend loads, so a wrong DIR fails at once.
  const dirs = checkpointDirs(location);
  // The backend only reads the weights here; its line goes to stderr to keep stdout the report.
  const backend = await selectBackend(args.backend as BackendChoice);
  process.stderr.write(`${backend.summary}\n`);
  const loaded: Array<{ role: CheckpointRole; checkpoint: LoadedCheckpoint }> = [];
  for (const { role, dir } of dirs) loaded.push({ role, checkpoint: await loadCheckpoint(dir, 'latest', { allowNonFinite: true }) });
  const report = await buildReport(location, loaded);

  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${renderReport(report, { historyRows: args['history-rows'], width: process.stdout.columns || 100 })}\n`);

  const problems = report.integrity.problems;
  if (problems.length > 0) {
    throw new CliError(
      `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''}`,
    );
  }
  return 0;
}
