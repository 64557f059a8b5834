/**
 * The whole command line on webgpu, in one process: a short training (two
 * epochs with validation, pictures, histograms and checkpoints), then
 * evaluate, inspect, sample, reconstruct, traverse and codes on its run. Each
 * of them used to read tensors synchronously, which webgpu in Node cannot do.
 * Skipped only where no Vulkan driver is installed (test/helpers/webgpu.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codesCommand } from '../src/cli/codes_command.js';
import { evaluateCommand } from '../src/cli/evaluate_command.js';
import { inspectCommand } from '../src/cli/inspect_command.js';
import { reconstructCommand } from '../src/cli/reconstruct_command.js';
import { sampleCommand } from '../src/cli/sample_command.js';
import { trainCommand } from '../src/cli/train_command.js';
import { traverseCommand } from '../src/cli/traverse_command.js';
import { decodePng } from '../src/image/png.js';
import { useWebGpu } from './helpers/webgpu.js';

const SMALL = ['--latent-vars', '10', '--categories', '10', '--encoder-units', '64', '--decoder-units', '64'];

test('train (2 epochs), evaluate, inspect, sample, reconstruct, traverse and codes all run on webgpu', async (t) => {
  if (!(await useWebGpu(t))) return;
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-webgpu-cli-'));
  const png = (name: string) => path.join(run, name);
  const webgpu = ['--backend', 'webgpu'];
  const train = ['--epochs', '2', '--batch-size', '50', '--train-size', '500', '--validation-size', '100', '--test-size', '100'];
  assert.equal(await trainCommand([...webgpu, ...train, ...SMALL, '--no-progress', '--log-every', '5', '--out', run]), 0, 'train');
  for (const which of ['latest', 'best']) assert.ok(fs.existsSync(path.join(run, which, 'state.json')), `${which} checkpoint`);
  const pictures = fs.readdirSync(path.join(run, 'pictures')).sort();
  assert.deepEqual(pictures, [
    'epoch-001-reconstructions.png',
    'epoch-001-samples.png',
    'epoch-002-reconstructions.png',
    'epoch-002-samples.png',
  ]);
  const samples = decodePng(fs.readFileSync(path.join(run, 'pictures', 'epoch-002-samples.png')));
  assert.ok(
    samples.pixels.some((p) => p > 0),
    'the prior samples are not blank',
  );
  const events = fs.readdirSync(path.join(run, 'logs', 'train'));
  assert.ok(fs.statSync(path.join(run, 'logs', 'train', events[0])).size > 10_000, 'pictures and histograms in the event file');

  const commands: Array<[string, (argv: string[]) => Promise<number>, string[], string | null]> = [
    ['evaluate', evaluateCommand, [run, '--test-size', '100', '--iw-samples', '20'], null],
    ['inspect', inspectCommand, [run], null],
    ['sample', sampleCommand, [run, '--out', png('sample.png')], 'sample.png'],
    ['reconstruct', reconstructCommand, [run, '--out', png('reconstruct.png')], 'reconstruct.png'],
    ['traverse', traverseCommand, [run, '--digits', '2', '--out', png('traverse.png')], 'traverse.png'],
    ['codes', codesCommand, [run, '--test-size', '100', '--out', png('codes.png')], 'codes.png'],
  ];
  for (const [name, command, argv, picture] of commands) {
    assert.equal(await command([...argv, ...webgpu]), 0, name);
    if (picture) assert.ok(decodePng(fs.readFileSync(png(picture))).width > 0, `${name} wrote ${picture}`);
  }
  fs.rmSync(run, { recursive: true, force: true });
});
