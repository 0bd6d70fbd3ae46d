// Latency against the SLA from enriched records sampled per bucket: each sampled record's Kafka timestamp minus its event_time.
import type { Buckets } from './buckets.js';
import type { LatencySummary } from './report-summary.js';
import type { ReadMessage } from './topic-reader.js';

/** What the figure is, in the report's own words. */
export const LATENCY_MEASURES =
  'event time → enriched record written: the enriched record\'s Kafka timestamp (set when LUX produced it, just before its transaction commits) minus its event_time; the first records of each bucket in every partition are sampled, not all';

/** Nearest-rank percentile of sorted values (SPEC section 7's rule). */
export function nearestRank(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export class LatencySample {
  private readonly perBucket: number[][];
  private readonly all: number[] = [];

  constructor(
    private readonly buckets: Buckets,
    private readonly slaSeconds: number,
  ) {
    this.perBucket = Array.from({ length: buckets.count }, () => []);
  }

  /** One enriched record (SPEC section 3); a value without a readable event_time is skipped. */
  add(m: ReadMessage): void {
    if (m.value === null) return;
    // event_time is the first field the daemon writes; read just it rather than parse the whole record
    const head = m.value.subarray(0, 80).toString('utf8');
    const match = /"event_time":"([^"]+)"/.exec(head) ?? /"event_time":"([^"]+)"/.exec(m.value.toString('utf8'));
    if (match === null) return;
    const eventMs = Date.parse(match[1]!);
    if (Number.isNaN(eventMs)) return;
    const b = this.buckets.index(m.timestamp);
    if (b < 0) return;
    const ms = Math.max(0, m.timestamp - eventMs);
    this.perBucket[b]!.push(ms);
    this.all.push(ms);
  }

  summary(): LatencySummary {
    const sorted = [...this.all].sort((a, b) => a - b);
    const over = this.all.filter((v) => v > this.slaSeconds * 1000).length;
    return {
      measures: LATENCY_MEASURES,
      sla_seconds: this.slaSeconds,
      samples: sorted.length,
      p50_ms: nearestRank(sorted, 0.5),
      p99_ms: nearestRank(sorted, 0.99),
      max_ms: sorted.length === 0 ? null : sorted[sorted.length - 1]!,
      over_sla: sorted.length === 0 ? null : Math.round((over / sorted.length) * 10_000) / 10_000,
      buckets: this.perBucket.map((values, i) => {
        const s = [...values].sort((a, b) => a - b);
        return { start: this.buckets.startIso(i), samples: s.length, p50_ms: nearestRank(s, 0.5), p99_ms: nearestRank(s, 0.99), max_ms: s.length === 0 ? null : s[s.length - 1]! };
      }),
    };
  }
}
