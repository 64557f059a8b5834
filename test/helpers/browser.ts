/**
 * Headless Chromium for the browser tests, driven by playwright-core (which
 * downloads nothing): the system's browser, or CATVAE_CHROMIUM. CI installs
 * Debian's `chromium` (.ci/run); elsewhere the tests skip with a message.
 */
import * as fs from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The Chromium executable, or null when none is installed. */
export function findChromium(): string | null {
  const fromEnv = process.env.CATVAE_CHROMIUM;
  if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : null;
  return CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
}

export const NO_CHROMIUM =
  'no Chromium found (looked for CATVAE_CHROMIUM and /usr/bin/chromium); install it with `apt-get install -y chromium` to run the browser tests';

/** Launch flags: no sandbox (CI runs as root); SwiftShader allowed, so WebGL and WebGPU exist without a GPU. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu', '--disable-dev-shm-usage'];
