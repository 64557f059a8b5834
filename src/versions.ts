/** Versions recorded in checkpoints and printed by tools: what produced a result. */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';

function catvaeVersion(): string {
  try {
    // src/versions.ts and dist/versions.js both sit one level below package.json.
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export function versions(): Record<string, string> {
  return { catvae: catvaeVersion(), tfjs: tf.version.tfjs, node: process.versions.node };
}
