/** npm run doctor -- --help */
import { doctorCommand } from '../src/cli/doctor_command.js';
import { runCli } from '../src/cli/run.js';

await runCli(() => doctorCommand());
