/**
 * Writing a picture: the destination is checked before any work is done, and
 * the file appears whole or not at all (written to a temporary file in the
 * same folder, then renamed over the target).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFsError } from '../io/fs_errors.js';

/** An output path that cannot be written: one line that names it and the fix. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** Checks that `out` names a file in an existing, writable folder; returns it resolved. */
export function checkOutputPath(out: string, flag = '--out'): string {
  if (out.trim() === '') throw new OutputError(`${flag} is empty; give a file name such as pictures.png`);
  const target = path.resolve(out);
  const folder = path.dirname(target);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(folder);
  } catch {
    throw new OutputError(`folder ${folder} does not exist; create it or choose another ${flag}`);
  }
  if (!stat.isDirectory()) throw new OutputError(`${folder} is not a folder; choose another ${flag}`);
  if (out.endsWith('/') || out.endsWith(path.sep) || (fs.existsSync(target) && fs.statSync(target).isDirectory())) {
    throw new OutputError(`${target} is a folder; give a file name in it, e.g. ${flag} ${path.join(out, 'picture.png')}`);
  }
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch (error) {
    // EROFS (a read-only mount) is not a permissions problem: say which it is.
    const line = describeFsError(error, folder);
    throw new OutputError(
      line ? `cannot write there (${flag}): ${line}` : `cannot write in folder ${folder} (${String(error)}); choose another ${flag}`,
    );
  }
  return target;
}

/** Writes bytes to `target` atomically; on failure nothing is left behind and one line says why. */
export function writeFileAtomic(target: string, bytes: Uint8Array): void {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    const e = error as NodeJS.ErrnoException;
    throw new OutputError(`cannot write ${target}: ${describeFsError(error, path.dirname(target)) ?? e.code ?? e.message}`);
  }
}
