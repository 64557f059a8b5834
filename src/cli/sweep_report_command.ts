/** `catvae sweep-report DIR` / `npm run sweep-report -- DIR`: the results table of a sweep folder (all shards' points). */
import * as path from 'node:path';
import { GridError } from '../sweep/grid.js';
import { REPORT_FILES, writeReport } from '../sweep/report_files.js';
import { reportMarkdown } from '../sweep/report.js';
import { cliParser } from './parser.js';
import { CliError, EXIT_USAGE } from './run.js';

export async function sweepReportCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run sweep-report -- DIR\n\nWrite report.md, report.csv, report.json and curves.png for the sweep in DIR (every point there, whichever shard ran it).',
    argv,
  )
    .command('$0 <dir>', false, (y) => y.positional('dir', { type: 'string', describe: 'The --out folder of a sweep' }))
    .parseAsync();
  const dir = path.resolve(args.dir as string);
  try {
    const report = writeReport(dir);
    process.stdout.write(reportMarkdown(report));
    process.stderr.write(
      `written: ${Object.values(REPORT_FILES)
        .map((f) => path.join(dir, f))
        .join(', ')}\n`,
    );
  } catch (error) {
    if (error instanceof GridError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
  return 0;
}
