/** Float64 references for the maths tests: plain loops over number arrays, rows of k. */

export function softmaxRow(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((x) => x / s);
}

/** Applies `f` to each row of k values of `a`, concatenating the results. */
export function byRows(a: ArrayLike<number>, k: number, f: (row: number[], base: number) => number[]): number[] {
  const out: number[] = [];
  for (let base = 0; base < a.length; base += k)
    out.push(
      ...f(
        Array.from({ length: k }, (_, j) => a[base + j]),
        base,
      ),
    );
  return out;
}

/** y = softmax((logits + noise) / tau) per row, and the gradient of sum(y dy) + w KL(softmax(logits) || uniform) with respect to the logits. */
export function latentReference(
  logits: ArrayLike<number>,
  noise: ArrayLike<number>,
  dy: ArrayLike<number>,
  k: number,
  tau: number,
  w: number,
) {
  const y = byRows(logits, k, (row, base) => softmaxRow(row.map((l, j) => (l + noise[base + j]) / tau)));
  const grad = byRows(logits, k, (row, base) => {
    const q = softmaxRow(row);
    const logQ = q.map(Math.log);
    const h = q.reduce((p, qj, j) => p + qj * logQ[j], 0);
    const dyy = row.reduce((p, _, j) => p + y[base + j] * dy[base + j], 0);
    return row.map((_, j) => (y[base + j] * (dy[base + j] - dyy)) / tau + w * q[j] * (logQ[j] - h));
  });
  return { y, grad };
}

/** log(1 + e^z), stable. */
export const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

/** Largest |got - want| / max(|want|, floor). */
export function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>, floor: number): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), floor));
  return worst;
}

/** a [m, k] b [k, n], row-major. */
export function matMul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * k + p] * b[p * n + j];
  return out;
}

/** The transpose of a [m, n]. */
export function transpose(a: ArrayLike<number>, m: number, n: number): number[] {
  return Array.from({ length: m * n }, (_, i) => a[(i % m) * n + Math.floor(i / m)]);
}
