/**
 * The `catvae view` HTTP server: a fixed allow-list of paths (the page, its
 * bundle, the run summary, the test digits and the chosen checkpoint's model
 * files), GET and HEAD only, read-only. Anything else is 404, whatever its
 * spelling: request paths are compared whole against the list, never joined
 * onto a folder, so `/../x`, `%2e%2e` or another run's files cannot name a file.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { pageBundle, pageText, PAGE_FILES, WASM_FILES, wasmDir } from './bundle.js';
import type { DigitsJson, ModelFiles, RunSummary } from './run_files.js';

/** Where the page finds its data, relative to itself (the same in a static export). */
export const DATA_FILES = { run: 'run.json', digits: 'digits.json', modelDir: 'model', wasmDir: 'wasm' } as const;

export interface ViewContent {
  model: ModelFiles;
  summary: RunSummary;
  digits: DigitsJson;
}

interface Route {
  type: string;
  body: () => Promise<string | Buffer>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
};
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const typeOf = (name: string) => TYPES[path.extname(name)] ?? 'application/octet-stream';

/** Every path the server answers, mapped to its content. */
export function routes(content: ViewContent): Map<string, Route> {
  const map = new Map<string, Route>();
  const page: Route = { type: TYPES['.html'], body: async () => pageText(PAGE_FILES.html) };
  map.set('/', page);
  map.set(`/${PAGE_FILES.html}`, page);
  map.set(`/${PAGE_FILES.css}`, { type: TYPES['.css'], body: async () => pageText(PAGE_FILES.css) });
  map.set(`/${PAGE_FILES.script}`, { type: TYPES['.js'], body: pageBundle });
  map.set(`/${DATA_FILES.run}`, { type: TYPES['.json'], body: async () => JSON.stringify(content.summary) });
  map.set(`/${DATA_FILES.digits}`, { type: TYPES['.json'], body: async () => JSON.stringify(content.digits) });
  for (const name of WASM_FILES) {
    const file = path.join(wasmDir(), name);
    map.set(`/${DATA_FILES.wasmDir}/${name}`, { type: TYPES['.wasm'], body: () => fs.promises.readFile(file) });
  }
  for (const name of content.model.names) {
    // Read at request time: a training run that saves a new best is seen on reload.
    const file = path.join(content.model.dir, name);
    map.set(`/${DATA_FILES.modelDir}/${name}`, { type: typeOf(name), body: () => fs.promises.readFile(file) });
  }
  return map;
}

/** The hosts a request may name: a page on another origin that resolves to us (DNS rebinding) gets 404. */
function allowedHost(host: string | undefined, bound: string, port: number): boolean {
  if (bound !== '127.0.0.1' && bound !== 'localhost' && bound !== '::1') return true;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}` || host === `[::1]:${port}`;
}

export interface ViewServer {
  url: string;
  port: number;
  close: () => Promise<void>;
}

/** Starts the server on host:port (port 0: a free one) and resolves once it listens. */
export async function startViewServer(content: ViewContent, options: { host?: string; port?: number } = {}): Promise<ViewServer> {
  const host = options.host ?? '127.0.0.1';
  const table = routes(content);
  let port = 0;
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': Buffer.byteLength(body),
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        // The page runs only its own script and talks only to this server ('wasm-unsafe-eval': tfjs's wasm backend).
        'Content-Security-Policy': CSP,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const notFound = () => send(404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    if (!allowedHost(req.headers.host, host, port)) return notFound();
    // The raw path, query dropped, compared as is: no decoding, no normalisation.
    const raw = (req.url ?? '').split('?')[0];
    const route = table.get(raw);
    if (!route) return notFound();
    route.body().then(
      (body) => send(200, route.type, body),
      (error: unknown) => send(500, 'text/plain; charset=utf-8', `${String((error as Error)?.message ?? error).split('\n')[0]}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
