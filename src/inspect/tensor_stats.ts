/**
 * Summary statistics of one weight tensor, computed on the host in float64 so
 * that a large tensor's mean does not drift. NaN and infinite values are
 * counted, not averaged in: one NaN must not hide the scale of the rest.
 */

export interface TensorStats {
  /** Values in the tensor. */
  count: number;
  /** Mean, std (population), min and max of the finite values; null when none is finite. */
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  nan: number;
  inf: number;
}

export function tensorStats(values: ArrayLike<number>): TensorStats {
  let finite = 0;
  let nan = 0;
  let inf = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
    else {
      finite++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (finite === 0) return { count: values.length, mean: null, std: null, min: null, max: null, nan, inf };
  const mean = sum / finite;
  // Second pass about the mean: exact enough where E[x^2] - mean^2 would cancel.
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) squares += (v - mean) * (v - mean);
  }
  return { count: values.length, mean, std: Math.sqrt(squares / finite), min, max, nan, inf };
}

/** True when every value of the tensor was finite. */
export const allFinite = (stats: TensorStats): boolean => stats.nan === 0 && stats.inf === 0;
