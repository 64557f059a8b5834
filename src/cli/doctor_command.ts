/**
 * `catvae doctor` (`npm run doctor`): one report of what the GPU backends
 * (tfjs-node-gpu on CUDA, experimental WebGPU) need and what this machine
 * has, with a fix for every gap. Exit code: 0 when a GPU backend would run,
 * 1 otherwise.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDoctor } from '../gpu/doctor.js';
import { systemDoctorProbes } from '../gpu/doctor_probes.js';
import { renderJson, renderReport } from '../gpu/doctor_render.js';
import { cliParser } from './parser.js';

export async function doctorCommand(argv?: string[]): Promise<number> {
  const args = await cliParser(
    'npm run doctor -- [options]\n\nWhat the GPU backends need and what this machine has, with the fix for each gap.\n' +
      'Exit code 0 when a GPU backend would run, 1 otherwise.',
    argv,
  )
    .options({ json: { type: 'boolean', default: false, describe: 'Print the report as JSON' } })
    .parseAsync();
  // The package root (src/cli/.. /.. or dist/cli/../..): packages are resolved from there.
  const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const report = await runDoctor(systemDoctorProbes(projectRoot));
  process.stdout.write(`${args.json ? renderJson(report) : renderReport(report, process.stdout.columns || 100)}\n`);
  return report.exitCode;
}
