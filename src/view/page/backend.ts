/**
 * The page's tfjs backend. `?backend=webgpu|webgl|wasm|cpu` asks for one; by
 * default WebGL runs on a real GPU, and where WebGL is software-rendered
 * (SwiftShader, llvmpipe) or absent the wasm backend runs instead: for a
 * batch-of-one MLP, a software GPU is slower than plain CPU code.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Registers 'webgpu' for ?backend=webgpu; on a GPU the default stays WebGL, which more browsers have.
import '@tensorflow/tfjs-backend-webgpu';

// The binaries the server (or a static export) holds under wasm/, next to the page.
setWasmPaths({
  'tfjs-backend-wasm.wasm': 'wasm/tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm': 'wasm/tfjs-backend-wasm-simd.wasm',
  // Chosen only on cross-origin-isolated pages, which the viewer does not ask for; the SIMD build stands in.
  'tfjs-backend-wasm-threaded-simd.wasm': 'wasm/tfjs-backend-wasm-simd.wasm',
});

/** The WebGL renderer's name, or null without WebGL. */
export function webglRenderer(): string | null {
  const gl = document.createElement('canvas').getContext('webgl');
  if (!gl) return null;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
}

export interface BackendChoice {
  name: string;
  why: string;
}

/** Sets the backend (asked for, or the default above) and says which one runs and why. */
export async function chooseBackend(wanted: string | null): Promise<BackendChoice> {
  let why: string;
  if (wanted) {
    why = (await tf.setBackend(wanted)) ? 'asked for with ?backend=' : `?backend=${wanted} is not available here`;
  } else {
    const renderer = webglRenderer();
    const software = renderer === null || /swiftshader|llvmpipe|lavapipe|software/i.test(renderer);
    const first = software ? 'wasm' : 'webgl';
    why = renderer === null ? 'no WebGL here' : software ? `WebGL is software-rendered (${renderer})` : `WebGL on ${renderer}`;
    if (!(await tf.setBackend(first))) why += `; ${first} failed to start`;
  }
  await tf.ready();
  return { name: tf.getBackend(), why };
}
