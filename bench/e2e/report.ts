// The `lux bench --report` page: one self-contained HTML file with SVG plots — latency by percentile (HdrHistogram style, axis in nines) and throughput over time.

export interface ReportSeries {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

/** A table of figures below the summary (CPU per process, the latency breakdown). */
export interface ReportTable {
  title: string;
  header: string[];
  rows: string[][];
  caption: string;
}

export interface ReportInput {
  title: string;
  /** label → value rows of the summary table */
  summary: Array<[string, string]>;
  /** curves of [percentile (0..100), ms] */
  latency: ReportSeries[];
  latencyCaption: string;
  tables: ReportTable[];
  /** p99 per second of the rate runs, [second, ms] */
  tail: ReportSeries[];
  tailCaption: string;
  throughput: ReportSeries[];
  throughputCaption: string;
}

const W = 760;
const H = 340;
const M = { left: 70, right: 20, top: 20, bottom: 50 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" upper bound and tick step for an axis from 0 to `max`. */
function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

function fmt(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return `${+n.toFixed(2)}`;
}

/** x = nines = -log10(1 - p/100): 90% → 1, 99% → 2, 99.9% → 3 … */
function nines(p: number): number {
  return p >= 100 ? 6 : -Math.log10(1 - p / 100);
}

export function latencySvg(series: ReportSeries[], caption: string): string {
  const all = series.flatMap((s) => s.points);
  const lastFinite = Math.max(99.9, ...all.filter(([p]) => p < 100).map(([p]) => p));
  const maxNines = Math.min(6, Math.max(3, Math.ceil(nines(lastFinite) - 1e-6)));
  const maxMs = Math.max(1, ...all.map(([, v]) => v));
  const y = niceScale(maxMs);
  const px = (n: number): number => M.left + (Math.min(n, maxNines) / maxNines) * (W - M.left - M.right);
  const py = (v: number): number => H - M.bottom - (v / y.top) * (H - M.top - M.bottom);
  const parts: string[] = [];
  for (let k = 0; k <= maxNines; k++) {
    const label = k === 0 ? '0%' : `${(100 * (1 - 10 ** -k)).toFixed(Math.max(0, k - 2))}%`;
    parts.push(`<line x1="${px(k)}" y1="${M.top}" x2="${px(k)}" y2="${H - M.bottom}" stroke="#ddd"/>`);
    parts.push(`<text x="${px(k)}" y="${H - M.bottom + 18}" text-anchor="middle">${label}</text>`);
  }
  for (let v = 0; v <= y.top + 1e-9; v += y.step) {
    parts.push(`<line x1="${M.left}" y1="${py(v)}" x2="${W - M.right}" y2="${py(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  series.forEach((s, i) => {
    const line = s.points.filter(([p]) => p < 100).map(([p, v]) => `${px(nines(p)).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${line}"/>`);
    const max = s.points.find(([p]) => p >= 100);
    if (max !== undefined) {
      parts.push(`<line x1="${M.left}" y1="${py(max[1])}" x2="${W - M.right}" y2="${py(max[1])}" stroke="${s.color}" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${W - M.right}" y="${py(max[1]) - 4}" text-anchor="end" fill="${s.color}">max ${fmt(max[1])} ms</text>`);
    }
    parts.push(`<rect x="${M.left + 10}" y="${M.top + 6 + i * 18}" width="12" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${M.left + 28}" y="${M.top + 11 + i * 18}">${esc(s.name)}</text>`);
  });
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">percentile (log scale in nines)</text>`);
  parts.push(`<text x="16" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(M.top + H - M.bottom) / 2})">latency (ms)</text>`);
  return svg(parts, caption);
}

export function throughputSvg(series: ReportSeries[], caption: string, yLabel = 'records/s'): string {
  const all = series.flatMap((s) => s.points);
  const xMax = niceScale(Math.max(1, ...all.map(([t]) => t)));
  const yMax = niceScale(Math.max(1, ...all.map(([, v]) => v)));
  const px = (t: number): number => M.left + (t / xMax.top) * (W - M.left - M.right);
  const py = (v: number): number => H - M.bottom - (v / yMax.top) * (H - M.top - M.bottom);
  const parts: string[] = [];
  for (let t = 0; t <= xMax.top + 1e-9; t += xMax.step) {
    parts.push(`<line x1="${px(t)}" y1="${M.top}" x2="${px(t)}" y2="${H - M.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${px(t)}" y="${H - M.bottom + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (let v = 0; v <= yMax.top + 1e-9; v += yMax.step) {
    parts.push(`<line x1="${M.left}" y1="${py(v)}" x2="${W - M.right}" y2="${py(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  series.forEach((s, i) => {
    const line = s.points.map(([t, v]) => `${px(t).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${line}"/>`);
    parts.push(`<rect x="${M.left + 10}" y="${M.top + 6 + i * 18}" width="12" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${M.left + 28}" y="${M.top + 11 + i * 18}">${esc(s.name)}</text>`);
  });
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">seconds</text>`);
  parts.push(`<text x="16" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(M.top + H - M.bottom) / 2})">${esc(yLabel)}</text>`);
  return svg(parts, caption);
}

function svg(parts: string[], caption: string): string {
  return (
    `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">` +
    `<rect width="${W}" height="${H}" fill="white"/>${parts.join('')}</svg><figcaption>${esc(caption)}</figcaption></figure>`
  );
}

function tableHtml(t: ReportTable): string {
  const head = `<tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<h2>${esc(t.title)}</h2>\n<table class="grid">${head}\n${body}</table>\n<p class="caption">${esc(t.caption)}</p>`;
}

export function renderReport(r: ReportInput): string {
  const rows = r.summary.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font-family:sans-serif;max-width:820px;margin:2em auto;color:#222}th{text-align:left;padding-right:1em;font-weight:normal;color:#555}
td{font-variant-numeric:tabular-nums}figure{margin:1.5em 0}figcaption,.caption{font-size:13px;color:#555}
table.grid{border-collapse:collapse;font-size:13px}table.grid td,table.grid th{border:1px solid #ddd;padding:2px 6px;text-align:right}
table.grid td:first-child,table.grid th:first-child{text-align:left}</style></head>
<body><h1>${esc(r.title)}</h1>
<table>${rows}</table>
${r.tables.map(tableHtml).join('\n')}
<h2>End-to-end latency by percentile</h2>
${r.latency.some((s) => s.points.length > 0) ? latencySvg(r.latency.filter((s) => s.points.length > 0), r.latencyCaption) : '<p>No fixed-rate run in this report.</p>'}
${r.tail.some((s) => s.points.length > 0) ? `<h2>Tail latency over time</h2>\n${throughputSvg(r.tail, r.tailCaption, 'p99 (ms)')}` : ''}
<h2>Throughput over time</h2>
${r.throughput.some((s) => s.points.length > 0) ? throughputSvg(r.throughput, r.throughputCaption) : '<p>No throughput samples.</p>'}
</body></html>
`;
}
