/** npm run inspect -- DIR (--help for the options) */
import { runCli } from '../src/cli/run.js';
import { inspectCommand } from '../src/cli/inspect_command.js';

await runCli(() => inspectCommand());
