/**
 * `npm run view -- RUN_DIR`: serves a page that loads the run's model with
 * tfjs in the browser (draw a digit, read and edit its discrete code, see
 * traversals, prior samples and the run's curves); or, with --export DIR,
 * writes the same page as a static folder.
 */
import { spawn } from 'node:child_process';
import { CheckpointError } from '../model/checkpoint.js';
import { DataError } from '../data/index.js';
import { exportView, ExportError } from '../view/export.js';
import { modelFiles, runSummary, testDigits } from '../view/run_files.js';
import { startViewServer, type ViewContent } from '../view/server.js';
import { cliParser, requireValues } from './parser.js';
import { CliError, EXIT_USAGE } from './run.js';

/** Opens `url` in the desktop's browser if there is one; says so when there is none. */
function openBrowser(url: string, say: (line: string) => void): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => say(`--open: no browser opener (${command}) here; open ${url} yourself`));
  child.unref();
}

async function gather(dir: string, which: 'best' | 'latest'): Promise<ViewContent> {
  try {
    const model = modelFiles(dir, which);
    const summary = runSummary(dir, model, which);
    return { model, summary, digits: await testDigits(summary) };
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof DataError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
}

export async function viewCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run view -- RUN_DIR [options]\n\n' +
      'Explore a trained model in the browser: draw or pick a digit, watch its discrete code (q(z|x) for each variable) and its ' +
      "reconstruction, edit the code, traverse a variable, sample the prior, and see the run's curves and code usage. " +
      "The page runs the model with tfjs in the browser; the server only hands out the page and this run's model files.",
    argv,
  )
    .command('$0 <dir>', false, (y) =>
      y.positional('dir', { type: 'string', describe: 'Run directory (checkpoints/<run>) or a checkpoint in it' }),
    )
    .options(
      requireValues({
        which: { choices: ['best', 'latest'], default: 'best', describe: 'Which checkpoint of the run' },
        port: { type: 'number', describe: 'Port to listen on', defaultDescription: 'a free one' },
        host: {
          type: 'string',
          default: '127.0.0.1',
          describe: 'Address to bind (0.0.0.0 or a public address exposes the page to the network)',
        },
        open: { type: 'boolean', default: false, describe: 'Open the page in a browser, if one is there' },
        export: { type: 'string', describe: 'Write the page as a static folder (page, bundle, model files, digits) instead of serving it' },
      }),
    )
    .check((a) => {
      if (a.port !== undefined && !(Number.isInteger(a.port) && a.port >= 0 && a.port <= 65535)) {
        throw new Error(`--port must be a whole number from 0 to 65535, got ${a.port}`);
      }
      return true;
    })
    .parseAsync();

  const say = (line: string) => process.stdout.write(`${line}\n`);
  const which = args.which as 'best' | 'latest';
  const content = await gather(args.dir as string, which);
  const { summary, model } = content;
  say(`checkpoint: ${model.dir} (step ${summary.step}); ${content.digits.count} test digits from ${content.digits.source}`);

  if (args.export !== undefined) {
    const files = await exportView(content, args.export).catch((error: unknown) => {
      throw error instanceof ExportError ? new CliError(error.message, EXIT_USAGE) : error;
    });
    say(`wrote ${files.length} files to ${args.export}: serve it with any static server, e.g. python3 -m http.server -d ${args.export}`);
    return 0;
  }

  const server = await startViewServer(content, { host: args.host, port: args.port }).catch((error: NodeJS.ErrnoException) => {
    const what =
      error.code === 'EADDRINUSE' ? 'is in use' : error.code === 'EACCES' ? 'needs privileges' : `failed (${error.code ?? error.message})`;
    throw new CliError(`listening on ${args.host}:${args.port ?? 0} ${what}; choose another --port or --host`, EXIT_USAGE);
  });
  say(`catvae view: ${server.url}  (Ctrl-C to stop)`);
  if (args.open) openBrowser(server.url, say);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
