/** npm run train -- --help */
import { runCli } from '../src/cli/run.js';
import { trainCommand } from '../src/cli/train_command.js';

await runCli(() => trainCommand());
