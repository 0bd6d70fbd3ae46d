// Charts as inline SVG text, drawn in Node without a browser: d3-scale for the axes, d3-shape for the lines; time-series lines and horizontal bars.
import { scaleLinear, scaleLog, scaleUtc } from 'd3-scale';
import { line, curveMonotoneX, curveStepAfter } from 'd3-shape';

export interface LineSeries {
  name: string;
  color: string;
  /** [time ms, value] — null values break the line */
  points: Array<[number, number | null]>;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  series: LineSeries[];
  fromMs: number;
  toMs: number;
  yFormat?: (v: number) => string;
  /** default: 0 to the largest value (×1.1) */
  yDomain?: [number, number];
  log?: boolean;
  /** a horizontal reference line, e.g. the SLA */
  threshold?: { value: number; label: string };
  width?: number;
  height?: number;
  /** counts per bucket: steps rather than curves, whole-number ticks */
  counts?: boolean;
}

/** Six colours that stay apart for the common forms of colour blindness (Okabe–Ito). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const MARGIN = { top: 34, right: 16, bottom: 26, left: 58 };

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 760;
  const height = o.height ?? 240;
  const innerW = width - MARGIN.left - MARGIN.right;
  const innerH = height - MARGIN.top - MARGIN.bottom;
  const values = o.series.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null && Number.isFinite(v)));
  if (o.threshold !== undefined) values.push(o.threshold.value);
  const fmt = o.yFormat ?? ((v: number) => String(v));
  const x = scaleUtc().domain([new Date(o.fromMs), new Date(o.toMs)]).range([0, innerW]);
  let y;
  if (o.log) {
    const positive = values.filter((v) => v > 0);
    const lo = Math.max(1, Math.min(...positive, 1));
    const hi = Math.max(10, ...positive) * 2;
    y = scaleLog().domain(o.yDomain ?? [lo, hi]).range([innerH, 0]).clamp(true);
  } else {
    const hi = Math.max(...values, 0);
    y = scaleLinear().domain(o.yDomain ?? [0, hi === 0 ? 1 : hi * 1.1]).range([innerH, 0]).nice();
  }
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(o.title)}">`);
  parts.push(`<text x="${MARGIN.left}" y="14" class="title">${escapeXml(o.title)}</text>`);
  // legend
  let lx = MARGIN.left;
  for (const s of o.series) {
    parts.push(`<rect x="${lx}" y="20" width="10" height="4" fill="${s.color}"/><text x="${lx + 14}" y="26" class="legend">${escapeXml(s.name)}</text>`);
    lx += 24 + s.name.length * 6.2;
  }
  parts.push(`<g transform="translate(${MARGIN.left},${MARGIN.top})">`);
  const yTicks = o.log
    ? y.ticks(4).filter((_v: number, i: number, a: number[]) => a.length <= 6 || i % Math.ceil(a.length / 6) === 0)
    : y.ticks(5).filter((v: number) => !o.counts || Number.isInteger(v));
  for (const t of yTicks) {
    const ty = y(t);
    parts.push(`<line x1="0" x2="${innerW}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" class="grid"/><text x="-6" y="${(ty + 3).toFixed(1)}" class="tick" text-anchor="end">${escapeXml(fmt(t))}</text>`);
  }
  const xFormat = x.tickFormat();
  for (const t of x.ticks(6)) {
    const tx = x(t);
    parts.push(`<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${innerH}" y2="${innerH + 4}" class="axis"/><text x="${tx.toFixed(1)}" y="${innerH + 16}" class="tick" text-anchor="middle">${escapeXml(xFormat(t))}</text>`);
  }
  parts.push(`<line x1="0" x2="${innerW}" y1="${innerH}" y2="${innerH}" class="axis"/>`);
  if (o.threshold !== undefined) {
    const ty = y(o.threshold.value).toFixed(1);
    parts.push(`<line x1="0" x2="${innerW}" y1="${ty}" y2="${ty}" class="threshold"/><text x="${innerW - 4}" y="${Number(ty) - 4}" class="threshold-label" text-anchor="end">${escapeXml(o.threshold.label)}</text>`);
  }
  const path = line<[number, number | null]>()
    .defined((p) => p[1] !== null && Number.isFinite(p[1]) && (!o.log || p[1] > 0))
    .x((p) => x(new Date(p[0])))
    .y((p) => y(p[1] as number))
    .curve(o.counts ? curveStepAfter : curveMonotoneX);
  for (const s of o.series) {
    const d = path(s.points);
    if (d !== null && d !== '') parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    // single points (a line of one) still show
    const defined = s.points.filter((p) => p[1] !== null && (!o.log || (p[1] as number) > 0));
    if (defined.length === 1) parts.push(`<circle cx="${x(new Date(defined[0]![0])).toFixed(1)}" cy="${y(defined[0]![1] as number).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  parts.push('</g></svg>');
  return parts.join('');
}

export interface BarChartOptions {
  title: string;
  bars: Array<{ label: string; value: number; color?: string }>;
  width?: number;
  format?: (v: number) => string;
}

/** Horizontal bars, one per category, largest first as given. */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 560;
  const rowH = 20;
  const labelW = 170;
  const height = 26 + Math.max(1, o.bars.length) * rowH + 6;
  const max = Math.max(1, ...o.bars.map((b) => b.value));
  const x = scaleLinear().domain([0, max]).range([0, width - labelW - 70]);
  const fmt = o.format ?? ((v: number) => v.toLocaleString('en-US'));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(o.title)}">`];
  parts.push(`<text x="0" y="14" class="title">${escapeXml(o.title)}</text>`);
  if (o.bars.length === 0) parts.push(`<text x="0" y="40" class="tick">none</text>`);
  o.bars.forEach((b, i) => {
    const y = 26 + i * rowH;
    parts.push(
      `<text x="${labelW - 6}" y="${y + 13}" class="tick" text-anchor="end">${escapeXml(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 3}" width="${Math.max(1, x(b.value)).toFixed(1)}" height="${rowH - 6}" fill="${b.color ?? PALETTE[0]}"/>`,
      `<text x="${(labelW + x(b.value) + 6).toFixed(1)}" y="${y + 13}" class="tick">${escapeXml(fmt(b.value))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
