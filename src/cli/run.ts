/**
 * How every catvae command ends: the result, or one line that names the
 * problem and the fix, with an exit code (2 for bad flags or config, 1 for
 * anything else), never a stack trace from inside tfjs.
 */
import { BackendUnavailable } from '../backend.js';
import { ConfigError } from '../model/config.js';

export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;
export const EXIT_INTERRUPTED = 130;

/** An error the user can fix, with the exit code it deserves. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

function describe(error: unknown): { line: string; code: number } {
  if (error instanceof CliError) return { line: error.message, code: error.exitCode };
  if (error instanceof ConfigError) return { line: error.message, code: EXIT_USAGE };
  if (error instanceof BackendUnavailable) return { line: error.message, code: EXIT_FAILURE };
  const first = String((error as Error)?.message ?? error).split('\n')[0];
  return { line: first, code: EXIT_FAILURE };
}

/** Runs a command's main function; turns any error into one line on stderr and an exit code. */
export async function runCli(main: () => Promise<number | void>): Promise<void> {
  try {
    const code = await main();
    process.exitCode = code ?? 0;
  } catch (error) {
    const { line, code } = describe(error);
    process.stderr.write(`error: ${line}\n`);
    if (process.env.CATVAE_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    process.exitCode = code;
  }
}
