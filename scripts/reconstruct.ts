/** npm run reconstruct -- DIR (--help for the options) */
import { runCli } from '../src/cli/run.js';
import { reconstructCommand } from '../src/cli/reconstruct_command.js';

await runCli(() => reconstructCommand());
