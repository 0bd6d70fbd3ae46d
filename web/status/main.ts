// The status page's script: polls /status.json (one request at a time, every second by default) and updates the page in place.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import type { KpiRow, StatusDocument } from '../../src/status/status-document.js';
import type { AlarmMessage } from '../../src/report/alarm-message.js';
import { Charts } from './charts.js';
import { TopologyView, fmtRate } from './graph.js';

const params = new URLSearchParams(location.search);
/** ?poll=MS changes the poll interval (tests poll faster); 200 ms at the least */
const POLL_MS = Math.max(200, Number(params.get('poll') ?? 1000) || 1000);
const TIMEOUT_MS = 5000;

const $ = (id: string) => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`status page: no element #${id}`);
  return e;
};
const topology = new TopologyView($('graph'));
const charts = new Charts($('chart-throughput'), $('chart-latency'));
/** the last content of each table, so an unchanged table is not rebuilt */
const drawn = new Map<string, string>();

type Cell = string | number | { text: string; cls?: string; bar?: number };

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
function pct(v: number | null): string {
  return v === null ? '–' : `${(v * 100).toFixed(1)} %`;
}
function age(s: number | null): string {
  if (s === null) return '–';
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
function time(iso: string): string {
  return iso.slice(11, 19);
}
function setText(id: string, text: string): void {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
}

function table(id: string, rows: Cell[][], rowClass: (i: number) => string = () => '', head?: string[]): void {
  const key = JSON.stringify([rows, head]);
  if (drawn.get(id) === key) return;
  drawn.set(id, key);
  const t = $(id) as HTMLTableElement;
  if (head !== undefined) {
    const tr = document.createElement('tr');
    for (const h of head) {
      const th = document.createElement('th');
      th.textContent = h;
      if (h !== head[0]) th.className = 'num';
      tr.appendChild(th);
    }
    t.tHead!.replaceChildren(tr);
  }
  const body = t.tBodies[0]!;
  const trs = rows.map((cells, i) => {
    const tr = document.createElement('tr');
    const cls = rowClass(i);
    if (cls !== '') tr.className = cls;
    for (const c of cells) {
      const td = document.createElement('td');
      if (typeof c === 'object') {
        if (c.bar !== undefined) {
          td.className = 'bar';
          const span = document.createElement('span');
          span.style.width = `${Math.max(0, Math.min(100, c.bar * 100)).toFixed(1)}%`;
          td.appendChild(span);
        } else {
          td.textContent = c.text;
          if (c.cls !== undefined) td.className = c.cls;
        }
      } else {
        td.textContent = String(c);
        if (typeof c === 'number') td.className = 'num';
      }
      tr.appendChild(td);
    }
    return tr;
  });
  if (trs.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 8;
    td.className = 'muted';
    td.textContent = 'none';
    tr.appendChild(td);
    trs.push(tr);
  }
  body.replaceChildren(...trs);
}

function alarmCells(a: AlarmMessage): Cell[] {
  const kpi = 'kpi' in a;
  const subject = kpi ? `${a.dimension}:${a.key}` : a.equipment_id === 0 ? 'pipeline' : `equipment ${a.equipment_id}${a.equipment?.name ? ` (${a.equipment.name})` : ''}`;
  const value = kpi ? (a.value === null ? '–' : String(Number(a.value.toFixed(4)))) : String(a.count);
  const tags = `${kpi ? `KPI ${a.kpi}` : 'failures'}${a.suppressed ? ' · suppressed (maintenance)' : ''}`;
  return [time(a.emitted_at), a.rule, subject, { text: value, cls: 'num' }, { text: String(a.threshold), cls: 'num' }, time(a.window_end), { text: tags, cls: a.suppressed ? 'tag supp' : kpi ? 'tag kpi' : 'tag' }];
}

const KPI_HEAD = ['key', 'records', 'session ok', 'drop rate', 'attach ok', 'handover ok'];
function kpiCells(r: KpiRow): Cell[] {
  return [r.key, r.records, { text: pct(r.session_success_rate), cls: 'num' }, { text: pct(r.drop_rate), cls: 'num' }, { text: pct(r.attach_success_rate), cls: 'num' }, { text: pct(r.handover_success_rate), cls: 'num' }];
}

function render(doc: StatusDocument): void {
  const svc = doc.service;
  setText('instance', `${svc.instance} · group ${svc.group_id} · up ${age(svc.uptime_seconds)}`);
  const ready = $('ready');
  ready.textContent = svc.ready ? 'ready' : 'not ready';
  ready.className = `badge ${svc.ready ? 'ok' : 'bad'}`;
  setText('reasons', svc.reasons.join('; '));
  setText('updated', `updated ${time(doc.generated_at)} UTC`);

  setText('t-in', fmtRate(doc.throughput.frames_in_per_s));
  setText('t-out', fmtRate(doc.throughput.records_out_per_s));
  setText('t-lag', fmt(doc.lag.total));
  setText('t-tx', `${fmt(doc.transactions.committed)} / ${fmt(doc.transactions.aborted)}`);
  const now = doc.latency.now;
  setText('t-p99', now === null ? '–' : now.p99_ms >= 1000 ? `${(now.p99_ms / 1000).toFixed(1)} s` : `${now.p99_ms} ms`);
  $('t-p99').parentElement!.classList.toggle('bad', doc.latency.sla.breached);
  setText('t-dlq', fmt(doc.dead_letters.total));
  setText('t-alarms', fmt(doc.alarms.open_count));
  $('t-alarms').parentElement!.classList.toggle('bad', doc.alarms.open.some((a) => !a.suppressed));

  topology.update(doc.topology);
  charts.update(doc);
  const sla = doc.latency.sla;
  setText('latency-note', `p50 / p99 / max of event time → commit over ${doc.latency.window_s} s windows; SLA p${sla.percentile} ≤ ${sla.seconds} s${sla.breached ? ' — BREACHED' : ''}`);

  const maxLag = Math.max(1, ...doc.lag.partitions.map((p) => p.lag));
  table('lag', doc.lag.partitions.map((p) => [String(p.partition), p.lag, { text: '', bar: p.lag / maxLag }]));

  setText('alarm-counts', `${doc.alarms.open_count} open · ${fmt(doc.alarms.raised_total)} raised, ${fmt(doc.alarms.cleared_total)} cleared, ${fmt(doc.alarms.suppressed_total)} suppressed since start`);
  table('alarms', doc.alarms.open.map(alarmCells), (i) => (doc.alarms.open[i]!.suppressed ? 'suppressed' : ''));

  const maxReason = Math.max(1, ...doc.dead_letters.by_reason.map((r) => r.count));
  table('dlq-reasons', doc.dead_letters.by_reason.map((r) => [r.reason, r.count, { text: '', bar: r.count / maxReason }]));
  table('dlq-recent', doc.dead_letters.recent.map((d) => [time(d.at), d.topic, d.partition, d.offset, d.reason]));

  setText('refdata-version', `version ${doc.refdata.version}`);
  table('refdata', doc.refdata.tables.map((t) => [t.name, t.rows, t.last_update === null ? '–' : t.last_update.replace('T', ' ').slice(0, 19), { text: age(t.age_seconds), cls: 'num' }]));

  const k = doc.kpis;
  setText('kpi-window', k.window_start === null ? 'no window emitted yet' : `${k.window_start.replace('T', ' ').slice(0, 19)} – ${k.window_end!.slice(11, 19)} UTC`);
  table('kpi-region', k.by_region.map(kpiCells), undefined, KPI_HEAD);
  table('kpi-vendor', k.by_vendor.map(kpiCells), undefined, KPI_HEAD);
  table('kpi-drop', k.worst_cells.by_drop_rate.map(kpiCells), undefined, KPI_HEAD);
  table('kpi-session', k.worst_cells.by_session_success_rate.map(kpiCells), undefined, KPI_HEAD);
}

async function poll(): Promise<void> {
  try {
    const res = await fetch('status.json', { cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const doc = (await res.json()) as StatusDocument;
    if (doc.version !== 1) throw new Error(`status.json version ${doc.version}; this page reads version 1`);
    render(doc);
    document.body.classList.remove('stale');
  } catch (e) {
    document.body.classList.add('stale');
    setText('updated', `no answer from the daemon (${(e as Error).message}); retrying`);
  }
  setTimeout(() => void poll(), POLL_MS);
}

void poll();
