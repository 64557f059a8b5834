/**
 * A dense layer whose input is mostly zeros, such as binarised MNIST (about
 * 13% ones): y = act(x W + b) and its weight gradient x^T dy. As named ops:
 * a backend plug-in may register kernels that add rows of W (of dy) only
 * where x is non-zero (src/wasm/sparse_dense.ts); elsewhere they are the
 * ordinary dense ops, which give the same result.
 */
import * as tf from '@tensorflow/tfjs';
import { runOp } from './dispatch.js';

export const SPARSE_DENSE_KERNEL = 'CatvaeSparseDense';
export const SPARSE_DENSE_GRAD_KERNEL = 'CatvaeSparseDenseGrad';

/** act(x W + bias) for x [rows, k] with mostly zero entries. */
export function sparseInputDense(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D, activation: 'relu' | 'linear'): tf.Tensor2D {
  return runOp(SPARSE_DENSE_KERNEL, { x, w, bias }, { activation }, () => tf.fused.matMul({ a: x, b: w, bias, activation }) as tf.Tensor2D);
}

/** x^T dy (the weight gradient of sparseInputDense). */
export function sparseInputKernelGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  return runOp(SPARSE_DENSE_GRAD_KERNEL, { x, dy }, {}, () => tf.matMul(x, dy, true, false));
}
