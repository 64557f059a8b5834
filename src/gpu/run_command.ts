/**
 * Runs a child process with a hard time limit. The GPU probes shell out to
 * nvidia-smi, ldconfig and to node children that load native code (CUDA,
 * Dawn), any of which can hang on a broken driver: nothing here may block
 * the caller longer than its timeout.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit code; null when killed or when the command could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the command could not be started (ENOENT: not installed). */
  startError?: string;
}

export interface CommandOptions {
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Output beyond this many characters per stream is dropped. */
  maxChars?: number;
}

export function runCommand(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const maxChars = options.maxChars ?? 1_000_000;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (result: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // SIGKILL, not SIGTERM: a process stuck inside a driver call may ignore TERM.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < maxChars) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < maxChars) stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish({ code: null, stdout, stderr, timedOut, startError: error.code ?? error.message });
    });
    child.on('close', (code) => finish({ code, stdout, stderr, timedOut }));
  });
}
