// KPI messages of a period summed per region, vendor, cell and equipment (per bucket for the trends) and ranked into the worst cells and equipment.
import type { KpiDimension, KpiMessage } from './kpi-message.js';
import type { Buckets } from './buckets.js';
import type { KpiSummary, KpiTotals, KpiTrend, RankedKey, ThroughputSummary } from './report-summary.js';

/** Sums from which every rate is recomputed (a rate of sums, never a mean of rates). */
class Sums {
  records = 0;
  failures = 0;
  sessionAttempts = 0;
  sessionSuccesses = 0;
  attachAttempts = 0;
  attachSuccesses = 0;
  handoverAttempts = 0;
  handoverSuccesses = 0;
  callDrops = 0;

  add(m: KpiMessage): void {
    this.records += m.records;
    this.failures += m.failures ?? 0;
    this.sessionAttempts += m.session.attempts;
    this.sessionSuccesses += m.session.successes;
    this.attachAttempts += m.attach.attempts;
    this.attachSuccesses += m.attach.successes;
    this.handoverAttempts += m.handover.attempts;
    this.handoverSuccesses += m.handover.successes;
    this.callDrops += m.drops.call_drops;
  }

  totals(): KpiTotals {
    const rate = (n: number, d: number) => (d === 0 ? null : round4(n / d));
    return {
      records: this.records,
      failures: this.failures,
      session_attempts: this.sessionAttempts,
      session_success_rate: rate(this.sessionSuccesses, this.sessionAttempts),
      attach_success_rate: rate(this.attachSuccesses, this.attachAttempts),
      handover_success_rate: rate(this.handoverSuccesses, this.handoverAttempts),
      call_drops: this.callDrops,
      // SPEC section 7: call_drops / session.successes
      drop_rate: rate(this.callDrops, this.sessionSuccesses),
    };
  }
}

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

export interface KpiTrendOptions {
  worst: number;
  minAttempts: number;
}

/** Feed it the period's KPI messages (`add`), then read the summary and the throughput. */
export class KpiTrends {
  private readonly period = new Map<KpiDimension, Map<string, Sums>>();
  private readonly perBucket = new Map<KpiDimension, Map<string, Sums[]>>();
  private readonly windows = new Set<string>();
  /** equipment names seen on alarms (KPI messages carry none) */
  readonly equipmentNames = new Map<string, string>();

  constructor(private readonly buckets: Buckets) {}

  add(m: KpiMessage): void {
    const b = this.buckets.index(Date.parse(m.window_start));
    if (b < 0) return;
    this.windows.add(m.window_start);
    let byKey = this.period.get(m.dimension);
    if (byKey === undefined) this.period.set(m.dimension, (byKey = new Map()));
    let s = byKey.get(m.key);
    if (s === undefined) byKey.set(m.key, (s = new Sums()));
    s.add(m);
    if (m.dimension === 'region' || m.dimension === 'vendor' || m.dimension === 'equipment' || m.dimension === 'cell') {
      let keys = this.perBucket.get(m.dimension);
      if (keys === undefined) this.perBucket.set(m.dimension, (keys = new Map()));
      let arr = keys.get(m.key);
      if (arr === undefined) keys.set(m.key, (arr = []));
      (arr[b] ??= new Sums()).add(m);
    }
  }

  summary(options: KpiTrendOptions): KpiSummary {
    const trends = (d: KpiDimension): KpiTrend[] =>
      [...(this.period.get(d) ?? new Map<string, Sums>())]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, s]) => {
          const per = this.perBucket.get(d)?.get(key) ?? [];
          const trend: KpiTrend['trend'] = [];
          for (let i = 0; i < this.buckets.count; i++) {
            const b = per[i];
            if (b !== undefined) trend.push({ start: this.buckets.startIso(i), ...b.totals() });
          }
          return { key, ...s.totals(), trend };
        });
    const ranked = (d: KpiDimension) =>
      [...(this.period.get(d) ?? new Map<string, Sums>())].map(([key, s]): RankedKey => ({
        key,
        ...(d === 'equipment' ? { name: this.equipmentNames.get(key) ?? null } : {}),
        ...s.totals(),
      }));
    const byDrop = (rows: RankedKey[], sums: Map<string, Sums>) =>
      rows
        .filter((r) => r.drop_rate !== null && sums.get(r.key)!.sessionSuccesses >= options.minAttempts)
        .sort((a, b) => b.drop_rate! - a.drop_rate! || a.key.localeCompare(b.key))
        .slice(0, options.worst);
    const bySession = (rows: RankedKey[]) =>
      rows
        .filter((r) => r.session_success_rate !== null && r.session_attempts >= options.minAttempts)
        .sort((a, b) => a.session_success_rate! - b.session_success_rate! || a.key.localeCompare(b.key))
        .slice(0, options.worst);
    const cells = ranked('cell');
    const equipment = ranked('equipment');
    const cellSums = this.period.get('cell') ?? new Map();
    const eqSums = this.period.get('equipment') ?? new Map();
    return {
      windows: this.windows.size,
      by_region: trends('region'),
      by_vendor: trends('vendor'),
      worst_cells: { by_drop_rate: byDrop(cells, cellSums), by_session_success_rate: bySession(cells) },
      worst_equipment: {
        by_drop_rate: byDrop(equipment, eqSums),
        by_session_success_rate: bySession(equipment),
        by_failure_share: equipment
          .filter((r) => r.records >= options.minAttempts)
          .sort((a, b) => b.failures / b.records - a.failures / a.records || a.key.localeCompare(b.key))
          .slice(0, options.worst),
      },
    };
  }

  /** Records per bucket, from the first dimension that counts every record (equipment, then cell). */
  throughput(): ThroughputSummary {
    const dimension = (['equipment', 'cell'] as const).find((d) => this.perBucket.has(d)) ?? null;
    if (dimension === null) return { dimension: null, records: 0, records_per_s: null, buckets: [] };
    const per = new Array<number>(this.buckets.count).fill(0);
    const seen = new Array<boolean>(this.buckets.count).fill(false);
    for (const arr of this.perBucket.get(dimension)!.values()) {
      arr.forEach((s, i) => {
        if (s === undefined) return;
        per[i]! += s.records;
        seen[i] = true;
      });
    }
    const records = per.reduce((a, b) => a + b, 0);
    return {
      dimension,
      records,
      records_per_s: Math.round((records / (this.buckets.count * this.buckets.seconds)) * 10) / 10,
      buckets: per.map((n, i) => ({ start: this.buckets.startIso(i), records: n, records_per_s: seen[i] ? Math.round((n / this.buckets.seconds) * 10) / 10 : null })),
    };
  }
}
