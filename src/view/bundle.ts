/**
 * The page's script: src/view/page/main.ts and what it imports (tfjs, the
 * GumbelSoftmax layer, the VAE builder) bundled for the browser with
 * esbuild, in memory, once per process. The page sources ship in the
 * package's src/, so the bundle is built the same way from a clone (tsx) and
 * from an installed package (dist/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The page's static files, served and exported under these names. */
export const PAGE_FILES = { html: 'index.html', css: 'style.css', script: 'app.js' } as const;

/** The folder holding index.html, style.css and main.ts: next to this module in src/, or src/view/page from dist/view. */
export function pageDir(): string {
  const candidates = [new URL('./page/', import.meta.url), new URL('../../src/view/page/', import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'main.ts')));
  if (!found) throw new Error(`the view page's sources are missing (looked in ${candidates.join(' and ')}); reinstall catvae`);
  return found;
}

/**
 * tfjs-backend-wasm's binaries the page may load (served under wasm/): the
 * plain and SIMD builds. The threaded build needs a cross-origin-isolated
 * page (SharedArrayBuffer), which a static host cannot be assumed to give.
 */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;

/** Where the installed tfjs-backend-wasm keeps WASM_FILES. */
export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.js'));
}

let cached: Promise<string> | null = null;

/** The bundled page script (ES module, minified). */
export function pageBundle(): Promise<string> {
  cached ??= build().catch((error: unknown) => {
    cached = null;
    throw error;
  });
  return cached;
}

async function build(): Promise<string> {
  // Loaded on demand: only `view` needs esbuild, and other commands should not pay for it.
  const esbuild = await import('esbuild').catch(() => {
    throw new Error(
      'catvae view bundles its page with esbuild, an optional peer: npm install esbuild @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-backend-webgpu',
    );
  });
  const dir = pageDir();
  const result = await esbuild.build({
    entryPoints: [path.join(dir, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
    tsconfig: path.join(dir, 'tsconfig.json'),
  });
  return result.outputFiles[0].text;
}

/** The page's HTML and CSS, read from disk. */
export function pageText(name: typeof PAGE_FILES.html | typeof PAGE_FILES.css): string {
  return fs.readFileSync(path.join(pageDir(), name), 'utf8');
}
