/** npm run sweep -- --help */
import { runCli } from '../src/cli/run.js';
import { sweepCommand } from '../src/cli/sweep_command.js';

await runCli(() => sweepCommand());
