/**
 * Issue 16 item 15: the PyTorch peer's set-up search tries torch's threads
 * too and reports the peer at its best; a fake python stands in for torch
 * (which CI does not have), collapsing with 2 torch threads as a 2-core EPYC did.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chooseBlasSetup, describeTrial, peerWarning, runTorch, torchThreadCandidates } from '../bench/pytorch.js';
import type { RunResult } from '../src/bench/run_spec.js';

/** A "python" that answers like pytorch_reference.py: 6,000 img/s on 1 torch thread, 200 on 2, 3,000 with 2 BLAS threads. */
const FAKE = `#!/usr/bin/env node
const a = process.argv.slice(3);
const get = (f) => Number(a[a.indexOf(f) + 1]);
const threads = get('--threads');
const batch = get('--batch');
const blas = Number(process.env.OPENBLAS_NUM_THREADS || 0);
const ips = threads === 1 ? (blas === 1 ? 6000 : 3000) : 200;
console.log(JSON.stringify({ impl: 'pytorch', torch: 'fake', batch, threads, flushDenormal: true,
  blas: { library: 'openblas', coretype: 'Zen', threads: blas, OPENBLAS_CORETYPE: null },
  steps: 10, seconds: 1, msPerStep: (batch * 1000) / ips, imagesPerSecond: ips, finalLoss: 100, peakRssMiB: 50 }));
`;

test('item 15: the peer search tries torch threads 1..cores and picks the fastest; a slow batch 100 is flagged', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catvae-peer-'));
  const python = path.join(dir, 'python');
  fs.writeFileSync(python, FAKE, { mode: 0o755 });
  const options = {
    batch: 100,
    latentVars: 20,
    categories: 10,
    seconds: 1,
    threads: 2,
    images: null,
    flushDenormal: true,
    coretype: '',
    cores: 2,
  };
  const saved = process.env.OPENBLAS_NUM_THREADS;
  delete process.env.OPENBLAS_NUM_THREADS;
  try {
    const { setup, trials } = chooseBlasSetup(python, options);
    assert.deepEqual(
      trials.map((t) => [t.setup.torchThreads, t.setup.threads]),
      [
        [1, 1],
        [2, 1],
        [2, 2],
      ],
    );
    assert.deepEqual(setup, { coretype: null, threads: 1, torchThreads: 1 });
    assert.match(
      describeTrial(trials[1].setup, trials[1].result),
      /batch 100\): 2 torch thread\(s\), OpenBLAS Zen .*1 BLAS thread\(s\): 200 img\/s/,
    );
    // The run uses the chosen torch threads, not the --threads default.
    assert.equal(runTorch(python, options, setup).imagesPerSecond, 6000);
    const fixed = chooseBlasSetup(python, { ...options, fixedTorchThreads: true });
    assert.ok(fixed.trials.every((t) => t.setup.torchThreads === 2));
  } finally {
    if (saved !== undefined) process.env.OPENBLAS_NUM_THREADS = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(torchThreadCandidates(2), [1, 2]);
  assert.deepEqual(torchThreadCandidates(12), [1, 2, 4, 8, 12]);
  const run = (batch: number, imagesPerSecond: number) =>
    ({ impl: 'pytorch', batch, imagesPerSecond, detail: 'torch 2 threads' }) as RunResult;
  assert.match(peerWarning([run(100, 250), run(1000, 6000)])!, /batch 100 at 250 img\/s, far below its 6000 img\/s at batch 1000/);
  assert.equal(peerWarning([run(100, 5000), run(1000, 7000)]), null);
});
