/** npm run codes -- DIR (--help for the options) */
import { runCli } from '../src/cli/run.js';
import { codesCommand } from '../src/cli/codes_command.js';

await runCli(() => codesCommand());
