/** The shared yargs setup: strict flags, defaults shown in --help, exit 2 on bad input. */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES } from '../backend.js';
import { versions } from '../versions.js';
import { EXIT_USAGE } from './run.js';

/** What --version prints, in every command. */
export function versionLine(): string {
  const v = versions();
  return `catvae ${v.catvae} (@tensorflow/tfjs ${v.tfjs}, node ${v.node})`;
}

/** Set by the `catvae` bin: usage lines then read `catvae train ...` instead of `npm run train -- ...`. */
let programName: string | null = null;
export function setProgramName(name: string | null): void {
  programName = name;
}

/** How to run another command, for hints: `catvae evaluate` from the bin, `npm run evaluate --` in a clone. */
export function commandLine(name: string): string {
  return programName ? `${programName} ${name}` : `npm run ${name} --`;
}

/** What the user typed for `--flag` (the words after it, or the text of `--flag=value`), to echo in messages. */
export function rawValues(argv: readonly string[], flag: string): string[] {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith(`--${flag}=`)) return [argv[i].slice(flag.length + 3)];
    if (argv[i] === `--${flag}`) {
      const words: string[] = [];
      for (let j = i + 1; j < argv.length && !/^--?[a-z]/i.test(argv[j]); j++) words.push(argv[j]);
      return words;
    }
  }
  return [];
}

/** A number flag given something that is not a number: one line with the text as typed, not the NaN yargs made of it. */
function checkNumbers(argv: readonly string[], parsed: Record<string, unknown>): true {
  for (const [flag, value] of Object.entries(parsed)) {
    const values = Array.isArray(value) ? value : [value];
    if (flag !== '_' && flag !== '$0' && values.some((v) => typeof v === 'number' && Number.isNaN(v))) {
      const typed = rawValues(argv, flag).find((w) => Number.isNaN(Number(w))) ?? 'NaN';
      throw new Error(`--${flag} must be a number, got '${typed}'`);
    }
  }
  return true;
}

export function cliParser(usage: string, argv: string[] = hideBin(process.argv)): Argv {
  return (
    yargs(argv)
      .check((parsed) => checkNumbers(argv, parsed))
      .scriptName('')
      .usage(programName ? usage.replace(/^npm run ([\w-]+)(?: --)?/, `${programName} $1`) : usage)
      // Flags keep their kebab-case names only: no camelCase twins in errors or argv.
      .parserConfiguration({ 'camel-case-expansion': false })
      .strict()
      .help()
      .alias('help', 'h')
      .version('version', 'Show the versions of catvae, tfjs and node', versionLine())
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((message, error) => {
        // yargs reports unknown flags, bad choices and failed checks here.
        const text = message || error?.message || 'invalid arguments';
        const oneLine = text
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .join(' ');
        process.stderr.write(`error: ${oneLine}\nRun with --help to see the options.\n`);
        process.exit(EXIT_USAGE);
      })
  );
}

/**
 * Every non-boolean flag must be followed by its value: without this yargs
 * takes a bare `--epochs` as "not given" and silently runs with the default.
 */
export function requireValues<T extends Record<string, object>>(options: T): T {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, (o as { type?: string }).type === 'boolean' ? o : { ...o, requiresArg: true }]),
  ) as T;
}

/** yargs checks: each throws one line for a bad value, which cliParser prints before exiting 2. */
export function checkPositiveInt(value: number | undefined, flag: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1))
    throw new Error(`--${flag} must be a positive integer, got ${value}`);
}

export function checkNonNegativeInt(value: number | undefined, flag: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new Error(`--${flag} must be an integer >= 0, got ${value}`);
}

/** The --backend flag, the same in every command. */
export const backendOption = {
  backend: {
    choices: BACKEND_CHOICES as unknown as string[],
    default: 'auto',
    describe: 'Backend: auto tries tensorflow-gpu, tensorflow, webgpu, wasm, then cpu',
  },
} as const;
