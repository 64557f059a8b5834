/**
 * The commands of the `catvae` bin, by name. Each one is a module exporting
 * `xxxCommand(argv?: string[]): Promise<number>` (argv without the command's
 * name); it is imported only when run (a command does not load the others).
 * A new command is one line here.
 */
export interface CatvaeCommand {
  name: string;
  describe: string;
  run(argv: string[]): Promise<number>;
}

type CommandFn = (argv?: string[]) => Promise<number>;
const lazy =
  (load: () => Promise<CommandFn>) =>
  async (argv: string[]): Promise<number> =>
    (await load())(argv);

// prettier-ignore
export const COMMANDS: readonly CatvaeCommand[] = [
  { name: 'train', describe: 'Train a categorical VAE on MNIST', run: lazy(() => import('./train_command.js').then((m) => m.trainCommand)) },
  { name: 'evaluate', describe: 'Test -ELBO and importance-weighted bound of a checkpoint', run: lazy(() => import('./evaluate_command.js').then((m) => m.evaluateCommand)) },
  { name: 'inspect', describe: 'What a checkpoint holds: config, history, weights, code usage', run: lazy(() => import('./inspect_command.js').then((m) => m.inspectCommand)) },
  { name: 'sample', describe: 'Images decoded from codes drawn from the prior', run: lazy(() => import('./sample_command.js').then((m) => m.sampleCommand)) },
  { name: 'reconstruct', describe: 'Test digits next to their reconstructions', run: lazy(() => import('./reconstruct_command.js').then((m) => m.reconstructCommand)) },
  { name: 'traverse', describe: 'Each latent variable stepped through its classes', run: lazy(() => import('./traverse_command.js').then((m) => m.traverseCommand)) },
  { name: 'codes', describe: 'The codes of test digits, and how the classes are used', run: lazy(() => import('./codes_command.js').then((m) => m.codesCommand)) },
  { name: 'bench', describe: 'Training throughput per backend (and PyTorch, from a clone)', run: lazy(() => import('./bench_command.js').then((m) => m.benchCommand)) },
  { name: 'sweep', describe: 'A grid of training runs in parallel, resumable and shardable', run: lazy(() => import('./sweep_command.js').then((m) => m.sweepCommand)) },
  { name: 'sweep-report', describe: "One results table (Markdown, CSV, JSON, curves) over a sweep's runs", run: lazy(() => import('./sweep_report_command.js').then((m) => m.sweepReportCommand)) },
  { name: 'view', describe: "Explore a run's discrete codes in the browser", run: lazy(() => import('./view_command.js').then((m) => m.viewCommand)) },
  { name: 'doctor', describe: 'What the GPU backends need and what this machine has', run: lazy(() => import('./doctor_command.js').then((m) => m.doctorCommand)) },
];
