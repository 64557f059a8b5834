/**
 * An exclusive lock on a run directory: one trainer writes a run at a time.
 * The lock is a file created with O_EXCL holding the owner's pid, host and
 * start time; a lock whose owner is a dead process on this host is stale and
 * is taken over (the caller is told, so it can say so). A lock held from
 * another host cannot be checked and is always respected.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const LOCK_FILE = 'catvae.lock';

export interface LockOwner {
  pid: number;
  host: string;
  started: string;
  command?: string;
}

/** The run directory is held by another live process (or one on another host). */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
}

/** Whether a process with this pid exists on this host (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return owner && typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : null;
  } catch {
    return null;
  }
}

/** The live owner of a run directory's lock, or null when it is free or stale. */
export function lockOwner(dir: string): LockOwner | null {
  const owner = readOwner(path.join(dir, LOCK_FILE));
  if (!owner) return null;
  if (owner.host === os.hostname() && !processAlive(owner.pid)) return null;
  return owner;
}

export function describeOwner(owner: LockOwner): string {
  return `pid ${owner.pid} on ${owner.host} since ${owner.started}`;
}

export interface RunLock {
  file: string;
  /** Set when a stale lock was taken over: whose it was. */
  tookOver: LockOwner | null;
  release(): void;
}

/**
 * Takes the lock of `dir` (which must exist) or throws RunLockedError naming
 * the owner. Released by `release()` and, as a last resort, when the process exits.
 */
export function acquireRunLock(dir: string, command = process.argv.slice(1).join(' ')): RunLock {
  const file = path.join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command };
  let tookOver: LockOwner | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify(me));
      fs.closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
    }
    const owner = readOwner(file);
    if (owner && owner.pid === process.pid && owner.host === me.host) break;
    if (owner && (owner.host !== me.host || processAlive(owner.pid))) {
      throw new RunLockedError(
        `${dir} is in use by another trainer (${describeOwner(owner)}; lock file ${file}); wait for it to end, or choose another --out`,
      );
    }
    // Stale (dead owner on this host) or unreadable (a kill while it was being written): take it over.
    tookOver = owner ?? { pid: 0, host: me.host, started: 'unknown' };
    fs.rmSync(file, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const owner = readOwner(file);
    if (owner?.pid === process.pid) fs.rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, tookOver, release };
}
