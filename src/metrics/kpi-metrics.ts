// The KPIs into Prometheus: gauges of the last window emitted per region and vendor (bounded label sets: never a series per cell or equipment), and counters of what the KPI merge emitted and dropped as late.
import client from 'prom-client';
import type { KpiMergeCounters, KpiPrepared } from '../kpis/merge-core.js';
import type { LuxMetrics } from './registry.js';

/** The per-key gauges of one dimension's last window. */
const GAUGES = {
  records: ['lux_kpi_records', 'Records in the last KPI window emitted, per region and vendor.'],
  attach: ['lux_kpi_attach_success_ratio', 'Attach success rate of the last KPI window, per region and vendor (NaN without attempts).'],
  session: ['lux_kpi_session_success_ratio', 'Session setup success rate of the last KPI window, per region and vendor (NaN without attempts).'],
  handover: ['lux_kpi_handover_success_ratio', 'Handover success rate of the last KPI window, per region and vendor (NaN without attempts).'],
  drops: ['lux_kpi_drop_ratio', 'Call drops per successful session in the last KPI window, per region and vendor (NaN without sessions).'],
  rsrp: ['lux_kpi_rsrp_mean_dbm', 'Mean RSRP of the last KPI window, per region and vendor (NaN without measurements).'],
} as const;

interface KpiObject {
  window_end: string;
  dimension: string;
  key: string;
  records: number;
  attach: { success_rate: number | null };
  session: { success_rate: number | null; setup_latency_ms: { p50: number; p95: number } | null };
  handover: { success_rate: number | null };
  drops: { drop_rate: number | null };
  rsrp_dbm: { mean: number } | null;
}

export class KpiMetricsFeed {
  private readonly gauges: Record<keyof typeof GAUGES, client.Gauge<'dimension' | 'key'>>;
  private readonly setupLatency: client.Gauge<'dimension' | 'key' | 'quantile'>;
  private readonly windowEnd: client.Gauge;
  private readonly emitted: client.Counter;
  private readonly windows: client.Counter;
  private readonly late: client.Counter;
  private seen = { emitted: 0, windows: 0, late: 0 };

  constructor(metrics: LuxMetrics) {
    const registers = [metrics.registry];
    const labelNames = ['dimension', 'key'] as const;
    this.gauges = Object.fromEntries(
      Object.entries(GAUGES).map(([k, [name, help]]) => [k, new client.Gauge({ name, help, labelNames, registers })]),
    ) as Record<keyof typeof GAUGES, client.Gauge<'dimension' | 'key'>>;
    this.setupLatency = new client.Gauge({
      name: 'lux_kpi_setup_latency_seconds',
      help: 'Session setup latency quantiles (nearest rank) of the last KPI window, per region and vendor.',
      labelNames: ['dimension', 'key', 'quantile'] as const,
      registers,
    });
    this.windowEnd = new client.Gauge({ name: 'lux_kpi_window_end_timestamp_seconds', help: 'End of the last KPI window emitted.', registers });
    this.emitted = new client.Counter({ name: 'lux_kpi_objects_emitted_total', help: 'KPI objects written to the KPI topic (committed).', registers });
    this.windows = new client.Counter({ name: 'lux_kpi_windows_closed_total', help: 'KPI windows closed, summed over the shards this instance merges.', registers });
    this.late = new client.Counter({ name: 'lux_kpi_late_records_total', help: 'Records that arrived for a KPI window already emitted (counted in no KPI).', registers });
  }

  /** A committed transaction's KPI objects: the region and vendor ones (a few per window) set the gauges. */
  committed(emitted: ReadonlyArray<{ key: string; value: Buffer }>, _prepared: KpiPrepared): void {
    let last = -Infinity;
    for (const e of emitted) {
      if (!(e.key.startsWith('region:') || e.key.startsWith('vendor:'))) continue;
      const k = JSON.parse(e.value.toString('utf8')) as KpiObject;
      const labels = { dimension: k.dimension, key: k.key };
      const nan = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
      this.gauges.records.set(labels, k.records);
      this.gauges.attach.set(labels, nan(k.attach.success_rate));
      this.gauges.session.set(labels, nan(k.session.success_rate));
      this.gauges.handover.set(labels, nan(k.handover.success_rate));
      this.gauges.drops.set(labels, nan(k.drops.drop_rate));
      this.gauges.rsrp.set(labels, nan(k.rsrp_dbm?.mean));
      const lat = k.session.setup_latency_ms;
      this.setupLatency.set({ ...labels, quantile: '0.5' }, lat === null ? NaN : lat.p50 / 1000);
      this.setupLatency.set({ ...labels, quantile: '0.95' }, lat === null ? NaN : lat.p95 / 1000);
      last = Math.max(last, Date.parse(k.window_end));
    }
    if (last > -Infinity) this.windowEnd.set(last / 1000);
  }

  /** The merge's counters as of its last commit (cumulative): the counters move by what changed. */
  counters(c: KpiMergeCounters): void {
    if (c.kpisEmitted > this.seen.emitted) this.emitted.inc(c.kpisEmitted - this.seen.emitted);
    if (c.windowsClosed > this.seen.windows) this.windows.inc(c.windowsClosed - this.seen.windows);
    if (c.lateRecords > this.seen.late) this.late.inc(c.lateRecords - this.seen.late);
    this.seen = {
      emitted: Math.max(this.seen.emitted, c.kpisEmitted),
      windows: Math.max(this.seen.windows, c.windowsClosed),
      late: Math.max(this.seen.late, c.lateRecords),
    };
  }
}
