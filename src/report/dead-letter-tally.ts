// Dead letters of a period counted from their headers (SPEC section 5): by reason, per bucket, with a few examples naming where each frame came from.
import type { Buckets } from './buckets.js';
import type { DeadLetterSummary } from './report-summary.js';
import type { ReadMessage } from './topic-reader.js';

export class DeadLetterTally {
  private total = 0;
  private readonly reasons = new Map<string, number>();
  private readonly perBucket: number[];
  private readonly examples: DeadLetterSummary['examples'] = [];

  constructor(
    private readonly buckets: Buckets,
    private readonly maxExamples: number,
  ) {
    this.perBucket = new Array<number>(buckets.count).fill(0);
  }

  /** One dead letter; a message without `lux.error` counts under `unknown`. */
  add(m: ReadMessage): void {
    const reason = m.headers['lux.error'] ?? 'unknown';
    this.total++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    const b = this.buckets.index(m.timestamp);
    if (b >= 0) this.perBucket[b]!++;
    if (this.examples.length < this.maxExamples) {
      this.examples.push({
        at: new Date(m.timestamp).toISOString(),
        topic: m.headers['lux.source.topic'] ?? '?',
        partition: Number(m.headers['lux.source.partition'] ?? -1),
        offset: Number(m.headers['lux.source.offset'] ?? -1),
        reason,
      });
    }
  }

  summary(): DeadLetterSummary {
    return {
      total: this.total,
      by_reason: [...this.reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
      buckets: this.perBucket.map((count, i) => ({ start: this.buckets.startIso(i), count })),
      examples: this.examples,
    };
  }
}
