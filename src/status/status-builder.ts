// Builds /status.json from a StatusSource: samples it once a second into fixed rings (rates, history) and assembles the document on demand, cached.
import type { KpiMessage } from '../report/kpi-message.js';
import { SeriesRing } from './series-ring.js';
import { STATUS_DEFAULTS } from './status-defaults.js';
import {
  STATUS_VERSION,
  type KpiRow,
  type StatusDocument,
  type StatusKpis,
  type StatusNode,
} from './status-document.js';
import type { StatusSource } from './status-source.js';

export interface StatusBuilderOptions {
  sampleMs: number;
  historyPoints: number;
  rateSeconds: number;
  cacheMs: number;
  openAlarmsListed: number;
  worstCells: number;
  worstCellMinAttempts: number;
}

/** The sampled series, one ring each (NaN: no latency point in that second). */
const SERIES = ['t', 'framesIn', 'recordsOut', 'deadLetters', 'transactions', 'alarms', 'p50', 'p99', 'max'] as const;
type Series = (typeof SERIES)[number];

/**
 * The page's whole cost to the daemon: one `sample()` a second (a dozen getter calls and nine numbers stored) and one
 * document build per `cacheMs` while somebody polls, shared by every page open. Nothing touches the per-record path.
 */
export class StatusBuilder {
  private readonly options: StatusBuilderOptions;
  private readonly rings: Record<Series, SeriesRing>;
  private timer: NodeJS.Timeout | undefined;
  private cached: { atMs: number; json: string } | undefined;
  private kpiCache: { messages: readonly KpiMessage[]; length: number; tables: StatusKpis } | undefined;

  constructor(
    private readonly source: StatusSource,
    options: Partial<StatusBuilderOptions> = {},
  ) {
    this.options = { ...STATUS_DEFAULTS, ...options };
    const n = this.options.historyPoints + 1;
    this.rings = Object.fromEntries(SERIES.map((s) => [s, new SeriesRing(n)])) as Record<Series, SeriesRing>;
  }

  /** Samples now and then every `sampleMs`; the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== undefined) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample of the counters and the recent latency (called by the timer; tests call it with their clock). */
  sample(nowMs: number = Date.now()): void {
    const c = this.source.counters();
    const l = this.source.latency();
    const r = this.rings;
    r.t.push(nowMs);
    r.framesIn.push(c.framesIn);
    r.recordsOut.push(c.recordsOut);
    r.deadLetters.push(c.deadLetters);
    r.transactions.push(c.transactions);
    r.alarms.push(c.alarms);
    r.p50.push(l === null ? Number.NaN : l.p50_ms);
    r.p99.push(l === null ? Number.NaN : l.p99_ms);
    r.max.push(l === null ? Number.NaN : l.max_ms);
  }

  /** The document as JSON text, rebuilt at most every `cacheMs`. */
  json(nowMs: number = Date.now()): string {
    if (this.cached === undefined || nowMs - this.cached.atMs >= this.options.cacheMs || nowMs < this.cached.atMs) {
      this.cached = { atMs: nowMs, json: JSON.stringify(this.document(nowMs)) };
    }
    return this.cached.json;
  }

  document(nowMs: number = Date.now()): StatusDocument {
    if (this.rings.t.length === 0) this.sample(nowMs);
    const s = this.source;
    const id = s.identity();
    const counters = s.counters();
    const readiness = s.readiness();
    const sla = s.sla();
    const alarms = s.alarms();
    const refdata = s.refdata();
    const lagMap = s.lag();
    const partitions = [...lagMap].map(([partition, lag]) => ({ partition, lag })).sort((a, b) => a.partition - b.partition);
    const lagTotal = partitions.reduce((a, p) => a + p.lag, 0);
    const rate = (series: Series) => this.rate(series);
    const rates = {
      framesIn: rate('framesIn'),
      recordsOut: rate('recordsOut'),
      deadLetters: rate('deadLetters'),
      transactions: rate('transactions'),
      alarms: rate('alarms'),
    };
    const latencyNow = s.latency();
    const byReason = [...counters.deadLettersByReason]
      .filter(([, n]) => n > 0)
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));

    const history = this.history();
    const nodes: StatusNode[] = id.topology.nodes.map((n) => {
      const node: StatusNode = { ...n, records_per_s: null, errors: null, dead_letters: null, detail: null };
      switch (n.id) {
        case 'raw':
          node.records_per_s = round1(rates.framesIn);
          node.detail = `lag ${lagTotal} over ${partitions.length} partition${partitions.length === 1 ? '' : 's'}`;
          break;
        case 'decode':
          node.records_per_s = round1(rates.recordsOut);
          node.errors = counters.deadLetters;
          node.dead_letters = counters.deadLetters;
          break;
        case 'refdata':
          node.detail = `version ${refdata.version}, ${refdata.tables.reduce((a, t) => a + t.rows, 0)} rows`;
          break;
        case 'enriched':
          node.records_per_s = round1(rates.recordsOut);
          node.detail = `${counters.transactions} transactions, ${counters.aborts} aborted`;
          break;
        case 'dlq':
          node.records_per_s = round1(rates.deadLetters);
          node.dead_letters = counters.deadLetters;
          break;
        case 'alarm_thread':
          node.errors = alarms.failuresCounted;
          node.detail = `${alarms.open.length} open`;
          break;
        case 'alarms':
          node.records_per_s = round1(rates.alarms);
          node.detail = `${alarms.raised} raised, ${alarms.cleared} cleared`;
          break;
        case 'sla':
          node.detail = latencyNow === null ? 'no records committed lately' : `p99 ${latencyNow.p99_ms} ms${sla.breached ? ' — breached' : ''}`;
          break;
      }
      return node;
    });

    return {
      version: STATUS_VERSION,
      generated_at: new Date(nowMs).toISOString(),
      service: {
        started_at: new Date(id.startedAtMs).toISOString(),
        uptime_seconds: Math.max(0, Math.round((nowMs - id.startedAtMs) / 1000)),
        ready: readiness.ready,
        reasons: [...readiness.reasons],
        group_id: id.groupId,
        instance: id.instance,
        http_url: id.httpUrl,
      },
      topology: { nodes, edges: id.topology.edges.map((e) => ({ ...e })) },
      throughput: {
        interval_s: this.rateSpanSeconds(),
        frames_in_per_s: round1(rates.framesIn),
        records_out_per_s: round1(rates.recordsOut),
        dead_letters_per_s: round1(rates.deadLetters),
        totals: { frames_in: counters.framesIn, records_out: counters.recordsOut, dead_letters: counters.deadLetters, alarms: counters.alarms },
        history: { step_s: this.options.sampleMs / 1000, t: history.t, frames_in_per_s: history.framesIn, records_out_per_s: history.recordsOut },
      },
      lag: { total: lagTotal, partitions },
      transactions: {
        committed: counters.transactions,
        aborted: counters.aborts,
        committed_per_s: round1(rates.transactions),
        last_ms: counters.transactions > 0 ? counters.lastTransactionMs : null,
      },
      latency: {
        span: 'event_to_commit',
        window_s: STATUS_DEFAULTS.latencyWindowMs / 1000,
        now: latencyNow,
        sla: { seconds: sla.seconds, percentile: sla.percentile, breached: sla.breached, reason: sla.reason },
        history: { step_s: this.options.sampleMs / 1000, t: history.t, p50_ms: history.p50, p99_ms: history.p99, max_ms: history.max },
      },
      dead_letters: { total: counters.deadLetters, by_reason: byReason, recent: [...s.recentDeadLetters()] },
      refdata: {
        version: refdata.version,
        tables: refdata.tables.map((t) => ({
          name: t.name,
          rows: t.rows,
          last_update: t.lastUpdateMs > 0 ? new Date(t.lastUpdateMs).toISOString() : null,
          age_seconds: t.lastUpdateMs > 0 ? Math.max(0, Math.round((nowMs - t.lastUpdateMs) / 1000)) : null,
        })),
      },
      alarms: {
        open: alarms.open.slice(0, this.options.openAlarmsListed),
        open_count: alarms.open.length,
        raised_total: alarms.raised,
        cleared_total: alarms.cleared,
        suppressed_total: alarms.suppressed,
      },
      kpis: this.kpiTablesOf(s.kpis()),
    };
  }

  /** The KPI tables change only with a new window: built once per messages array the source hands out. */
  private kpiTablesOf(messages: readonly KpiMessage[]): StatusKpis {
    if (this.kpiCache?.messages !== messages || this.kpiCache.length !== messages.length) {
      this.kpiCache = { messages, length: messages.length, tables: kpiTables(messages, this.options) };
    }
    return this.kpiCache.tables;
  }

  /** Per second over the last `rateSeconds` samples (fewer at start); 0 before two samples. */
  private rate(series: Series): number {
    const t = this.rings.t;
    const back = Math.min(this.options.rateSeconds, t.length - 1);
    if (back < 1) return 0;
    const dt = (t.back(0) - t.back(back)) / 1000;
    const dv = this.rings[series].back(0) - this.rings[series].back(back);
    return dt > 0 && dv > 0 ? dv / dt : 0;
  }

  private rateSpanSeconds(): number {
    const t = this.rings.t;
    const back = Math.min(this.options.rateSeconds, t.length - 1);
    return back < 1 ? 0 : Math.round((t.back(0) - t.back(back)) / 100) / 10;
  }

  /** Per-sample rates and latency points, oldest first (the first sample only anchors the first rate). */
  private history() {
    const r = this.rings;
    const t = r.t.toArray();
    const fi = r.framesIn.toArray();
    const ro = r.recordsOut.toArray();
    const p50 = r.p50.toArray();
    const p99 = r.p99.toArray();
    const max = r.max.toArray();
    const out = { t: [] as number[], framesIn: [] as number[], recordsOut: [] as number[], p50: [] as (number | null)[], p99: [] as (number | null)[], max: [] as (number | null)[] };
    for (let i = 1; i < t.length; i++) {
      const dt = (t[i]! - t[i - 1]!) / 1000;
      out.t.push(Math.round(t[i]! / 1000));
      out.framesIn.push(dt > 0 ? round1(Math.max(0, fi[i]! - fi[i - 1]!) / dt) : 0);
      out.recordsOut.push(dt > 0 ? round1(Math.max(0, ro[i]! - ro[i - 1]!) / dt) : 0);
      out.p50.push(Number.isNaN(p50[i]!) ? null : p50[i]!);
      out.p99.push(Number.isNaN(p99[i]!) ? null : p99[i]!);
      out.max.push(Number.isNaN(max[i]!) ? null : max[i]!);
    }
    return out;
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** A KPI message as one row of the page's tables. */
export function kpiRow(m: KpiMessage): KpiRow {
  return {
    key: m.key,
    records: m.records,
    failures: m.failures,
    attach_success_rate: m.attach.success_rate,
    session_success_rate: m.session.success_rate,
    handover_success_rate: m.handover.success_rate,
    drop_rate: m.drops.drop_rate,
    session_attempts: m.session.attempts,
    setup_latency_p95_ms: m.session.setup_latency_ms?.p95 ?? null,
  };
}

/** The last window's KPIs per region and vendor, and its worst cells by drop rate and by session success rate. */
export function kpiTables(messages: readonly KpiMessage[], options: Pick<StatusBuilderOptions, 'worstCells' | 'worstCellMinAttempts'>): StatusKpis {
  const first = messages[0];
  const of = (d: KpiMessage['dimension']) => messages.filter((m) => m.dimension === d);
  const byKey = (a: KpiRow, b: KpiRow) => a.key.localeCompare(b.key);
  const cells = of('cell');
  const min = options.worstCellMinAttempts;
  return {
    window_start: first?.window_start ?? null,
    window_end: first?.window_end ?? null,
    by_region: of('region').map(kpiRow).sort(byKey),
    by_vendor: of('vendor').map(kpiRow).sort(byKey),
    worst_cells: {
      // drop_rate's denominator is the sessions that succeeded
      by_drop_rate: cells
        .filter((m) => m.drops.drop_rate !== null && m.session.successes >= min)
        .sort((a, b) => b.drops.drop_rate! - a.drops.drop_rate! || a.key.localeCompare(b.key))
        .slice(0, options.worstCells)
        .map(kpiRow),
      by_session_success_rate: cells
        .filter((m) => m.session.success_rate !== null && m.session.attempts >= min)
        .sort((a, b) => a.session.success_rate! - b.session.success_rate! || a.key.localeCompare(b.key))
        .slice(0, options.worstCells)
        .map(kpiRow),
    },
  };
}
