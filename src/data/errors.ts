/**
 * Bad data gets one line: which file (or option), what is wrong with it, and
 * what to do. The CLI prints `message` alone for a DataError, never a stack.
 */
export class DataError extends Error {
  constructor(
    /** The file, folder or option at fault. */
    readonly subject: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${subject}: ${problem}; ${fix}`);
    this.name = 'DataError';
  }
}
