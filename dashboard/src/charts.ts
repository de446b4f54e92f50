// Histograms as SVG drawn here: bars from the server's bin edges and counts (/query/stats), axes with
// a few ticks, and a tooltip per bar. No charting library: the figures are simple and this is ~80 lines.
import type { Histogram } from '../../shared/contract/query.ts';

const SVG = 'http://www.w3.org/2000/svg';
const W = 560;
const H = 240;
const M = { top: 12, right: 16, bottom: 40, left: 52 };

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Few significant digits, so ticks stay short: -0.4521, 12.3, 1.2e+3. */
function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(a >= 100 ? 4 : 3)));
}

export function histogramChart(hist: Histogram, label: string, className: string): SVGSVGElement {
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: `chart ${className}`, role: 'img', 'aria-label': `${label}: ${hist.count} values` });
  svg.dataset.count = String(hist.count);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const axis = s('g', { class: 'axis' });
  axis.append(s('line', { x1: M.left, y1: M.top + plotH, x2: M.left + plotW, y2: M.top + plotH }));
  axis.append(s('text', { x: M.left + plotW / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-label' }, label));
  svg.append(axis);
  if (hist.count === 0 || hist.min === null || hist.max === null) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, 'no values yet'));
    return svg;
  }
  const top = Math.max(...hist.counts);
  const lo = hist.edges[0];
  const hi = hist.edges[hist.edges.length - 1];
  const span = hi - lo || 1;
  const x = (v: number) => M.left + ((v - lo) / span) * plotW;
  const y = (n: number) => M.top + plotH - (n / top) * plotH;

  for (const n of [0, Math.round(top / 2), top]) {
    axis.append(s('line', { x1: M.left - 4, y1: y(n), x2: M.left + plotW, y2: y(n), class: n ? 'grid' : '' }));
    axis.append(s('text', { x: M.left - 8, y: y(n) + 4, 'text-anchor': 'end' }, String(n)));
  }
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const v = lo + (span * i) / ticks;
    axis.append(s('line', { x1: x(v), y1: M.top + plotH, x2: x(v), y2: M.top + plotH + 4 }));
    axis.append(s('text', { x: x(v), y: M.top + plotH + 18, 'text-anchor': 'middle' }, tick(v)));
  }
  const bars = s('g', { class: 'bars' });
  hist.counts.forEach((n, i) => {
    const x0 = x(hist.edges[i]);
    const x1 = x(hist.edges[i + 1]);
    const bar = s('rect', { x: x0 + 0.5, y: y(n), width: Math.max(0.5, x1 - x0 - 1), height: M.top + plotH - y(n) });
    const last = i === hist.counts.length - 1;
    bar.append(s('title', {}, `${tick(hist.edges[i])} … ${tick(hist.edges[i + 1])}${last ? ' (inclusive)' : ''}: ${n}`));
    bars.append(bar);
  });
  svg.append(bars);
  return svg;
}
