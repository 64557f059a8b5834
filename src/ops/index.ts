/**
 * catvae's named ops: each a tfjs kernel name with a plain-tfjs
 * implementation that runs on every backend; backend plug-ins (src/wasm)
 * register faster kernels under the same names.
 */
export { hasKernel, runOp } from './dispatch.js';
export {
  relaxedSoftmax,
  latentGradient,
  reluGradient,
  bernoulliGradient,
  RELAXED_SOFTMAX_KERNEL,
  LATENT_GRADIENT_KERNEL,
  RELU_GRADIENT_KERNEL,
  BERNOULLI_GRADIENT_KERNEL,
} from './step_ops.js';
export {
  gumbelFromUniform,
  sampleGumbel,
  openUniformFloat32,
  counterGumbel,
  counterUniform,
  GUMBEL_NOISE_KERNEL,
  COUNTER_GUMBEL_KERNEL,
} from './gumbel_noise.js';
export type { CounterNoiseAttrs } from './gumbel_noise.js';
export { philox4x32, philoxKey, philoxUniforms, philoxWords } from './philox.js';
export type { PhiloxKey } from './philox.js';
export { gumbelRaoGradient, GUMBEL_RAO_GRADIENT_KERNEL } from './gumbel_rao.js';
export { oneHotArgmaxLast, ONE_HOT_ARGMAX_KERNEL } from './one_hot_argmax.js';
export { sparseInputDense, sparseInputKernelGrad, SPARSE_DENSE_KERNEL, SPARSE_DENSE_GRAD_KERNEL } from './sparse_dense.js';
export { FusedAdamOptimizer, fusedAdam, adamUpdate, registerAdamCpuKernel, ADAM_KERNEL } from './adam.js';
export type { AdamAttrs, AdamInputs } from './adam.js';
