// End-to-end latency over the last few seconds: a short sliding HDR window beside the SLA's long one, for the status page and `lux demo`.
import { LatencyMerger, type LatencySnapshot, type LatencySpan } from '../metrics/latency.js';
import type { LatencyPoint } from './status-document.js';
import { STATUS_DEFAULTS } from './status-defaults.js';

/**
 * The SLA's merger looks over a minute, so a start-up spike stays in its p99 for that minute; this one looks over
 * `windowMs` in one-second buckets. Feed it the same snapshots as the SLA's merger (`add`), and `rotate()` it every
 * second. Call `initLatency()` before building it; `destroy()` frees its WASM memory.
 */
export class RecentLatency {
  private readonly merger: LatencyMerger;
  private readonly percentiles: readonly number[] = [50, 99];

  constructor(
    readonly windowMs: number = STATUS_DEFAULTS.latencyWindowMs,
    private readonly span: LatencySpan = 'event_to_commit',
  ) {
    this.merger = new LatencyMerger(windowMs, 1_000);
  }

  add(snapshot: LatencySnapshot): void {
    this.merger.add(snapshot);
  }

  /** Retires the oldest second. */
  rotate(): void {
    this.merger.rotate();
  }

  /** p50, p99 and max of `span` over the window, or null when nothing was recorded in it. */
  point(span: LatencySpan = this.span): LatencyPoint | null {
    const s = this.merger.stats(span, this.percentiles);
    if (s.windowCount === 0) return null;
    return {
      p50_ms: Math.round((s.quantiles.get(50) ?? 0) * 1000),
      p99_ms: Math.round((s.quantiles.get(99) ?? 0) * 1000),
      max_ms: Math.round(s.maxSeconds * 1000),
      count: s.windowCount,
    };
  }

  destroy(): void {
    this.merger.destroy();
  }
}
