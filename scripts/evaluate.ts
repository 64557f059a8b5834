/** npm run evaluate -- DIR (--help for the options) */
import { runCli } from '../src/cli/run.js';
import { evaluateCommand } from '../src/cli/evaluate_command.js';

await runCli(() => evaluateCommand());
