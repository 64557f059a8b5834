/** Tests run on the wasm backend: the one CI and most users without libtensorflow get. */
import { selectBackend, type BackendSelection } from '../../src/backend.js';

export async function useTestBackend(): Promise<BackendSelection> {
  return selectBackend((process.env.CATVAE_TEST_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm');
}
