import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useTestBackend } from './helpers/backend.js';
import { loadDataset } from '../src/data/index.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { makeTrainConfig } from '../src/model/config.js';
import { train } from '../src/model/trainer.js';
import { buildReport, type InspectReport } from '../src/inspect/report.js';
import { renderReport } from '../src/inspect/render.js';

await useTestBackend();

const ROOT = path.resolve(import.meta.dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-inspect-'));
const run = path.join(work, 'run');
const config = makeTrainConfig({
  epochs: 2,
  batchSize: 50,
  logEvery: 2,
  model: { latentVars: 6, categories: 4, encoderUnits: [32], decoderUnits: [32] },
});

function inspect(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'inspect.ts'), ...args, '--backend', 'wasm'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** inspect in the background: independent runs overlap (each spends most of its time starting up). */
function inspectAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = ['--import', 'tsx', path.join(ROOT, 'scripts', 'inspect.ts'), ...args, '--backend', 'wasm'];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: ROOT, encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A copy of the run to damage. */
function copyRun(): string {
  const dir = fs.mkdtempSync(path.join(work, 'copy-'));
  fs.cpSync(run, dir, { recursive: true });
  return dir;
}

/** The stderr lines that are not the backend line. */
const errorLines = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('backend:'));

before(async () => {
  const data = await loadDataset({ trainSize: 200, validationSize: 100 });
  await train({ config, runDir: run, data, backend: 'test' });
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('inspect --json holds the saved config, step, history, best and per-tensor statistics', () => {
  const r = inspect([run, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as InspectReport;
  const state = JSON.parse(fs.readFileSync(path.join(run, 'latest', 'state.json'), 'utf8'));
  assert.deepEqual(report.config, state.config);
  assert.deepEqual(report.config.model, config.model);
  assert.equal(report.step, 8);
  assert.equal(report.epoch, 2);
  assert.equal(report.backend, 'test');
  assert.deepEqual(Object.keys(report.versions).sort(), ['catvae', 'node', 'tfjs']);
  assert.equal(report.history.length, 2);
  assert.deepEqual(report.best, state.best);
  assert.deepEqual(
    report.checkpoints.map((c) => [c.role, path.basename(c.dir)]),
    [
      ['latest', 'latest'],
      ['best', 'best'],
    ],
  );
  assert.deepEqual(report.integrity, { ok: true, problems: [] });
  // 784*32+32 + 32*24+24 + 24*32+32 + 32*784+784 trainable, and the sampler's log-temperature.
  assert.equal(report.parameters.trainable, 25120 + 792 + 800 + 25872);
  assert.equal(report.parameters.total, report.parameters.trainable + 1);
  const kernel = report.checkpoints[0].weights.find((w) => w.name === 'encoder_hidden_1/kernel')!;
  assert.deepEqual(kernel.shape, [784, 32]);
  assert.equal(kernel.count, 784 * 32);
  assert.equal(kernel.nan, 0);
  assert.ok(kernel.std! > 0 && kernel.min! < 0 && kernel.max! > 0);
  assert.equal(report.checkpoints[0].manifestBytes, fs.statSync(path.join(run, 'latest', 'weights.bin')).size);
});

test('inspect prints readable sections; a checkpoint directory alone is inspected by itself', () => {
  const r = inspect([run]);
  assert.equal(r.code, 0, r.stderr);
  for (const expected of [
    /^model +N=6 variables x K=4 classes/m,
    /^progress +step 8, 2 epochs done; tau 1\.0000/m,
    /^trained on +backend test; catvae [\d.]+, tfjs 4\.22\.0, node /m,
    /^ +encoder_hidden_1 +784x32 \+ 32 +25,120/m,
    /^ +total +52,585/m,
    /^ +epoch +step +tau +train -ELBO +val -ELBO +img\/s$/m,
    /^ +val -ELBO +[▁▂▃▄▅▆▇█]{2} /m,
    /^best +epoch 2, step 8, val -ELBO [\d.]+ \(latest: epoch 2, step 8, val -ELBO [\d.]+\)/m,
    /^checkpoint latest: .*latest$/m,
    /^checkpoint best: .*best$/m,
    /^integrity ok/m,
  ]) {
    assert.match(r.stdout, expected);
  }
  const one = inspect([path.join(run, 'best'), '--json']);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(
    JSON.parse(one.stdout).checkpoints.map((c: { role: string }) => c.role),
    ['checkpoint'],
  );
});

test('NaN weights: the report names the tensor, then one error line and exit 1', () => {
  const dir = copyRun();
  const weights = path.join(dir, 'latest', 'weights.bin');
  const bytes = fs.readFileSync(weights);
  // decoder_logits/bias is the 8th tensor in the manifest; put NaN in its first value.
  const offset = 4 * (784 * 32 + 32 + 32 * 24 + 24 + 24 * 32 + 32 + 32 * 784);
  bytes.writeFloatLE(NaN, offset);
  fs.writeFileSync(weights, bytes);
  const r = inspect([dir, '--json']);
  assert.equal(r.code, 1, r.stderr);
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^error: .*latest\/weights\.bin: tensor decoder_logits\/bias has 1 NaN of 784 values/);
  const report = JSON.parse(r.stdout) as InspectReport;
  assert.equal(report.integrity.ok, false);
  assert.equal(report.checkpoints[0].weights.find((w) => w.name === 'decoder_logits/bias')!.nan, 1);
  assert.equal(report.checkpoints[1].problems.length, 0, 'best is intact');
});

test('a truncated, missing or absent checkpoint: one clear line, exit 1', async () => {
  const truncated = copyRun();
  const weights = path.join(truncated, 'best', 'weights.bin');
  fs.writeFileSync(weights, fs.readFileSync(weights).subarray(0, 1000));
  const cases: Array<[string, RegExp]> = [
    [truncated, /best\/weights\.bin: truncated \(1000 bytes, model\.json expects \d+\)/],
    [path.join(work, 'nothing'), /nothing: no such directory/],
    [work, /no checkpoint here/],
  ];
  const noModel = copyRun();
  fs.rmSync(path.join(noModel, 'latest', 'model.json'));
  cases.push([noModel, /latest\/model\.json: no such file/]);
  const results = await Promise.all(cases.map(([dir]) => inspectAsync([dir])));
  for (const [i, [dir, message]] of cases.entries()) {
    const r = results[i];
    assert.equal(r.code, 1, `${dir}: ${r.stderr}`);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  }
});

test('the history table keeps its first and last rows when long; the sparkline fits the width', async () => {
  const checkpoint = await loadCheckpoint(run);
  const base = checkpoint.state.history[0];
  checkpoint.state.history = Array.from({ length: 50 }, (_, i) => ({ ...base, epoch: i, step: 4 * (i + 1), val_neg_elbo: 500 - i }));
  const report = await buildReport(run, [{ role: 'latest', checkpoint }]);
  const text = renderReport(report, { historyRows: 8, width: 60 });
  const table = text.slice(text.indexOf('history'), text.indexOf('best'));
  const epochs = [...table.matchAll(/^ +(\d+) +\d+ /gm)].map((m) => Number(m[1]));
  assert.deepEqual(epochs, [1, 2, 45, 46, 47, 48, 49, 50]);
  assert.match(table, /^ +\.\.\.$/m);
  const spark = table.split('\n').find((l) => l.startsWith('  val -ELBO  '))!;
  assert.ok([...spark].length <= 60, spark);
  assert.match(spark, /█[▁▂▃▄▅▆▇█]*▁/);
  assert.match(renderReport(report, { historyRows: 0, width: 100 }), /^ +50 +200 /m);
});
