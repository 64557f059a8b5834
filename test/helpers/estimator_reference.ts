/**
 * Independent float64 references of the estimators' formulas, written from
 * the papers with explicit K x K Jacobian matrices (not the row-sum shortcut
 * the library uses): ReinMax (Liu et al. 2023) and Gumbel-Rao (Paulus et al.
 * 2021). Rows of K values, flat arrays.
 */

export function softmax64(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** J(p) = diag(p) - p p^T as a K x K matrix. */
export function softmaxJacobian(p: number[]): number[][] {
  return p.map((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj));
}

export function matVec(m: number[][], v: number[]): number[] {
  return m.map((row) => row.reduce((acc, x, j) => acc + x * v[j], 0));
}

export function argmax(v: number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

const rowsOf = (flat: number[], k: number) => Array.from({ length: flat.length / k }, (_, r) => flat.slice(r * k, (r + 1) * k));

/** Forward one-hot D = one_hot(argmax(logits + g)), flat. */
export function gumbelMax64(logits: number[], gumbel: number[], k: number): number[] {
  return rowsOf(logits, k).flatMap((l, r) => {
    const i = argmax(l.map((v, j) => v + gumbel[r * k + j]));
    return l.map((_, j) => (j === i ? 1 : 0));
  });
}

/**
 * ReinMax (Liu et al. 2023, Algorithm 2): the gradient of sum(w * D) with
 * respect to the logits, 2 J(pi1)^T w - J(pi0)^T w / 2,
 * pi0 = softmax(logits), pi1 = (softmax(logits / tau) + D) / 2.
 */
export function reinmaxGradient64(logits: number[], gumbel: number[], w: number[], tau: number, k: number): number[] {
  const d = gumbelMax64(logits, gumbel, k);
  return rowsOf(logits, k).flatMap((l, r) => {
    const dr = d.slice(r * k, (r + 1) * k);
    const wr = w.slice(r * k, (r + 1) * k);
    const pi0 = softmax64(l);
    const pi1 = softmax64(l.map((v) => v / tau)).map((p, j) => (p + dr[j]) / 2);
    const a = matVec(softmaxJacobian(pi1), wr);
    const b = matVec(softmaxJacobian(pi0), wr);
    return a.map((v, j) => 2 * v - b[j] / 2);
  });
}

/**
 * Paulus et al. 2021, the conditional Gumbel draw: logits + g given
 * argmax = i, from standard exponentials E = exp(-G) of Gumbel draws G (one
 * row): the winner at log Z - log E_i, the others at
 * -log(E_j / exp(l_j) + E_i / Z), in the paper's plain form.
 */
export function conditionalGumbelRow64(l: number[], i: number, g: number[]): number[] {
  const e = g.map((v) => Math.exp(-v));
  const z = l.reduce((acc, v) => acc + Math.exp(v), 0);
  return l.map((v, j) => (j === i ? Math.log(z) - Math.log(e[i]) : -Math.log(e[j] / Math.exp(v) + e[i] / z)));
}

/**
 * Gumbel-Rao: the gradient of sum(w * D) with respect to the logits,
 * (1 / k) sum_s J(y_s)^T w / tau, y_s = softmax((logits + g_s) / tau), g_s
 * conditional on D, from Gumbel draws [samples, rows, K] (flat).
 */
export function gumbelRaoGradient64(
  logits: number[],
  gumbel: number[],
  e: number[],
  w: number[],
  tau: number,
  k: number,
  samples: number,
): number[] {
  const d = gumbelMax64(logits, gumbel, k);
  const size = logits.length;
  return rowsOf(logits, k).flatMap((l, r) => {
    const i = d.slice(r * k, (r + 1) * k).indexOf(1);
    const wr = w.slice(r * k, (r + 1) * k);
    const total = new Array(k).fill(0);
    for (let s = 0; s < samples; s++) {
      const adjusted = conditionalGumbelRow64(l, i, e.slice(s * size + r * k, s * size + (r + 1) * k));
      const y = softmax64(adjusted.map((v) => v / tau));
      matVec(softmaxJacobian(y), wr).forEach((v, j) => (total[j] += v / tau / samples));
    }
    return total;
  });
}

/**
 * Gapped straight-through (Fan et al. 2022, constant gap): the gradient of
 * sum(w * D) with respect to the logits, J(y)^T w / tau, for the surrogate
 * y = softmax((logits + m1 - m2) / tau) with the paper's two moves, held
 * fixed: m1 raises D's logit to the row maximum, m2 lowers every other
 * logit above (maximum - gap) to it.
 */
export function gappedStraightThroughGradient64(
  logits: number[],
  gumbel: number[],
  w: number[],
  tau: number,
  gap: number,
  k: number,
): number[] {
  const d = gumbelMax64(logits, gumbel, k);
  return rowsOf(logits, k).flatMap((l, r) => {
    const dr = d.slice(r * k, (r + 1) * k);
    const max = Math.max(...l);
    const moved = l.map((v, j) => v + (max - v) * dr[j] - Math.max(0, v - (max - gap)) * (1 - dr[j]));
    const y = softmax64(moved.map((v) => v / tau));
    return matVec(softmaxJacobian(y), w.slice(r * k, (r + 1) * k)).map((v) => v / tau);
  });
}
