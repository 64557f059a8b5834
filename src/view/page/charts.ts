/** Small inline-SVG charts with labelled axes: training curves and per-variable bars. */

const NS = 'http://www.w3.org/2000/svg';
const W = 380;
const H = 200;
const M = { left: 54, right: 22, top: 10, bottom: 34 };

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** About five round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

interface Frame {
  svg: SVGElement;
  x: (v: number) => number;
  y: (v: number) => number;
}

/** An SVG with both axes, their ticks and labels, for the given ranges. */
function frame(xRange: [number, number], yRange: [number, number], xLabel: string, yLabel: string, xTicks?: number[]): Frame {
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img' });
  const [x0, x1] = xRange;
  const [y0, y1] = yRange;
  const x = (v: number) => M.left + ((v - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  svg.append(el('line', { class: 'axis', x1: M.left, y1: H - M.bottom, x2: W - M.right, y2: H - M.bottom }));
  svg.append(el('line', { class: 'axis', x1: M.left, y1: M.top, x2: M.left, y2: H - M.bottom }));
  for (const t of xTicks ?? ticks(x0, x1)) {
    svg.append(el('text', { x: x(t), y: H - M.bottom + 12, 'text-anchor': 'middle' }, String(t)));
  }
  for (const t of ticks(y0, y1, 4)) {
    svg.append(el('line', { class: 'axis', x1: M.left - 3, y1: y(t), x2: M.left, y2: y(t) }));
    svg.append(el('text', { x: M.left - 5, y: y(t) + 3, 'text-anchor': 'end' }, String(t)));
  }
  svg.append(el('text', { x: (M.left + W - M.right) / 2, y: H - 4, 'text-anchor': 'middle' }, xLabel));
  svg.append(
    el(
      'text',
      { x: 11, y: (M.top + H - M.bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 11 ${(M.top + H - M.bottom) / 2})` },
      yLabel,
    ),
  );
  return { svg, x, y };
}

export interface Series {
  name: string;
  className: string;
  points: [number, number][];
}

/** Line chart of several series sharing axes, with a legend. */
export function lineChart(series: Series[], xLabel: string, yLabel: string): SVGElement {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return el('svg', { width: W, height: 30 });
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const pad = (Math.max(...ys) - Math.min(...ys)) * 0.05 || 1;
  const f = frame([Math.min(0, ...xs), Math.max(...xs)], [Math.min(...ys) - pad, Math.max(...ys) + pad], xLabel, yLabel);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map(([a, b], j) => `${j ? 'L' : 'M'}${f.x(a).toFixed(1)},${f.y(b).toFixed(1)}`).join('');
    f.svg.append(el('path', { class: s.className, d }));
    for (const [a, b] of s.points) f.svg.append(el('circle', { class: s.className, cx: f.x(a), cy: f.y(b), r: 2 }));
    f.svg.append(el('line', { class: s.className, x1: W - 120, y1: M.top + 6 + 14 * i, x2: W - 104, y2: M.top + 6 + 14 * i }));
    f.svg.append(el('text', { x: W - 100, y: M.top + 9 + 14 * i }, s.name));
  });
  return f.svg;
}

/** Bar chart of one value per index 0..n-1, on [0, yMax]; a dashed line marks `reference`. */
export function barChart(values: number[], yMax: number, xLabel: string, yLabel: string, reference?: number): SVGElement {
  const n = values.length;
  const step = Math.max(1, Math.ceil(n / 10));
  const f = frame(
    [-0.5, n - 0.5],
    [0, yMax],
    xLabel,
    yLabel,
    ticks(0, n - 1).filter((t) => t % step === 0 && Number.isInteger(t)),
  );
  const width = ((W - M.left - M.right) / n) * 0.75;
  values.forEach((v, i) => {
    const rect = el('rect', { class: 'bar', x: f.x(i) - width / 2, y: f.y(v), width, height: f.y(0) - f.y(v) });
    rect.append(el('title', {}, `variable ${i}: ${v.toFixed(2)}`));
    f.svg.append(rect);
  });
  if (reference !== undefined) {
    f.svg.append(
      el('line', { class: 'axis', x1: M.left, x2: W - M.right, y1: f.y(reference), y2: f.y(reference), 'stroke-dasharray': '4 3' }),
    );
  }
  return f.svg;
}
