/** npm run bench -- --help */
import { benchCommand } from '../src/cli/bench_command.js';
import { runCli } from '../src/cli/run.js';

await runCli(() => benchCommand());
