// The report as one self-contained HTML file: headline numbers, inline SVG charts (svg-chart.ts) and tables, no script and nothing loaded from elsewhere.
import type { KpiTrend, RankedKey, ReportSummary } from './report-summary.js';
import { PALETTE, barChart, escapeXml, lineChart, type LineSeries } from './svg-chart.js';

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)} %`);
const num = (v: number) => v.toLocaleString('en-US');
const ms = (v: number | null) => (v === null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);
const day = (iso: string) => iso.replace('T', ' ').replace(/:\d{2}\.\d{3}Z$/, ' UTC');

function table(head: string[], rows: string[][], numeric: (i: number) => boolean = (i) => i > 0): string {
  if (rows.length === 0) return '<p class="muted">none in this period</p>';
  const th = head.map((h, i) => `<th${numeric(i) ? ' class="num"' : ''}>${escapeXml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric(i) ? ' class="num"' : ''}>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function trendChart(title: string, trends: KpiTrend[], pick: (t: KpiTrend['trend'][number]) => number | null, s: ReportSummary, asPercent = true): string {
  const series: LineSeries[] = trends.slice(0, PALETTE.length).map((t, i) => ({
    name: t.key,
    color: PALETTE[i]!,
    points: t.trend.map((b) => [Date.parse(b.start), pick(b) === null ? null : asPercent ? pick(b)! * 100 : pick(b)]),
  }));
  return lineChart({ title, series, fromMs: Date.parse(s.period.from), toMs: Date.parse(s.period.to), yFormat: (v) => (asPercent ? `${v} %` : String(v)) });
}

function rankedRows(rows: RankedKey[], withName = false): string[][] {
  return rows.map((r) => [
    withName && r.name ? `${r.key} (${r.name})` : r.key,
    num(r.records),
    num(r.session_attempts),
    pct(r.session_success_rate),
    pct(r.drop_rate),
    r.records === 0 ? '–' : pct(r.failures / r.records),
  ]);
}
const RANKED_HEAD = ['key', 'records', 'sessions', 'session success', 'drop rate', 'failure share'];

export function renderReportHtml(s: ReportSummary): string {
  const from = Date.parse(s.period.from);
  const to = Date.parse(s.period.to);
  const t = s.throughput;
  const lat = s.latency;
  const sections: string[] = [];

  sections.push(`<section class="tiles">
<div class="tile"><div class="label">records</div><div class="value">${num(t.records)}</div><div class="muted">${t.records_per_s === null ? 'no KPI windows' : `${num(t.records_per_s)} /s on average`}</div></div>
<div class="tile"><div class="label">alarms raised</div><div class="value">${num(s.alarms.raised)}</div><div class="muted">${num(s.alarms.cleared)} cleared · ${num(s.alarms.suppressed)} suppressed</div></div>
<div class="tile"><div class="label">dead letters</div><div class="value">${num(s.dead_letters.total)}</div><div class="muted">${s.dead_letters.by_reason[0] === undefined ? '' : `most: ${escapeXml(s.dead_letters.by_reason[0].reason)}`}</div></div>
<div class="tile"><div class="label">latency p99 (sampled)</div><div class="value">${lat === null ? '–' : ms(lat.p99_ms)}</div><div class="muted">${lat === null ? 'no enriched topic given' : `SLA ${lat.sla_seconds} s · ${pct(lat.over_sla)} of samples over`}</div></div>
<div class="tile"><div class="label">KPI windows</div><div class="value">${num(s.kpis.windows)}</div><div class="muted">${s.sources.messages.kpis.toLocaleString('en-US')} KPI messages</div></div>
</section>`);

  sections.push(`<section><h2>Throughput and latency</h2>
${lineChart({ title: `Records per second (sum of the ${t.dimension ?? '–'} KPIs per ${s.period.bucket_seconds / 60} min)`, series: [{ name: 'records/s', color: PALETTE[0]!, points: t.buckets.map((b) => [Date.parse(b.start), b.records_per_s]) }], fromMs: from, toMs: to, yFormat: (v) => (v >= 1000 ? `${v / 1000}k` : String(v)) })}
${lat === null ? '<p class="muted">Latency: not sampled (give --enriched-topic).</p>' : `${lineChart({
    title: 'End-to-end latency of sampled enriched records (log scale)',
    series: [
      { name: 'p50', color: PALETTE[2]!, points: lat.buckets.map((b) => [Date.parse(b.start), b.p50_ms]) },
      { name: 'p99', color: PALETTE[1]!, points: lat.buckets.map((b) => [Date.parse(b.start), b.p99_ms]) },
      { name: 'max', color: PALETTE[3]!, points: lat.buckets.map((b) => [Date.parse(b.start), b.max_ms]) },
    ],
    fromMs: from,
    toMs: to,
    log: true,
    yFormat: (v) => ms(v),
    threshold: { value: lat.sla_seconds * 1000, label: `SLA ${lat.sla_seconds} s` },
  })}
<p class="muted">What this measures: ${escapeXml(lat.measures)}. ${num(lat.samples)} samples: p50 ${ms(lat.p50_ms)}, p99 ${ms(lat.p99_ms)}, max ${ms(lat.max_ms)}.</p>`}
</section>`);

  sections.push(`<section><h2>KPI trends by region</h2>
${trendChart('Session success rate by region', s.kpis.by_region, (b) => b.session_success_rate, s)}
${trendChart('Drop rate by region (call drops / successful sessions)', s.kpis.by_region, (b) => b.drop_rate, s)}
${table(['region', 'records', 'sessions', 'session success', 'attach success', 'handover success', 'drop rate'], s.kpis.by_region.map((r) => [r.key, num(r.records), num(r.session_attempts), pct(r.session_success_rate), pct(r.attach_success_rate), pct(r.handover_success_rate), pct(r.drop_rate)]))}
</section>`);
  sections.push(`<section><h2>KPI trends by vendor</h2>
${trendChart('Session success rate by vendor', s.kpis.by_vendor, (b) => b.session_success_rate, s)}
${trendChart('Drop rate by vendor', s.kpis.by_vendor, (b) => b.drop_rate, s)}
${table(['vendor', 'records', 'sessions', 'session success', 'attach success', 'handover success', 'drop rate'], s.kpis.by_vendor.map((r) => [r.key, num(r.records), num(r.session_attempts), pct(r.session_success_rate), pct(r.attach_success_rate), pct(r.handover_success_rate), pct(r.drop_rate)]))}
</section>`);

  sections.push(`<section><h2>Worst cells</h2><div class="columns">
<div><h3>By drop rate</h3>${table(RANKED_HEAD, rankedRows(s.kpis.worst_cells.by_drop_rate))}</div>
<div><h3>By session success rate</h3>${table(RANKED_HEAD, rankedRows(s.kpis.worst_cells.by_session_success_rate))}</div>
</div></section>`);
  sections.push(`<section><h2>Worst equipment</h2><div class="columns">
<div><h3>By drop rate</h3>${table(RANKED_HEAD, rankedRows(s.kpis.worst_equipment.by_drop_rate, true))}</div>
<div><h3>By session success rate</h3>${table(RANKED_HEAD, rankedRows(s.kpis.worst_equipment.by_session_success_rate, true))}</div>
<div><h3>By share of failed records</h3>${table(RANKED_HEAD, rankedRows(s.kpis.worst_equipment.by_failure_share, true))}</div>
</div></section>`);

  const a = s.alarms;
  sections.push(`<section><h2>Alarms</h2>
${lineChart({ title: `Alarms raised and cleared per ${s.period.bucket_seconds / 60} min`, counts: true, series: [{ name: 'raised', color: PALETTE[3]!, points: a.buckets.map((b) => [Date.parse(b.start), b.raised]) }, { name: 'cleared', color: PALETTE[2]!, points: a.buckets.map((b) => [Date.parse(b.start), b.cleared]) }], fromMs: from, toMs: to })}
${barChart({ title: 'Raised by rule', bars: a.by_rule.map((r, i) => ({ label: `${r.rule} (${r.kind})`, value: r.raised, color: PALETTE[i % PALETTE.length] })) })}
${table(['rule', 'kind', 'raised', 'cleared', 'suppressed'], a.by_rule.map((r) => [r.rule, r.kind, num(r.raised), num(r.cleared), num(r.suppressed)]), (i) => i > 1)}
<h3>Most alarmed</h3>
${table(['subject', 'raised'], a.top_subjects.map((x) => [x.subject, num(x.raised)]))}
<h3>Still open at the end of the period</h3>
${table(['raised at', 'rule', 'subject', 'suppressed'], a.open_at_end.map((x) => [day(x.raised_at), x.rule, x.subject, x.suppressed ? 'yes (maintenance)' : 'no']), () => false)}
</section>`);

  const d = s.dead_letters;
  sections.push(`<section><h2>Dead letters</h2>
${barChart({ title: 'Frames dead-lettered, by reason', bars: d.by_reason.map((r) => ({ label: r.reason, value: r.count, color: PALETTE[3] })) })}
<h3>Examples</h3>
${table(['at', 'source topic', 'partition', 'offset', 'reason'], d.examples.map((e) => [day(e.at), e.topic, String(e.partition), String(e.offset), e.reason]), (i) => i === 2 || i === 3)}
</section>`);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>LUX report ${escapeXml(day(s.period.from))} – ${escapeXml(day(s.period.to))}</title>
<style>
body{margin:0;padding:16px 24px;font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#f6f7f9;max-width:1600px}
h1{font-size:20px;margin:0 0 2px}h2{font-size:15px;margin:0 0 8px}h3{font-size:12px;color:#6b7385;margin:10px 0 4px}
section{background:#fff;border:1px solid #dfe3ea;border-radius:6px;padding:12px 14px;margin:12px 0;overflow-x:auto}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:8px;background:none;border:0;padding:0}
.tile{background:#fff;border:1px solid #dfe3ea;border-radius:6px;padding:8px 12px}.label{color:#6b7385;font-size:11px;text-transform:uppercase}.value{font-size:22px;font-weight:600}
.muted{color:#6b7385;font-size:12px}.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:12px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin-top:6px}th,td{padding:3px 8px;border-bottom:1px solid #dfe3ea;text-align:left;white-space:nowrap}th{color:#6b7385;font-size:11px}.num{text-align:right}
svg.chart{display:block;margin:6px 0 10px;max-width:100%;height:auto}svg .title{font-size:12px;font-weight:600;fill:#1d2330}svg .legend,svg .tick{font-size:10px;fill:#4a5263}
svg .grid{stroke:#eceff4}svg .axis{stroke:#9aa3b5}svg .threshold{stroke:#c53030;stroke-dasharray:6 4;stroke-width:1.5}svg .threshold-label{font-size:10px;fill:#c53030}
</style></head><body>
<h1>LUX report</h1>
<p class="muted">${escapeXml(day(s.period.from))} – ${escapeXml(day(s.period.to))} · generated ${escapeXml(day(s.generated_at))} · brokers ${escapeXml(s.sources.brokers)} · topics ${escapeXml([s.sources.kpis_topic, s.sources.alarms_topic, s.sources.dlq_topic, s.sources.enriched_topic].filter((x) => x !== null).join(', '))} · chart step ${s.period.bucket_seconds / 60} min</p>
${sections.join('\n')}
</body></html>
`;
}
