/**
 * Where `train` writes: checks that the run directory is its own (no other
 * run's checkpoints or checkpoint folder), takes its lock, and removes the
 * temporaries that dead trainers left, all before training starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFsError } from '../io/fs_errors.js';
import { STATE_JSON } from '../model/checkpoint.js';
import { acquireRunLock, describeOwner, lockOwner, processAlive, RunLockedError, type RunLock } from '../model/run_lock.js';
import { CliError } from './run.js';

const CHECKPOINT_FOLDER = /^(latest|best)(\.prev|\.tmp-\d+)?$/;

/** The run directory a checkpoint belongs to (<run>/latest -> <run>). */
export function runDirOf(checkpointDir: string): string {
  const base = path.basename(checkpointDir);
  return path.resolve(/^(latest|best)(\.prev)?$/.test(base) ? path.dirname(checkpointDir) : checkpointDir);
}

const holdsRun = (dir: string) => ['latest', 'best', 'latest.prev', 'best.prev'].some((f) => fs.existsSync(path.join(dir, f)));

/** `fs.realpathSync` of the longest existing prefix, so symlinked and relative spellings compare equal. */
function canonical(dir: string): string {
  const parts: string[] = [];
  let p = path.resolve(dir);
  while (!fs.existsSync(p) && path.dirname(p) !== p) {
    parts.unshift(path.basename(p));
    p = path.dirname(p);
  }
  return path.join(fs.realpathSync(p), ...parts);
}

export const samePath = (a: string, b: string) => canonical(a) === canonical(b);

/**
 * Refuses an --out inside a checkpoint folder (latest/, best/, or one of
 * their .prev/.tmp siblings) of a run: that run replaces those folders at each save.
 */
export function checkNotInsideCheckpoint(runDir: string): void {
  for (let p = canonical(runDir); ; p = path.dirname(p)) {
    const isCheckpoint = fs.existsSync(path.join(p, STATE_JSON));
    if (isCheckpoint || (CHECKPOINT_FOLDER.test(path.basename(p)) && holdsRun(path.dirname(p)))) {
      throw new CliError(
        `--out ${runDir} is inside the checkpoint folder ${p}, which its run replaces at every save; choose a folder outside it`,
      );
    }
    if (path.dirname(p) === p) return;
  }
}

/**
 * Creates the run directory, failing early (before anything is written) if it
 * holds another run: a fresh run needs an empty one, a resume its own.
 */
export function prepareRunDir(dir: string, resumedFrom: string | null): void {
  const owner = lockOwner(dir);
  if (owner && owner.pid !== process.pid) {
    throw new CliError(`${dir} is in use by another trainer (${describeOwner(owner)}); wait for it to end, or choose another --out`);
  }
  if (holdsRun(dir) && (resumedFrom === null || !samePath(dir, resumedFrom))) {
    throw new CliError(
      resumedFrom === null
        ? `${dir} already holds a run; continue it with --resume ${dir}, or choose another --out`
        : `${dir} already holds another run; resuming ${resumedFrom} would replace its checkpoints: drop --out to continue in ${resumedFrom}, or give an empty --out`,
    );
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    // A recursive mkdir on a read-only mount reports ENOENT: ask the nearest existing folder what is wrong.
    let cause = error;
    let where = dir;
    while (!fs.existsSync(where) && path.dirname(where) !== where) where = path.dirname(where);
    try {
      fs.accessSync(where, fs.constants.W_OK);
    } catch (inner) {
      cause = inner;
    }
    const line = describeFsError(cause, where);
    throw new CliError(
      line
        ? `cannot create the run directory ${dir} (--out): ${line}`
        : `cannot use the run directory ${dir} (${String(cause)}); choose another --out`,
    );
  }
}

/** Takes the run directory's lock, or one line naming the trainer that holds it. */
export function lockRunDir(dir: string, say: (line: string) => void): RunLock {
  let lock: RunLock;
  try {
    lock = acquireRunLock(dir);
  } catch (error) {
    if (error instanceof RunLockedError) throw new CliError(error.message);
    throw new CliError(`cannot lock the run directory ${dir}: ${describeFsError(error, dir) ?? String(error)}`);
  }
  if (lock.tookOver) {
    say(`took over a stale lock of ${dir} (${describeOwner(lock.tookOver)}: that process is no longer running)`);
  }
  return lock;
}

/** A run a resume only reads from must not be in the middle of a save by its own trainer. */
export function checkNotRunning(dir: string): void {
  const owner = lockOwner(dir);
  if (owner) throw new CliError(`${dir} is being trained (${describeOwner(owner)}); wait for that run to end before resuming from it`);
}

/** `<target>.tmp-<pid>` folders whose writer is dead: left by a kill, a double Ctrl-C or a full disk. */
export function staleTemporaries(runDir: string, alive: (pid: number) => boolean): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, match: /^(latest|best)\.tmp-(\d+)$/.exec(name) }))
    .filter(({ match }) => match !== null && Number(match[2]) !== process.pid && !alive(Number(match[2])))
    .map(({ name }) => path.join(runDir, name));
}

/** Removes `<latest|best>.tmp-<pid>` folders of dead trainers (under our lock); says what it removed. */
export function removeStaleTemporaries(dir: string, say: (line: string) => void): void {
  for (const tmp of staleTemporaries(dir, processAlive)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    say(`removed ${tmp}: a temporary checkpoint folder left by an interrupted save (its process is no longer running)`);
  }
}
