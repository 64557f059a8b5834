/**
 * What `npm run doctor` asks the machine, as an interface (tests pass fakes)
 * and its real implementation. Everything that loads native code (tfjs-node,
 * libtensorflow + CUDA, Dawn) runs in a child process with a time limit: a
 * crash or a hang there must not take the report down with it.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { LibraryProbe } from './cuda_libraries.js';
import type { NvidiaSmiProbe } from './nvidia_smi.js';
import { dlopenLibraries, nvidiaSmi } from './system_probes.js';
import { runCommand } from './run_command.js';
import type { AdapterInfo } from './webgpu_adapter.js';

export interface PackageInfo {
  name: string;
  version: string;
  dir: string;
}

/** What a tfjs-node package leaves on disk after its install script. */
export interface NativeArtifacts {
  /** lib/napi-v*\/tfjs_binding.node */
  addon: string | null;
  /** deps/lib/libtensorflow.so* (where the addon's rpath looks) */
  libtensorflow: string | null;
}

/** Importing a tfjs-node package in a child process. */
export interface NativeLoadResult {
  status: 'loaded' | 'failed' | 'timeout';
  /** The backend's isUsingGpuDevice; null when it could not be read. */
  usingGpu: boolean | null;
  /** First line of the import error. */
  error?: string;
  /** libtensorflow's log (TF_CPP_MIN_LOG_LEVEL=0). */
  stderr: string;
  ms: number;
}

/** Asking Dawn for an adapter in a child process. */
export interface AdapterResult {
  status: 'found' | 'none' | 'failed' | 'timeout';
  info?: AdapterInfo;
  error?: string;
  /** Dawn's own warnings (e.g. "Couldn't load Vulkan: libvulkan.so.1 ..."). */
  stderr: string;
}

export interface DoctorProbes {
  nodeVersion: string;
  platform: string;
  arch: string;
  env: NodeJS.ProcessEnv;
  packageInfo(name: string): PackageInfo | null;
  nativeArtifacts(pkg: PackageInfo): NativeArtifacts;
  libraries: LibraryProbe;
  nvidiaSmi: NvidiaSmiProbe;
  loadNative(pkg: string): Promise<NativeLoadResult>;
  webgpuAdapter(): Promise<AdapterResult>;
}

export const NATIVE_LOAD_TIMEOUT_MS = 15_000;
export const ADAPTER_TIMEOUT_MS = 10_000;

/** The child prints one line behind this marker: tfjs-node may print to stdout too. */
const MARK = '@@catvae-probe ';

const NATIVE_CHILD = (pkg: string) => `
const t0 = Date.now();
try {
  const mod = await import(${JSON.stringify(pkg)});
  // A CommonJS package: its API is the default export unless Node detected the named ones.
  const tf = typeof mod.backend === 'function' ? mod : mod.default;
  const flag = tf.backend().isUsingGpuDevice;
  console.log(${JSON.stringify(MARK)} + JSON.stringify({ ok: true, usingGpu: typeof flag === 'boolean' ? flag : null, ms: Date.now() - t0 }));
} catch (e) {
  console.log(${JSON.stringify(MARK)} + JSON.stringify({ ok: false, error: String(e && e.message || e).split('\\n')[0], ms: Date.now() - t0 }));
}
process.exit(0);`;

const ADAPTER_CHILD = `
try {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
  const i = adapter && adapter.info;
  const info = i ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter } : null;
  console.log(${JSON.stringify(MARK)} + JSON.stringify({ ok: true, info }));
} catch (e) {
  console.log(${JSON.stringify(MARK)} + JSON.stringify({ ok: false, error: String(e && e.message || e).split('\\n')[0] }));
}
process.exit(0);`;

function markedJson<T>(stdout: string): T | null {
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) return null;
  try {
    return JSON.parse(line.slice(MARK.length)) as T;
  } catch {
    return null;
  }
}

function firstMatch(dir: string, pattern: RegExp): string | null {
  try {
    const hit = fs.readdirSync(dir).find((f) => pattern.test(f));
    return hit ? path.join(dir, hit) : null;
  } catch {
    return null;
  }
}

/** The real probes, resolving packages the way code in `projectRoot` would. */
export function systemDoctorProbes(projectRoot: string): DoctorProbes {
  const require = createRequire(path.join(projectRoot, 'package.json'));
  return {
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    env: process.env,
    packageInfo(name) {
      // Walk the lookup paths rather than resolve '<name>/package.json': an "exports" map may hide it.
      for (const dir of require.resolve.paths(name) ?? []) {
        const pkgJson = path.join(dir, name, 'package.json');
        if (!fs.existsSync(pkgJson)) continue;
        try {
          const { version } = JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version?: string };
          return { name, version: version ?? '?', dir: path.dirname(pkgJson) };
        } catch {
          return { name, version: '?', dir: path.dirname(pkgJson) };
        }
      }
      return null;
    },
    nativeArtifacts(pkg) {
      const libDir = path.join(pkg.dir, 'lib');
      const napi = firstMatch(libDir, /^napi-v\d+$/);
      return {
        addon: napi ? firstMatch(napi, /^tfjs_binding\.node$/) : null,
        libtensorflow:
          firstMatch(path.join(pkg.dir, 'deps', 'lib'), /^(libtensorflow\.so|libtensorflow\.\d*\.?dylib|tensorflow\.dll)/) ??
          (napi ? firstMatch(napi, /^(libtensorflow\.so|tensorflow\.dll)/) : null),
      };
    },
    libraries: dlopenLibraries,
    nvidiaSmi,
    async loadNative(pkg) {
      const result = await runCommand(process.execPath, ['--input-type=module', '-e', NATIVE_CHILD(pkg)], {
        timeoutMs: NATIVE_LOAD_TIMEOUT_MS,
        cwd: projectRoot,
        // INFO level: the "Created device ... GPU" line is an INFO line.
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '0' },
      });
      const answer = markedJson<{ ok: boolean; usingGpu?: boolean | null; error?: string; ms: number }>(result.stdout);
      if (result.timedOut) return { status: 'timeout', usingGpu: null, stderr: result.stderr, ms: NATIVE_LOAD_TIMEOUT_MS };
      if (!answer) {
        const why = result.startError ?? `the child exited with code ${result.code} before answering`;
        return { status: 'failed', usingGpu: null, error: why, stderr: result.stderr, ms: 0 };
      }
      return answer.ok
        ? { status: 'loaded', usingGpu: answer.usingGpu ?? null, stderr: result.stderr, ms: answer.ms }
        : { status: 'failed', usingGpu: null, error: answer.error, stderr: result.stderr, ms: answer.ms };
    },
    async webgpuAdapter() {
      const result = await runCommand(process.execPath, ['--input-type=module', '-e', ADAPTER_CHILD], {
        timeoutMs: ADAPTER_TIMEOUT_MS,
        cwd: projectRoot,
      });
      if (result.timedOut) return { status: 'timeout', stderr: result.stderr };
      const answer = markedJson<{ ok: boolean; info?: AdapterInfo | null; error?: string }>(result.stdout);
      if (!answer) return { status: 'failed', error: `the child exited with code ${result.code} before answering`, stderr: result.stderr };
      if (!answer.ok) return { status: 'failed', error: answer.error, stderr: result.stderr };
      return answer.info ? { status: 'found', info: answer.info, stderr: result.stderr } : { status: 'none', stderr: result.stderr };
    },
  };
}
