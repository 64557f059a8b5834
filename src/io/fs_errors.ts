/**
 * File-system failures as one line for people: what happened, where, and
 * what to do, instead of Node's raw "ENOSPC: no space left on device, write".
 */

const FIXES: Record<string, (where: string) => string> = {
  ENOSPC: (where) => `no space left on the device holding ${where}; free some space there (or choose a folder on another disk)`,
  EDQUOT: (where) => `disk quota exceeded for ${where}; free some space in your quota (or choose a folder on another disk)`,
  EROFS: (where) => `${where} is on a read-only file system; choose a folder on a writable disk`,
  EACCES: (where) => `permission denied for ${where}; fix its permissions or choose another folder`,
  EPERM: (where) => `operation not permitted in ${where}; fix its permissions or choose another folder`,
  EISDIR: (where) => `${where} is a folder where a file was expected; give a file path or remove the folder`,
  ENOTDIR: (where) => `${where}: a part of this path is a file, not a folder; choose another path`,
  EEXIST: (where) => `${where} already exists and is in the way; remove it or choose another path`,
  EMFILE: (where) => `too many open files while writing ${where}; raise the limit (ulimit -n) and retry`,
};

/** The errno code of a Node file-system error, if it is one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** One line for a file-system error at `where`; null for errors that are not a known file-system condition. */
export function describeFsError(error: unknown, where: string): string | null {
  const code = errnoCode(error);
  const fix = code ? FIXES[code] : undefined;
  return fix ? fix(where) : null;
}
