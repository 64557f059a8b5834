/**
 * Matrix products on tfjs's wasm backend: BatchMatMul and _FusedMatMul
 * overrides that route every float32 product of one matrix pair, transposed
 * or not, with a bias and ReLU or none, to catvae's gemm kernels (gemm.ts:
 * both operands read in place, all threads). What those do not cover (other
 * activations, both operands transposed, a column count not a multiple of 4,
 * batches) goes to tfjs's XNNPACK kernels as below.
 *
 * tfjs-backend-wasm 4.22 runs BatchMatMul and _FusedMatMul through XNNPACK
 * only when neither operand is transposed (and the batch is 1); with
 * transposeA or transposeB it falls back to a scalar loop that runs ~15x
 * slower. The backward pass of every dense layer is two such products
 * (dx = dy W^T, dW = x^T dy). These kernel overrides rewrite a transposed
 * product as an untransposed one with explicit transposes (the wasm Transpose
 * kernel) and hand it to the original kernel, so every caller benefits:
 * tf.matMul, tf.fused.matMul, tfjs-layers' Dense, forward and backward.
 *
 * Which operand to transpose: XNNPACK packs the right-hand operand into its
 * own layout on every call with a new tensor (it caches by tensor id, and
 * training makes new weights every step), and for a batch of 100 that costs
 * as much as the product. So the override may compute a product reversed,
 * (B^T A^T)^T, to make the weight the unpacked left operand; see
 * `untransposing` for the rule. Results equal the original's up to float32
 * summation order.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './backend_like.js';
import { gemmSupports, runGemm } from './gemm.js';
import type { GemmKind } from './gemm_kernels.js';

type KernelConfig = tf.KernelConfig;
type KernelFunc = KernelConfig['kernelFunc'];
type TensorInfo = tf.TensorInfo;
type Backend = Parameters<KernelFunc>[0]['backend'] & { disposeData(dataId: object): boolean };
/** tfjs's BackendWasm, whose heap our own kernels run on. */
type WasmBackendInternals = Backend & WasmBackendLike;

const BACKEND = 'wasm';
/** The kernels we wrap; both take inputs a, b and attrs transposeA, transposeB. */
const KERNELS = [tf.BatchMatMul, tf._FusedMatMul] as const;

/** The original configs, kept to delegate to and to restore. */
const originals = new Map<string, KernelConfig>();

function batchSize(shape: number[]): number {
  return shape.slice(0, -2).reduce((a, b) => a * b, 1);
}

/** Swaps the last two axes with the backend's own Transpose kernel. */
function transposeLastTwo(x: TensorInfo, backend: Backend): TensorInfo {
  const transpose = tf.getKernel(tf.Transpose, BACKEND);
  if (!transpose) throw new Error('the wasm backend has no Transpose kernel');
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
}

/**
 * Relative cost of XNNPACK packing an element of the right-hand operand,
 * against transposing it (measured on tfjs-wasm 4.22: a 784x512 weight packs
 * in ~2.6 ms, transposes in ~0.7 ms).
 */
const PACK = 3.5;

/** How often each right-hand operand has been seen untransposed: XNNPACK keeps its packing per tensor. */
const sightings = new WeakMap<object, number>();

/** For measurements (bench/profile_step.ts --direct): whether untransposed products may be reversed (default true). */
let reverseUntransposed = true;
export function setReverseUntransposed(enabled: boolean): void {
  reverseUntransposed = enabled;
}

/**
 * The bias and activation of a _FusedMatMul act on columns of the result;
 * the reversed product can apply them afterwards only for these.
 */
function epilogueOps(inputs: Record<string, unknown>, attrs: Record<string, unknown> | undefined): number | null {
  const activation = (attrs?.activation as string | undefined) ?? 'linear';
  if (inputs.preluActivationWeights != null || (activation !== 'linear' && activation !== 'relu')) return null;
  return (inputs.bias != null ? 1 : 0) + (activation === 'relu' ? 1 : 0);
}

function runKernel(name: string, inputs: Record<string, TensorInfo>, backend: Backend, attrs = {}): TensorInfo {
  const kernel = tf.getKernel(name, BACKEND);
  if (!kernel) throw new Error(`the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

/**
 * C = op(A) op(B) with op(A) [M,K], op(B) [K,N], computed either directly
 * (transposes made explicit, op(B) packed unless XNNPACK still has it) or
 * reversed, C = (op(B)^T op(A)^T)^T, where the weight is the unpacked left
 * operand and only batch-sized matrices are transposed or packed. The cheaper
 * in elements moved wins: reversed for dx = dy W^T, and for the forward x W
 * of a batch of 100 with a weight the optimizer has just replaced; direct for
 * dW = x^T dy, large batches, and weights that are used again (inference).
 */
function untransposing(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as Backend;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const transposeA = attrs?.transposeA === true;
    const transposeB = attrs?.transposeB === true;
    // Batched products (batch > 1) run tfjs's loop either way: leave them alone.
    if (batchSize(a.shape) !== 1 || batchSize(b.shape) !== 1) return original(args);
    const own = useGemmKernels ? withGemmKernels(args, transposeA, transposeB) : null;
    if (own) return own;
    const [m, k] = transposeA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
    const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const seen = transposeB ? 0 : (sightings.get(b.dataId) ?? 0);
    if (!transposeB) sightings.set(b.dataId, seen + 1);
    const direct = (transposeA ? m * k : 0) + (transposeB ? k * n + PACK * k * n : seen > 0 ? 0 : PACK * k * n);
    const epilogue = epilogueOps(inputs, attrs);
    const reversed =
      epilogue === null ? Infinity : (transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + PACK * m * k + m * n * (1 + epilogue);
    if (!transposeA && !transposeB && (direct <= reversed || !reverseUntransposed)) return original(args);

    const temporaries: TensorInfo[] = [];
    const keep = (x: TensorInfo): TensorInfo => (temporaries.push(x), x);
    const t = (x: TensorInfo): TensorInfo => keep(transposeLastTwo(x, backend));
    const plain = { transposeA: false, transposeB: false };
    try {
      if (direct <= reversed) {
        return original({
          ...args,
          inputs: { ...inputs, a: transposeA ? t(a) : a, b: transposeB ? t(b) : b },
          attrs: { ...attrs, ...plain },
        });
      }
      const left = transposeB ? b : t(b);
      const right = transposeA ? a : t(a);
      const product = keep(
        original({ ...args, inputs: { a: left, b: right }, attrs: { ...attrs, ...plain, activation: 'linear' } }) as TensorInfo,
      );
      let c = transposeLastTwo(product, backend);
      if (inputs.bias != null) c = runKernel(tf.Add, { a: keep(c), b: inputs.bias as TensorInfo }, backend);
      if (attrs?.activation === 'relu') c = runKernel(tf.Relu, { x: keep(c) }, backend);
      return c;
    } finally {
      for (const x of temporaries) backend.disposeData(x.dataId);
    }
  };
}

/** For measurements (bench/profile_step.ts --xnnpack): whether catvae's gemm kernels may run products (default true). */
let useGemmKernels = true;
export function setGemmKernels(enabled: boolean): void {
  useGemmKernels = enabled;
}

/**
 * The product on catvae's own kernels (gemm.ts), which read both operands in
 * place, transposed or not: no packing, no transposes. Null where they do not
 * apply (float32 only, both transposed, a bias that is not one row, an
 * activation other than linear or ReLU, a shape they do not cover).
 */
function withGemmKernels(args: Parameters<KernelFunc>[0], transposeA: boolean, transposeB: boolean): TensorInfo | null {
  const { inputs, attrs } = args;
  const backend = args.backend as WasmBackendInternals;
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const bias = inputs.bias as TensorInfo | undefined;
  if (transposeA && transposeB) return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || epilogueOps(inputs, attrs) === null) return null;
  const kind: GemmKind = transposeA ? 'tn' : transposeB ? 'nt' : 'nn';
  const [m, k] = transposeA ? a.shape.slice(-2).reverse() : a.shape.slice(-2);
  const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  if (bias && (bias.dtype !== 'float32' || bias.shape.reduce((x, y) => x * y, 1) !== n || bias.shape[bias.shape.length - 1] !== n))
    return null;
  if (!gemmSupports(kind, m, n, k)) return null;
  const out = backend.makeOutput([...a.shape.slice(0, -2), m, n], 'float32');
  const at = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const problem = { kind, a: at(a), b: at(b), c: at(out), bias: bias ? at(bias) : 0, m, n, k, relu: attrs?.activation === 'relu' };
  if (runGemm(backend.wasm, problem)) return out;
  backend.disposeData(out.dataId);
  return null;
}

/** Whether the overrides are in place. */
export function matMulKernelsRegistered(): boolean {
  return originals.size > 0;
}

/**
 * Replaces the wasm BatchMatMul and _FusedMatMul kernels with the
 * untransposing versions. Idempotent; needs '@tensorflow/tfjs-backend-wasm'
 * imported (it registers the originals). Works before or after the backend
 * starts: the originals' setup and dispose functions are kept.
 */
export function registerMatMulKernels(): void {
  if (matMulKernelsRegistered()) return;
  for (const name of KERNELS) {
    const original = tf.getKernel(name, BACKEND);
    if (!original) throw new Error(`the wasm backend has no ${name} kernel: import '@tensorflow/tfjs-backend-wasm' first`);
    originals.set(name, original);
    // registerKernel refuses to overwrite silently: unregister first.
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ ...original, kernelFunc: untransposing(original.kernelFunc) });
  }
}

/** Puts tfjs's own kernels back (for tests and comparisons). */
export function unregisterMatMulKernels(): void {
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(original);
  }
  originals.clear();
}
