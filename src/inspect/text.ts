/** Plain-text building blocks of the reports: aligned tables, sparklines, numbers. */

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * One character per value, ▁ for the smallest to █ for the largest; null or
 * non-finite values are blanks. More values than `width` are averaged in
 * `width` consecutive buckets, so the line always fits. A flat series is all ▄.
 */
export function sparkline(values: readonly (number | null)[], width = Infinity): string {
  const series = bucketMeans(values, Math.max(1, Math.floor(width)));
  const finite = series.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return ' '.repeat(series.length);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return series
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      if (hi === lo) return BARS[3];
      return BARS[Math.min(BARS.length - 1, Math.floor(((v - lo) / (hi - lo)) * BARS.length))];
    })
    .join('');
}

/** Means of `width` consecutive buckets of the finite values (null where a bucket has none). */
function bucketMeans(values: readonly (number | null)[], width: number): (number | null)[] {
  if (values.length <= width) return [...values];
  const out: (number | null)[] = [];
  for (let b = 0; b < width; b++) {
    const start = Math.floor((b * values.length) / width);
    const end = Math.floor(((b + 1) * values.length) / width);
    const part = values.slice(start, end).filter((v): v is number => v !== null && Number.isFinite(v));
    out.push(part.length ? part.reduce((a, c) => a + c, 0) / part.length : null);
  }
  return out;
}

/**
 * Shares (e.g. how often each class is used) as bars on one scale from 0 to
 * the largest share: a blank is exactly 0, ▁ is some but little.
 */
export function shareBars(shares: readonly number[]): string {
  const top = Math.max(...shares);
  return (
    shares
      // Bar k (0-based) is (k + 1) / 8 high: round up, so any share above 0 shows.
      .map((s) => (!(s > 0) || !(top > 0) ? ' ' : BARS[Math.min(BARS.length, Math.ceil((s / top) * BARS.length)) - 1]))
      .join('')
  );
}

export type Align = 'left' | 'right';

/**
 * Rows of cells as aligned columns (two spaces apart), with a header row.
 * Columns default to right-aligned (numbers) except the first.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
  indent = '  ',
): string[] {
  const columns = header.length;
  const alignOf = (i: number): Align => align?.[i] ?? (i === 0 ? 'left' : 'right');
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    indent +
    Array.from({ length: columns }, (_, i) => {
      const cell = cells[i] ?? '';
      const pad = ' '.repeat(widths[i] - width(cell));
      return alignOf(i) === 'left' ? cell + pad : pad + cell;
    })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Display width: code points (the sparkline blocks are one column each). */
const width = (s: string) => [...s].length;

/** Label: value lines with the values aligned. */
export function formatFields(fields: readonly (readonly [string, string])[], indent = ''): string[] {
  const w = Math.max(...fields.map(([k]) => width(k)));
  return fields.map(([k, v]) => `${indent}${k}${' '.repeat(w - width(k))}  ${v}`);
}

/** A number in a short readable form: fixed decimals for ordinary sizes, exponent for tiny or huge ones. */
export function formatNumber(value: number | null, digits = 4): string {
  if (value === null) return '-';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Inf' : '-Inf';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
  return value.toFixed(digits);
}

/** An integer with thousands separators: 1,234,567. */
export const formatCount = (value: number): string => value.toLocaleString('en-US');

/** A tensor shape as 784x32. */
export const formatShape = (shape: readonly number[]): string => (shape.length ? shape.join('x') : 'scalar');

/** Bytes as B / kB / MB (powers of 1000). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
