/**
 * The SummaryWriters still open in this process, so that buffered events are
 * not lost when it ends: closed on process 'exit', flushed on SIGINT (Ctrl-C),
 * which skips 'exit'. The SIGINT listener is there only while a writer is
 * open, and it does not decide whether the process ends: with no other
 * listener it closes the writers and re-raises the signal (Node's default:
 * exit); when the application has its own handler, it only flushes and lets
 * that one decide.
 */

/** What the registry needs of a writer. */
export interface OpenWriter {
  flush(): void;
  close(): void;
}

const openWriters = new Set<OpenWriter>();
let exitHookInstalled = false;

export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/**
 * Closes (and so flushes) every open SummaryWriter. Call it from a SIGINT
 * handler before exiting; it also runs on process 'exit'. Throws the first
 * failure after trying them all.
 */
export function closeAllWriters(): void {
  let failure: unknown;
  for (const writer of [...openWriters]) {
    try {
      writer.close();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
}

/** Flushes every open writer; a failing one is reported, not thrown (signal handlers have no caller). */
function flushAllQuietly(): void {
  for (const writer of openWriters) {
    try {
      writer.flush();
    } catch (error) {
      process.stderr.write(`tensorboard: ${firstLine(error)}\n`);
    }
  }
}

function onSigint(): void {
  flushAllQuietly();
  if (process.listenerCount('SIGINT') > 1) return; // the application's handler decides what happens next
  process.off('SIGINT', onSigint);
  try {
    closeAllWriters();
  } catch (error) {
    process.stderr.write(`tensorboard: ${firstLine(error)}\n`);
  }
  // Without listeners, the signal takes its default action, as if none had been installed.
  process.kill(process.pid, 'SIGINT');
}

export function registerOpen(writer: OpenWriter): void {
  if (openWriters.size === 0) process.on('SIGINT', onSigint);
  openWriters.add(writer);
}

export function registerClosed(writer: OpenWriter): void {
  if (openWriters.delete(writer) && openWriters.size === 0) process.off('SIGINT', onSigint);
}

export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous, which flush is. Throwing here would replace the exit code.
  process.on('exit', () => {
    try {
      closeAllWriters();
    } catch (error) {
      process.stderr.write(`tensorboard: ${firstLine(error)}\n`);
    }
  });
}
