/** npm run traverse -- DIR (--help for the options) */
import { runCli } from '../src/cli/run.js';
import { traverseCommand } from '../src/cli/traverse_command.js';

await runCli(() => traverseCommand());
