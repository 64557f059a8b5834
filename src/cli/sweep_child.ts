/**
 * The process a sweep starts for each point: `sweep_child train|evaluate
 * [flags]`, i.e. that command plus what a child of a sweep needs: the end of
 * stdin, which the sweep holds open, is train's clean stop (as Ctrl-C), so a
 * sweep killed outright does not leave its children training on unattended.
 * SIGTERM needs nothing here: train saves and stops on it itself.
 */
import { evaluateCommand } from './evaluate_command.js';
import { runCli } from './run.js';
import { trainCommand } from './train_command.js';

const [command, ...argv] = process.argv.slice(2);
let stopping = false;
const stopOnce = () => {
  if (stopping) return;
  stopping = true;
  process.kill(process.pid, 'SIGINT');
};
/**
 * The sweep is gone: its pipes with it. A write to a broken stdout or stderr
 * may come before stdin's end is seen, so each stream's error means the same:
 * output is dropped (not an EPIPE crash) while the run saves.
 */
const orphaned = () => stopOnce();
for (const stream of [process.stdout, process.stderr]) stream.on('error', orphaned);
process.stdin.on('end', orphaned);
process.stdin.on('error', orphaned);
process.stdin.resume();

if (command === 'train') await runCli(() => trainCommand(argv));
else if (command === 'evaluate') await runCli(() => evaluateCommand(argv));
else {
  process.stderr.write(`error: sweep_child runs train or evaluate, not ${command}\n`);
  process.exitCode = 2;
}
// Let the process end: the open stdin would keep it alive.
process.stdin.removeAllListeners();
process.stdin.destroy();
