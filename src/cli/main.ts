/**
 * The `catvae` bin (bin/catvae.js runs the built copy of this module):
 * `catvae <command> [options]`, the command's own parser taking over from
 * its name on; `catvae --help` lists the commands, `--version` works at the
 * top and in every command.
 */
import { COMMANDS, type CatvaeCommand } from './commands.js';
import { cliParser, setProgramName } from './parser.js';
import { CliError, EXIT_USAGE } from './run.js';

export async function catvaeMain(argv: string[], commands: readonly CatvaeCommand[] = COMMANDS): Promise<number> {
  setProgramName('catvae');
  const command = commands.find((c) => c.name === argv[0]);
  if (command) return command.run(argv.slice(1));
  const names = commands.map((c) => c.name).join(', ');
  const first = argv[0];
  if (first !== undefined && first.startsWith('-') && !['--help', '-h', '--version'].includes(first))
    throw new CliError(`unknown option '${first}' before the command: catvae <command> [options] (catvae --help)`, EXIT_USAGE);
  if (first !== undefined && !first.startsWith('-'))
    throw new CliError(`unknown command '${first}': use one of ${names} (catvae --help)`, EXIT_USAGE);
  let parser = cliParser("catvae <command> [options]\n\nRun 'catvae <command> --help' for a command's options.", argv);
  for (const c of commands) parser = parser.command(c.name, c.describe);
  // Only --help and --version get here with a zero exit; yargs exits on both before returning.
  await parser.demandCommand(1, `name a command: ${names}`).parseAsync();
  return EXIT_USAGE;
}
