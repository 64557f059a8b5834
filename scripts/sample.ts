/** npm run sample -- DIR (--help for the options) */
import { runCli } from '../src/cli/run.js';
import { sampleCommand } from '../src/cli/sample_command.js';

await runCli(() => sampleCommand());
