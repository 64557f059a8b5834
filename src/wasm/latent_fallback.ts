/**
 * The latent block's row kernels (latent_kernels.ts) as JS loops, for a wasm
 * engine without SIMD: the kernels stay registered and compute the same
 * values on the host, in float64 rounded once to float32.
 */

/** y = softmax((logits + noise) * invTau) over rows of k. */
export function relaxedSoftmaxRows(logits: Float32Array, noise: Float32Array, y: Float32Array, k: number, invTau: number): void {
  const s = new Float64Array(k);
  for (let base = 0; base < logits.length; base += k) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, (s[j] = (logits[base + j] + noise[base + j]) * invTau));
    let sum = 0;
    for (let j = 0; j < k; j++) sum += s[j] = Math.exp(s[j] - max);
    for (let j = 0; j < k; j++) y[base + j] = s[j] / sum;
  }
}

/**
 * out = y (dy - sum_row(dy y)) invTau + klWeight q (log q - sum_row(q log q)),
 * q = softmax(logits), over rows of k.
 */
export function latentGradientRows(
  dy: Float32Array,
  y: Float32Array,
  logits: Float32Array,
  out: Float32Array,
  k: number,
  invTau: number,
  klWeight: number,
): void {
  const logQ = new Float64Array(k);
  for (let base = 0; base < logits.length; base += k) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[base + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[base + j] - max);
    const logSum = Math.log(sum);
    let dyy = 0;
    let entropy = 0;
    for (let j = 0; j < k; j++) {
      logQ[j] = logits[base + j] - max - logSum;
      dyy += dy[base + j] * y[base + j];
      entropy += Math.exp(logQ[j]) * logQ[j];
    }
    for (let j = 0; j < k; j++) {
      const q = Math.exp(logQ[j]);
      out[base + j] = y[base + j] * (dy[base + j] - dyy) * invTau + klWeight * q * (logQ[j] - entropy);
    }
  }
}
