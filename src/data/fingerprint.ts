/**
 * A fingerprint of a training data folder: the names, sizes and sha256 of
 * its four IDX files. A checkpoint records it, so that a resume can accept
 * the same data under another path (a moved folder, a relative path from
 * another working directory) and refuse different data under the same one.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from './errors.js';
import { IDX_FILES, locateIdxFiles, mnistDataDir, type IdxFileKey } from './mnist.js';

/** `sha256:<hex>` over each file's role, size and content hash, in a fixed order. */
export async function dataFingerprint(dataDir: string | null): Promise<string> {
  const files = await locateIdxFiles(dataDir ?? mnistDataDir());
  const whole = createHash('sha256');
  for (const key of Object.keys(IDX_FILES) as IdxFileKey[]) {
    const bytes = await fs.promises.readFile(files[key]).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EISDIR') throw new DataError(files[key], 'is a folder, not an IDX file', 'put the IDX file itself there');
      throw new DataError(
        files[key],
        `cannot be read (${code ?? String(error)})`,
        code === 'EACCES' ? 'check its permissions' : 'check the file',
      );
    });
    const gz = path.extname(files[key]) === '.gz' ? '.gz' : '';
    whole.update(`${key}${gz} ${bytes.length} ${createHash('sha256').update(bytes).digest('hex')}\n`);
  }
  return `sha256:${whole.digest('hex')}`;
}
