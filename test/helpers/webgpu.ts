/**
 * The webgpu tests' gate: webgpu (Dawn + tfjs-backend-webgpu, devDependencies)
 * on the first adapter Dawn finds. Skipped only where no Vulkan driver is
 * installed at all; a machine with one (lavapipe in CI) must run them, so
 * there an unavailable backend fails the test instead of skipping it.
 */
import * as fs from 'node:fs';
import type { TestContext } from 'node:test';
import { BackendUnavailable, selectBackend } from '../../src/backend.js';

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];

function vulkanDrivers(): string[] {
  const env = process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES;
  if (env) return env.split(':').filter((f) => fs.existsSync(f));
  return ICD_DIRS.flatMap((dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : []));
}

/** Makes webgpu the current backend and returns true, or skips the test (no Vulkan driver) and returns false. */
export async function useWebGpu(t: TestContext): Promise<boolean> {
  try {
    await selectBackend('webgpu');
    return true;
  } catch (error) {
    if (!(error instanceof BackendUnavailable)) throw error;
    const drivers = vulkanDrivers();
    if (drivers.length > 0)
      throw new Error(`webgpu unavailable although Vulkan drivers are installed (${drivers.join(', ')}): ${error.message}`);
    t.skip(`webgpu unavailable (no Vulkan driver; .ci/vulkan.sh installs lavapipe): ${error.message}`);
    return false;
  }
}
