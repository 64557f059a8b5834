/**
 * `catvae view` in a real browser (headless Chromium through playwright-core):
 * the page loads the checkpoint with tfjs and must agree with Node on the
 * same checkpoint (the code of test digit 0, the traversal decodes); drawing
 * and clicking must change what they should and nothing else. Prints the
 * draw -> reconstruction latency.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import { loadTestDigits } from '../src/cli/picture_commands.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../src/model/checkpoint.js';
import { gumbelNoiseValues } from '../src/layers/gumbel_noise.js';
import { codeIndices, codesOf, encode, traverseCodes } from '../src/model/generate.js';
import { Rng } from '../src/random.js';
import { exportView } from '../src/view/export.js';
import { modelFiles, runSummary, testDigits } from '../src/view/run_files.js';
import { startViewServer, type ViewContent, type ViewServer } from '../src/view/server.js';
import { useTestBackend } from './helpers/backend.js';
import { CHROMIUM_ARGS, findChromium, NO_CHROMIUM } from './helpers/browser.js';
import { trainTinyRun } from './helpers/view_run.js';

const chromium = findChromium();
const skip = chromium ? false : NO_CHROMIUM;
if (!chromium) process.stderr.write(`view browser tests skipped: ${NO_CHROMIUM}\n`);

/** What the page exposes as window.catvaeView (src/view/page/main.ts), the parts read here. */
interface Handle {
  ready: boolean;
  backend: string;
  n: number;
  k: number;
  baseCode: number[];
  code: number[];
  probs: number[];
  recon: number[];
  traversal: number[];
  traverseVar: number;
  sampleSeed: number;
  updates: number;
  tensors: number;
  latencies: number[];
  computeMs: number[];
}
type Snapshot = Omit<Handle, 'ready'>;

let server: ViewServer;
let content: ViewContent;
let browser: Browser;
let page: Page;
let checkpoint: LoadedCheckpoint;
let digit0: Float32Array;
const consoleErrors: string[] = [];

const snapshot = (): Promise<Snapshot> =>
  page.evaluate(async () => {
    const h = (globalThis as unknown as { catvaeView: Handle & { idle: () => Promise<void> } }).catvaeView;
    await h.idle();
    const { ready: _r, ...rest } = h;
    return JSON.parse(JSON.stringify(rest)) as Snapshot;
  });
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

before(async () => {
  if (!chromium) return;
  const run = trainTinyRun();
  const files = modelFiles(run, 'best');
  const summary = runSummary(run, files, 'best');
  content = { model: files, summary, digits: await testDigits(summary, 64) };
  server = await startViewServer(content);
  await useTestBackend();
  checkpoint = await loadCheckpoint(run, 'best');
  digit0 = (await loadTestDigits(checkpoint, undefined, 1)).images;

  const { chromium: launcher } = await import('playwright-core');
  browser = await launcher.launch({ executablePath: chromium, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => (globalThis as unknown as { catvaeView?: Handle }).catvaeView?.ready === true, null, {
    timeout: 60_000,
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (content) fs.rmSync(path.dirname(path.dirname(content.model.dir)), { recursive: true, force: true });
});

test('the page loads the checkpoint with no console errors and names its tfjs backend', { skip }, async () => {
  const s = await snapshot();
  assert.deepEqual(consoleErrors, []);
  assert.ok(['webgpu', 'webgl', 'wasm', 'cpu'].includes(s.backend), s.backend);
  assert.equal(await page.locator('#backend').textContent(), `tfjs backend: ${s.backend}`);
  assert.equal(s.n, checkpoint.model.config.latentVars);
  assert.equal(s.k, checkpoint.model.config.categories);
  // The run panel: curves and code usage are drawn, with labelled axes.
  assert.match((await page.locator('#curves').textContent()) ?? '', /step.*-ELBO \(nats per image\)/s);
  assert.match((await page.locator('#usage').textContent()) ?? '', /variable.*perplexity/s);
  assert.equal(await page.locator('#prior canvas').count(), 16);
});

test("the page's code, q(z|x) and sampled codes for test digit 0 equal Node's on the same checkpoint", { skip }, async () => {
  await page.evaluate(() => (globalThis as unknown as { catvaeView: { pickDigit: (i: number) => Promise<void> } }).catvaeView.pickDigit(0));
  const s = await snapshot();
  const { latentVars: n, categories: k } = checkpoint.model.config;
  const x = tf.tensor2d(digit0, [1, digit0.length]);
  const logits = encode(checkpoint.model, x);
  const code = await codeIndices(codesOf(logits, 'argmax'));
  const probs = tf.tidy(() => tf.softmax(logits).dataSync());
  assert.deepEqual(s.baseCode, Array.from(code), 'argmax code of test digit 0');
  assert.deepEqual(s.code, s.baseCode);
  assert.ok(maxAbsDiff(s.probs, probs) < 1e-4, `q(z|x) differs by ${maxAbsDiff(s.probs, probs)}`);
  assert.equal(s.probs.length, n * k);

  // Sample mode: an exact sample of q by Gumbel-max, with the page's seeded noise; Node draws the same one.
  const nodeLogits = logits.dataSync();
  const gumbelMax = (seed: number) => {
    const noise = gumbelNoiseValues(n * k, new Rng(seed, 1));
    return Array.from({ length: n }, (_, v) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (nodeLogits[v * k + c] + noise[v * k + c] > nodeLogits[v * k + best] + noise[v * k + best]) best = c;
      return best;
    });
  };
  try {
    await page.locator('input[name=mode][value=sample]').check();
    const sampled = await snapshot();
    assert.deepEqual(sampled.baseCode, gumbelMax(sampled.sampleSeed));
    assert.notDeepEqual(sampled.baseCode, s.baseCode, 'a sample of q differs from its mode somewhere');
    await page.locator('#resample').click();
    const resampled = await snapshot();
    assert.equal(resampled.sampleSeed, sampled.sampleSeed + 1);
    assert.deepEqual(resampled.baseCode, gumbelMax(resampled.sampleSeed));
  } finally {
    await page.locator('input[name=mode][value=argmax]').check();
  }
  assert.deepEqual((await snapshot()).baseCode, s.baseCode);
  tf.dispose([x, logits]);
});

test("the traversal decodes equal Node's", { skip }, async () => {
  const { latentVars: n, categories: k, inputDim: d } = checkpoint.model.config;
  const x = tf.tensor2d(digit0, [1, d]);
  const all = await traverseCodes(checkpoint.model, x);
  const node = all.dataSync();
  tf.dispose([x, all]);
  for (const v of [0, n - 1]) {
    await page.selectOption('#traverse-var', String(v));
    const s = await snapshot();
    assert.equal(s.traverseVar, v);
    const expected = node.subarray(v * k * d, (v + 1) * k * d);
    const diff = maxAbsDiff(s.traversal, expected);
    assert.ok(diff < 1e-4, `variable ${v}: traversal differs from Node's by ${diff}`);
  }
  assert.equal(await page.locator('#traverse canvas').count(), k);
});

test('clicking a cell changes that variable, and only it; reset restores the code', { skip }, async () => {
  const before = await snapshot();
  const v = 3;
  const c = (before.code[v] + 1) % before.k;
  await page.locator(`#grid .cell[data-v="${v}"][data-c="${c}"]`).click();
  const edited = await snapshot();
  const changed = edited.code.map((cls, i) => (cls !== before.code[i] ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(changed, [v]);
  assert.equal(edited.code[v], c);
  assert.deepEqual(edited.baseCode, before.baseCode, "the encoder's code is unchanged");
  assert.ok(maxAbsDiff(edited.recon, before.recon) > 1e-3, 'the reconstruction changed');
  assert.equal(await page.locator('#grid .cell.edited').count(), 1);
  await page.locator('#reset').click();
  const reset = await snapshot();
  assert.deepEqual(reset.code, before.code);
  assert.ok(maxAbsDiff(reset.recon, before.recon) < 1e-6);
});

test('drawing a stroke changes the code grid and the reconstruction, live (latency printed)', { skip }, async (t) => {
  await page.locator('#clear').click();
  const blank = await snapshot();
  const gridBefore = await page.locator('#grid').innerHTML();
  const box = (await page.locator('#pad').boundingBox())!;
  const updatesBefore = blank.updates;
  const latenciesBefore = blank.latencies.length;
  // A "7": across the top, then down to the bottom left.
  const points: [number, number][] = [];
  for (let i = 0; i <= 20; i++) points.push([0.25 + 0.5 * (i / 20), 0.25]);
  for (let i = 1; i <= 30; i++) points.push([0.75 - 0.3 * (i / 30), 0.25 + 0.55 * (i / 30)]);
  await page.mouse.move(box.x + points[0][0] * box.width, box.y + points[0][1] * box.height);
  await page.mouse.down();
  for (const [px, py] of points) await page.mouse.move(box.x + px * box.width, box.y + py * box.height);
  await page.mouse.up();
  const drawn = await snapshot();
  assert.ok(drawn.updates > updatesBefore + 5, `only ${drawn.updates - updatesBefore} updates during the stroke`);
  assert.notDeepEqual(drawn.probs, blank.probs, 'q(z|x) changed');
  assert.ok(maxAbsDiff(drawn.recon, blank.recon) > 0.05, 'the reconstruction changed');
  assert.notEqual(await page.locator('#grid').innerHTML(), gridBefore, 'the grid shows it');
  const latencies = drawn.latencies.slice(latenciesBefore);
  const compute = drawn.computeMs.slice(latenciesBefore);
  const line =
    `draw -> reconstruction on tfjs-${drawn.backend} in headless Chromium: median ${median(latencies).toFixed(1)} ms, ` +
    `max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length} updates (compute alone: median ${median(compute).toFixed(1)} ms)`;
  t.diagnostic(line);
  assert.ok(median(latencies) < 50, line);
  // Every update disposes what it made: a second stroke leaves the tensor count where the first left it.
  await page.mouse.move(box.x + 0.3 * box.width, box.y + 0.6 * box.height);
  await page.mouse.down();
  await page.mouse.move(box.x + 0.6 * box.width, box.y + 0.6 * box.height, { steps: 10 });
  await page.mouse.up();
  const again = await snapshot();
  assert.ok(again.updates > drawn.updates);
  assert.equal(again.tensors, drawn.tensors, 'tensors leaked between updates');
  assert.deepEqual(consoleErrors, []);
});

test('the browser cannot fetch outside the allow-list: /../package.json and /%2e%2e/package.json are 404', { skip }, async () => {
  for (const p of ['/../package.json', '/%2e%2e/package.json', '/model/state.json']) {
    const status = await page.evaluate(async (url) => (await fetch(url)).status, p);
    assert.equal(status, 404, p);
  }
  const cors = await page.request.get(`${server.url}model/model.json`, { headers: { Origin: 'http://evil.example' } });
  assert.equal(cors.headers()['access-control-allow-origin'], undefined);
});

test('the static export works from a plain static server, computes the same code, and takes touch strokes', { skip }, async () => {
  const out = path.join(path.dirname(path.dirname(content.model.dir)), 'site');
  await exportView(content, out);
  // The simplest static host: a file per path under the folder, nothing else.
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
  const site = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '') || 'index.html';
    const file = path.join(out, rel);
    if (!file.startsWith(out + path.sep) || !fs.existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const context = await browser.newContext({ hasTouch: true, viewport: { width: 1280, height: 900 } });
  const other = await context.newPage();
  try {
    await other.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
    await other.waitForFunction(() => (globalThis as unknown as { catvaeView?: Handle }).catvaeView?.ready === true, null, {
      timeout: 60_000,
    });
    const code = await other.evaluate(() => (globalThis as unknown as { catvaeView: Handle }).catvaeView.baseCode);
    const x = tf.tensor2d(digit0, [1, digit0.length]);
    const codes = tf.tidy(() => codesOf(encode(checkpoint.model, x), 'argmax'));
    const node = Array.from(await codeIndices(codes));
    tf.dispose([x, codes]);
    assert.deepEqual(code, node);

    // A finger stroke (real touch events through the DevTools protocol) draws too.
    const before = await other.evaluate(async () => {
      const h = (globalThis as unknown as { catvaeView: Handle & { idle: () => Promise<void> } }).catvaeView;
      await h.idle();
      return { updates: h.updates, recon: h.recon };
    });
    const box = (await other.locator('#pad').boundingBox())!;
    const cdp = await context.newCDPSession(other);
    const at = (f: number) => [{ x: box.x + box.width * (0.2 + 0.6 * f), y: box.y + box.height * 0.7 }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0) });
    for (let i = 1; i <= 12; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(i / 12) });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    const after = await other.evaluate(async () => {
      const h = (globalThis as unknown as { catvaeView: Handle & { idle: () => Promise<void> } }).catvaeView;
      await h.idle();
      return { updates: h.updates, recon: h.recon };
    });
    assert.ok(after.updates > before.updates + 3, `touch: ${after.updates - before.updates} updates`);
    assert.ok(maxAbsDiff(after.recon, before.recon) > 0.01, 'touch: the reconstruction changed');
  } finally {
    await context.close();
    site.closeAllConnections();
    await new Promise((resolve) => site.close(resolve));
  }
});

test("every tfjs backend of the page computes Node's code and q(z|x) for test digit 0", { skip }, async (t) => {
  const { latentVars: n, categories: k, inputDim: d } = checkpoint.model.config;
  const x = tf.tensor2d(digit0, [1, d]);
  const logits = encode(checkpoint.model, x);
  const code = Array.from(await codeIndices(codesOf(logits, 'argmax')));
  const probs = tf.tidy(() => tf.softmax(logits).dataSync());
  tf.dispose([x, logits]);
  for (const backend of ['webgpu', 'webgl', 'cpu']) {
    const other = await browser.newPage();
    const errors: string[] = [];
    other.on('pageerror', (e) => errors.push(e.message));
    try {
      await other.goto(`${server.url}?backend=${backend}`);
      await other.waitForFunction(() => (globalThis as unknown as { catvaeView?: Handle }).catvaeView?.ready === true, null, {
        timeout: 60_000,
      });
      const s = await other.evaluate(() => {
        const h = (globalThis as unknown as { catvaeView: Handle }).catvaeView;
        return { backend: h.backend, code: h.baseCode, probs: h.probs };
      });
      assert.deepEqual(errors, []);
      if (s.backend !== backend) {
        t.diagnostic(`${backend}: not available in this Chromium (the page ran on ${s.backend})`);
        continue;
      }
      assert.deepEqual(s.code, code, `${backend}: code`);
      assert.equal(s.probs.length, n * k);
      assert.ok(maxAbsDiff(s.probs, probs) < 1e-4, `${backend}: q(z|x) differs by ${maxAbsDiff(s.probs, probs)}`);
    } finally {
      await other.close();
    }
  }
});
