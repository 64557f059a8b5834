/**
 * npm run doctor [-- --json]
 *
 * Reports what the GPU backends (tfjs-node-gpu on CUDA, experimental WebGPU)
 * need and what this machine has, with a fix for every gap.
 * Exit code: 0 when a GPU backend would run, 1 otherwise.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDoctor } from '../src/gpu/doctor.js';
import { systemDoctorProbes } from '../src/gpu/doctor_probes.js';
import { renderJson, renderReport } from '../src/gpu/doctor_render.js';

const USAGE = 'usage: npm run doctor [-- --json]';

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--json');
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (unknown.length > 0) {
    console.error(`unknown argument '${unknown[0]}'; ${USAGE}`);
    return 2;
  }
  const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const report = await runDoctor(systemDoctorProbes(projectRoot));
  console.log(argv.includes('--json') ? renderJson(report) : renderReport(report, process.stdout.columns || 100));
  return report.exitCode;
}

process.exitCode = await main(process.argv.slice(2));
