/** npm run view -- RUN_DIR [--help] */
import { runCli } from '../src/cli/run.js';
import { viewCommand } from '../src/cli/view_command.js';

await runCli(() => viewCommand());
