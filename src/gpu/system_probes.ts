/**
 * The real probes behind the GPU checks: each asks the system one question,
 * in a child process with a time limit, and returns plain data that the
 * report logic (tested with fakes) interprets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { interpretDlopenError, parseLdconfig, type LibraryStatus } from './cuda_libraries.js';
import { NVIDIA_SMI_ARGS, parseNvidiaSmi, type NvidiaSmiResult } from './nvidia_smi.js';
import { runCommand } from './run_command.js';

const LDCONFIG_CANDIDATES = ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig'];

/** `ldconfig -p` output ('' when ldconfig is unavailable: not Linux, or not on PATH). */
export async function ldconfigCache(timeoutMs = 3000): Promise<string> {
  if (process.platform !== 'linux') return '';
  for (const cmd of LDCONFIG_CANDIDATES) {
    const result = await runCommand(cmd, ['-p'], { timeoutMs });
    if (result.startError === 'ENOENT') continue;
    return result.code === 0 ? result.stdout : '';
  }
  return '';
}

// One JSON line per library, so a library whose constructor crashes the child
// still leaves the answers for the ones before it.
const DLOPEN_CHILD = `
for (const name of JSON.parse(process.argv[1])) {
  let error = null;
  try { process.dlopen({ exports: {} }, name); } catch (e) { error = String(e && e.message || e); }
  process.stdout.write(JSON.stringify({ name, error }) + '\\n');
}`;

/** Directories on LD_LIBRARY_PATH that hold `soname`, for display. */
function onLibraryPath(soname: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, soname);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Asks the dynamic loader itself: dlopen(soname) in a child node process
 * (same LD_LIBRARY_PATH and ld.so cache that libtensorflow's dlopen uses),
 * so a library that exists but lacks one of its own dependencies counts as
 * missing, as it would for libtensorflow.
 */
export async function dlopenLibraries(sonames: readonly string[], timeoutMs = 5000): Promise<LibraryStatus[]> {
  const [result, cache] = await Promise.all([
    runCommand(process.execPath, ['-e', DLOPEN_CHILD, JSON.stringify(sonames)], { timeoutMs }),
    ldconfigCache(),
  ]);
  const paths = parseLdconfig(cache);
  const answers = new Map<string, string | null>();
  for (const line of result.stdout.split('\n')) {
    try {
      const { name, error } = JSON.parse(line) as { name: string; error: string | null };
      answers.set(name, error);
    } catch {
      // A partial last line from a killed child: that library stays unanswered.
    }
  }
  return sonames.map((soname) => {
    const where = paths.get(soname) ?? onLibraryPath(soname, process.env);
    if (!answers.has(soname)) {
      const why = result.timedOut ? 'the dlopen probe timed out' : `the dlopen probe stopped (exit ${result.code})`;
      return { soname, found: false, ...(where ? { path: where } : {}), error: why };
    }
    const verdict = interpretDlopenError(answers.get(soname) ?? null);
    return { soname, found: verdict.found, ...(where ? { path: where } : {}), ...(verdict.error ? { error: verdict.error } : {}) };
  });
}

export async function nvidiaSmi(timeoutMs = 5000): Promise<NvidiaSmiResult> {
  const result = await runCommand('nvidia-smi', NVIDIA_SMI_ARGS, { timeoutMs });
  if (result.startError === 'ENOENT') return { status: 'absent' };
  if (result.timedOut) return { status: 'error', message: `no answer within ${timeoutMs / 1000} s` };
  if (result.code !== 0) {
    const message = (result.stdout + result.stderr).trim().split('\n')[0] || `exit code ${result.code}`;
    return { status: 'error', message };
  }
  return { status: 'ok', gpus: parseNvidiaSmi(result.stdout) };
}
