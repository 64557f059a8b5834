/**
 * `catvae view` without a browser: the server's allow-list (traversal in any
 * spelling, other runs' files and the checkpoint's other files are 404), its
 * headers, the static export, and the CLI's one-line errors.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportView } from '../src/view/export.js';
import { modelFiles, packBits, runSummary, testDigits } from '../src/view/run_files.js';
import { startViewServer, type ViewContent, type ViewServer } from '../src/view/server.js';
import { runScript, trainTinyRun } from './helpers/view_run.js';

let run: string;
let content: ViewContent;
let server: ViewServer;

before(async () => {
  run = trainTinyRun();
  const model = modelFiles(run, 'best');
  const summary = runSummary(run, model, 'best');
  content = { model, summary, digits: await testDigits(summary, 40) };
  server = await startViewServer(content);
});
after(async () => {
  await server?.close();
  if (run) fs.rmSync(path.dirname(run), { recursive: true, force: true });
});

/** A GET with the path sent exactly as written (no client-side normalisation). */
function get(rawPath: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: rawPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the page, its bundle, the run, the digits and the model files are served; binds 127.0.0.1', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const expect: [string, RegExp][] = [
    ['/', /text\/html/],
    ['/index.html', /text\/html/],
    ['/style.css', /text\/css/],
    ['/app.js', /text\/javascript/],
    ['/run.json', /application\/json/],
    ['/digits.json', /application\/json/],
    ['/model/model.json', /application\/json/],
    ['/model/weights.bin', /octet-stream/],
    ['/wasm/tfjs-backend-wasm-simd.wasm', /application\/wasm/],
  ];
  for (const [p, type] of expect) {
    const r = await get(p);
    assert.equal(r.status, 200, p);
    assert.match(String(r.headers['content-type']), type, p);
    assert.equal(r.headers['access-control-allow-origin'], undefined, `${p}: no CORS header`);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  }
  assert.match(String((await get('/')).headers['content-security-policy']), /default-src 'self'; script-src 'self' 'wasm-unsafe-eval'/);
  const weights = await get('/model/weights.bin');
  assert.deepEqual(weights.body, fs.readFileSync(path.join(run, 'best', 'weights.bin')));
  const summary = JSON.parse((await get('/run.json')).body.toString());
  assert.equal(summary.step, 30);
  assert.equal(summary.checkpoint, 'best');
});

test('anything outside the allow-list is 404, whatever its spelling', async () => {
  const other = path.join(path.dirname(run), 'other');
  fs.cpSync(run, other, { recursive: true });
  const refused = [
    '/../package.json',
    '/%2e%2e/package.json',
    '/%2E%2E/%2E%2E/package.json',
    '/..%2fpackage.json',
    '/model/../../package.json',
    '/model/%2e%2e/state.json',
    '/model/state.json',
    '/model/optimizer.bin',
    '/model/weights.bin/',
    '/model//weights.bin',
    '/model/./model.json',
    '//etc/passwd',
    '/../other/best/model.json',
    `/${path.relative('/', other)}/best/weights.bin`,
    '/package.json',
    '/src/view/server.ts',
    '/wasm/tfjs-backend-wasm-threaded-simd.wasm',
    'http://example.com/app.js',
  ];
  for (const p of refused) assert.equal((await get(p)).status, 404, p);
  assert.equal((await get('/app.js?v=1')).status, 200, 'a query string is ignored');
  assert.equal((await get('/', {}, 'POST')).status, 405);
  assert.equal((await get('/model/weights.bin', {}, 'DELETE')).status, 405);
  // Another site's name pointing at 127.0.0.1 (DNS rebinding) gets nothing.
  assert.equal((await get('/model/weights.bin', { host: 'evil.example:80' })).status, 404);
  assert.equal((await get('/', { host: `localhost:${server.port}` })).status, 200);
});

test('--which picks the checkpoint; best falls back to latest in a run without one', () => {
  assert.equal(path.basename(modelFiles(run, 'latest').dir), 'latest');
  assert.equal(path.basename(modelFiles(run, 'best').dir), 'best');
  const noBest = path.join(path.dirname(run), 'no-best');
  fs.cpSync(path.join(run, 'latest'), path.join(noBest, 'latest'), { recursive: true });
  const files = modelFiles(noBest, 'best');
  assert.equal(path.basename(files.dir), 'latest');
  assert.equal(runSummary(noBest, files, 'best').which, 'latest', 'the page says which checkpoint it shows');
});

test('digits are the fixed-binarised test images, 8 pixels a byte', () => {
  assert.equal(content.digits.count, 40);
  assert.equal(content.digits.labels[0], 7, 'MNIST test digit 0 is a 7');
  const bits = Buffer.from(content.digits.bits, 'base64');
  assert.equal(bits.length, (40 * 784) / 8);
  assert.deepEqual([...packBits(Float32Array.from([1, 0, 0, 0, 0, 0, 0, 1, 1]))], [0x81, 0x80]);
});

test('--export writes a self-contained folder, atomically, and refuses a non-empty one', async () => {
  const out = path.join(fs.mkdtempSync(path.join(path.dirname(run), 'export-')), 'site');
  const files = await exportView(content, out);
  const names = files.map((f) => path.relative(out, f)).sort();
  assert.deepEqual(names, [
    'app.js',
    'digits.json',
    'index.html',
    'model/model.json',
    'model/weights.bin',
    'run.json',
    'style.css',
    'wasm/tfjs-backend-wasm-simd.wasm',
    'wasm/tfjs-backend-wasm.wasm',
  ]);
  assert.deepEqual(fs.readFileSync(path.join(out, 'model', 'weights.bin')), fs.readFileSync(path.join(run, 'best', 'weights.bin')));
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ['site'], 'no temporary folder left behind');
  const again = runScript('view.ts', [run, '--export', out]);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /^error: .*site already exists and is not an empty folder; choose a new --export folder\n$/);
});

test('the CLI: a bad run directory or port is one line and exit 2', () => {
  const missing = runScript('view.ts', [path.join(os.tmpdir(), 'no-such-catvae-run')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error: .*no-such-catvae-run: no such directory/);
  assert.ok(!missing.stderr.includes('    at '), 'no stack trace');
  const port = runScript('view.ts', [run, '--port', '70000']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port must be a whole number from 0 to 65535, got 70000/);
});
