/** npm run sweep-report -- DIR */
import { runCli } from '../src/cli/run.js';
import { sweepReportCommand } from '../src/cli/sweep_report_command.js';

await runCli(() => sweepReportCommand());
