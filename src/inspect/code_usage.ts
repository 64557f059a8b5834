/**
 * How a trained encoder uses its codes: for each categorical variable, how
 * often each of its K classes is the argmax over a set of images, how many
 * classes that amounts to (perplexity), and how much the variable tells about
 * the digit's label (mutual information). All in nats (natural logarithms),
 * like the -ELBO everywhere else in catvae.
 */

/** Counts of argmax classes: counts[v][c] = images whose variable v takes class c. */
export type UsageCounts = number[][];

function checkClass(value: number, k: number, what: string): void {
  if (!(Number.isInteger(value) && value >= 0 && value < k)) throw new RangeError(`${what} ${value} is outside 0..${k - 1}`);
}

/**
 * Usage counts from class indices laid out image by image, N per image (what
 * codeIndices returns for codes [b, N, K]).
 */
export function usageCounts(indices: ArrayLike<number>, n: number, k: number): UsageCounts {
  if (indices.length % n !== 0)
    throw new RangeError(`usageCounts: ${indices.length} indices are not a whole number of images of ${n} variables`);
  const counts = Array.from({ length: n }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < indices.length; i++) {
    checkClass(indices[i], k, 'class');
    counts[i % n][indices[i]]++;
  }
  return counts;
}

/**
 * Joint counts of (class of variable v, label) over the images:
 * joint[v][c][y]. `labels` has one entry per image.
 */
export function jointCounts(indices: ArrayLike<number>, labels: ArrayLike<number>, n: number, k: number, numLabels: number): number[][][] {
  if (indices.length !== labels.length * n) {
    throw new RangeError(`jointCounts: ${indices.length} indices for ${labels.length} labels of ${n} variables each`);
  }
  const joint = Array.from({ length: n }, () => Array.from({ length: k }, () => new Array<number>(numLabels).fill(0)));
  for (let i = 0; i < labels.length; i++) {
    checkClass(labels[i], numLabels, 'label');
    for (let v = 0; v < n; v++) {
      const c = indices[i * n + v];
      checkClass(c, k, 'class');
      joint[v][c][labels[i]]++;
    }
  }
  return joint;
}

/** Shannon entropy in nats of a distribution given by non-negative counts (0 log 0 = 0). */
export function entropy(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total <= 0) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      const p = counts[i] / total;
      h -= p * Math.log(p);
    }
  }
  return h;
}

/** exp(entropy): 1 when one class takes every image, K when all K are used equally. */
export function perplexity(counts: ArrayLike<number>): number {
  return Math.exp(entropy(counts));
}

/**
 * Mutual information in nats between two discrete variables from their joint
 * counts joint[a][b]: H(A) + H(B) - H(A, B). The plug-in estimate, which is
 * biased upwards by about (|A|-1)(|B|-1) / (2 * total) nats.
 */
export function mutualInformation(joint: readonly (readonly number[])[]): number {
  const rows = joint.map((row) => row.reduce((s, c) => s + c, 0));
  const cols = joint[0]?.map((_, b) => joint.reduce((s, row) => s + row[b], 0)) ?? [];
  const mi = entropy(rows) + entropy(cols) - entropy(joint.flat());
  // Rounding can leave a tiny negative value for independent variables.
  return Math.max(0, mi);
}

/** Per-variable summary of code usage. */
export interface VariableUsage {
  variable: number;
  /** Fraction of images whose argmax is each class. */
  usage: number[];
  perplexity: number;
  /** Classes that are the argmax of at least one image. */
  used: number;
  /** I(variable; label) in nats; null without labels. */
  mutualInformation: number | null;
}

export interface CodeUsageReport {
  images: number;
  latentVars: number;
  categories: number;
  variables: VariableUsage[];
  /** H(label) in nats: the most mutual information any variable can have with the label. */
  labelEntropy: number | null;
}

/**
 * The whole report from argmax class indices [images * N] and, optionally,
 * the images' labels.
 */
export function codeUsageReport(
  indices: ArrayLike<number>,
  n: number,
  k: number,
  labels?: { values: ArrayLike<number>; classes: number },
): CodeUsageReport {
  const counts = usageCounts(indices, n, k);
  const images = indices.length / n;
  const joint = labels ? jointCounts(indices, labels.values, n, k, labels.classes) : null;
  let labelEntropy: number | null = null;
  if (labels) {
    const labelCounts = new Array<number>(labels.classes).fill(0);
    for (let i = 0; i < labels.values.length; i++) labelCounts[labels.values[i]]++;
    labelEntropy = entropy(labelCounts);
  }
  return {
    images,
    latentVars: n,
    categories: k,
    labelEntropy,
    variables: counts.map((row, v) => ({
      variable: v,
      usage: row.map((c) => (images > 0 ? c / images : 0)),
      perplexity: perplexity(row),
      used: row.filter((c) => c > 0).length,
      mutualInformation: joint ? mutualInformation(joint[v]) : null,
    })),
  };
}
