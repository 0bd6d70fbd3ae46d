// Latency histograms (HDR): per-thread recorders shipped as compressed snapshots, a main-thread merger over a sliding window, and the SLA check.
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

/**
 * The measured spans, all in milliseconds.
 * - event_to_commit: a record's event_time → its transaction committed (the SLA span)
 * - kafka_to_commit: the input message's Kafka timestamp → committed
 * - consume_to_dispatch: a batch consumed → handed to a decode worker
 * - decode_enrich: a batch's decode + enrichment inside a worker
 * - produce_to_commit: the batch's first produce → its transaction committed
 * - consume_call: one batch read of the consumer (it waits per message, up to the consume timeout)
 * - transaction_begin, transaction_offsets, transaction_commit: the transactional calls of one commit
 * - transaction_sides: what the sides (alarms, KPIs) take to prepare one commit
 * - commit_wait: the loop waiting for a commit in flight before it can write (the produce path blocked)
 */
export const LATENCY_SPANS = [
  'event_to_commit',
  'kafka_to_commit',
  'consume_to_dispatch',
  'decode_enrich',
  'produce_to_commit',
  'consume_call',
  'transaction_begin',
  'transaction_offsets',
  'transaction_commit',
  'transaction_sides',
  'commit_wait',
] as const;

/** The spans the main thread times per batch or per transaction (the loop, the source and the sink). */
export const LOOP_SPANS = ['consume_to_dispatch', 'consume_call', 'transaction_begin', 'transaction_offsets', 'transaction_commit', 'transaction_sides', 'commit_wait'] as const;
export type LoopSpan = (typeof LOOP_SPANS)[number];
export type LatencySpan = (typeof LATENCY_SPANS)[number];

/** Histogram shape, in one place: 1 ms resolution, 3 significant digits, values clamped to [0, 1 day]. */
export const LATENCY_LIMITS = {
  highestMs: 86_400_000,
  significantDigits: 3,
  /** Snapshots shipped by recorders and rotated by the merger, unless told otherwise. */
  intervalMs: 10_000,
} as const;

let wasmReady: Promise<void> | undefined;

/** Loads the HDR WebAssembly module; once per thread (main or worker), before any recorder or merger is built. */
export function initLatency(): Promise<void> {
  wasmReady ??= hdr.initWebAssembly();
  return wasmReady;
}

function histogram(): Histogram {
  return hdr.build({
    useWebAssembly: true,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: LATENCY_LIMITS.highestMs,
    numberOfSignificantValueDigits: LATENCY_LIMITS.significantDigits,
  });
}

/** Values outside the histogram's range would abort the WASM module: clock skew gives negatives, a stuck record gives days. */
function clamp(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms > LATENCY_LIMITS.highestMs ? LATENCY_LIMITS.highestMs : Math.round(ms);
}

/** One interval's histograms of some spans, as shipped between threads (structured-clone safe). */
export type LatencySnapshot = Partial<Record<LatencySpan, string>>;

/**
 * Records latencies in one thread; `snapshot()` encodes what was recorded since the last snapshot and resets.
 * Call `await initLatency()` first in that thread, and `destroy()` at the end (WASM memory is not collected).
 */
export class LatencyRecorder {
  private readonly histograms = new Map<LatencySpan, Histogram>();
  private readonly touched = new Set<LatencySpan>();

  constructor(spans: readonly LatencySpan[] = LATENCY_SPANS) {
    for (const s of spans) this.histograms.set(s, histogram());
  }

  /** One value (per batch for stage spans). */
  record(span: LatencySpan, ms: number, count = 1): void {
    const h = this.get(span);
    h.recordValueWithCount(clamp(ms), count);
    this.touched.add(span);
  }

  /** `now - times[i]` for i in [from, to): per-record event or Kafka times of one batch, no allocation. */
  recordSince(span: LatencySpan, nowMs: number, times: ArrayLike<number>, from = 0, to = times.length): void {
    const h = this.get(span);
    for (let i = from; i < to; i++) h.recordValue(clamp(nowMs - times[i]!));
    if (to > from) this.touched.add(span);
  }

  /** Encodes the spans recorded since the last call and resets them; spans with no value are left out. */
  snapshot(): LatencySnapshot {
    const out: LatencySnapshot = {};
    for (const span of this.touched) {
      const h = this.histograms.get(span)!;
      out[span] = hdr.encodeIntoCompressedBase64(h);
      h.reset();
    }
    this.touched.clear();
    return out;
  }

  destroy(): void {
    for (const h of this.histograms.values()) h.destroy();
    this.histograms.clear();
  }

  private get(span: LatencySpan): Histogram {
    const h = this.histograms.get(span);
    if (h === undefined) throw new RangeError(`latency span not recorded by this recorder: ${span}`);
    return h;
  }
}

/** Quantiles (in seconds) of one span over the sliding window, with the cumulative count and sum for a Prometheus summary. */
export interface LatencyStats {
  /** Values in the sliding window. */
  windowCount: number;
  /** Seconds; keys are the reported percentiles (e.g. 50, 99, 99.9). */
  quantiles: Map<number, number>;
  maxSeconds: number;
  /** Since start. */
  count: number;
  sumSeconds: number;
}

/** Percentiles published for every span. */
export const REPORTED_PERCENTILES: readonly number[] = [50, 90, 99, 99.9];

/**
 * Merges snapshots from any number of recorders (threads) into a sliding window of `windowMs`, made of
 * `windowMs / intervalMs` buckets; `rotate()` (call every intervalMs) retires the oldest bucket.
 */
export class LatencyMerger {
  private readonly buckets: Map<LatencySpan, Histogram[]> = new Map();
  private readonly scratch: Map<LatencySpan, Histogram> = new Map();
  private readonly totals: Map<LatencySpan, { count: number; sumMs: number }> = new Map();
  private current = 0;
  readonly bucketCount: number;

  constructor(
    readonly windowMs: number = 60_000,
    readonly intervalMs: number = LATENCY_LIMITS.intervalMs,
  ) {
    this.bucketCount = Math.max(1, Math.ceil(windowMs / intervalMs));
    for (const s of LATENCY_SPANS) {
      this.buckets.set(s, Array.from({ length: this.bucketCount }, histogram));
      this.scratch.set(s, histogram());
      this.totals.set(s, { count: 0, sumMs: 0 });
    }
  }

  /** Adds one recorder's snapshot to the current bucket. */
  add(snapshot: LatencySnapshot): void {
    for (const span of LATENCY_SPANS) {
      const encoded = snapshot[span];
      if (encoded === undefined) continue;
      const decoded = hdr.decodeFromCompressedBase64(encoded, 32, true);
      try {
        this.buckets.get(span)![this.current]!.add(decoded);
        const total = this.totals.get(span)!;
        total.count += decoded.totalCount;
        total.sumMs += decoded.mean * decoded.totalCount;
      } finally {
        decoded.destroy();
      }
    }
  }

  /** Adds a recorder in this thread directly (its values are taken and it is reset). */
  addRecorder(recorder: LatencyRecorder): void {
    this.add(recorder.snapshot());
  }

  /** Starts a new bucket, dropping the oldest one from the window. */
  rotate(): void {
    this.current = (this.current + 1) % this.bucketCount;
    for (const list of this.buckets.values()) list[this.current]!.reset();
  }

  /** The span's statistics over the window (merges the buckets: call per scrape or interval, not per batch). */
  stats(span: LatencySpan, percentiles: readonly number[] = REPORTED_PERCENTILES): LatencyStats {
    const merged = this.scratch.get(span)!;
    merged.reset();
    for (const b of this.buckets.get(span)!) if (b.totalCount > 0) merged.add(b);
    const quantiles = new Map<number, number>();
    for (const p of percentiles) quantiles.set(p, merged.totalCount > 0 ? merged.getValueAtPercentile(p) / 1000 : 0);
    const total = this.totals.get(span)!;
    return {
      windowCount: merged.totalCount,
      quantiles,
      maxSeconds: merged.totalCount > 0 ? merged.maxValue / 1000 : 0,
      count: total.count,
      sumSeconds: total.sumMs / 1000,
    };
  }

  destroy(): void {
    for (const list of this.buckets.values()) for (const h of list) h.destroy();
    for (const h of this.scratch.values()) h.destroy();
    this.buckets.clear();
    this.scratch.clear();
  }
}

export interface SlaOptions {
  /** The bound, in seconds (config sla.seconds, default 60). */
  seconds: number;
  /** The percentile that must stay under the bound (config sla.percentile, default 99.9). */
  percentile: number;
}

/** What the SLA check saw; `transition` is set only when the state changed. */
export interface SlaVerdict {
  breached: boolean;
  transition: 'breach' | 'ok' | undefined;
  /** Seconds, over the merger's window. */
  percentileSeconds: number;
  maxSeconds: number;
  /** e.g. "event_to_commit p99.9 72.4 s > 60 s" */
  reason: string;
}

/**
 * The SLA: over the sliding window, both the chosen percentile and the maximum of event_to_commit stay within
 * `seconds`. A breach of either is a breach; an empty window keeps the previous state (no data says nothing).
 */
export class SlaChecker {
  private breachedNow = false;
  private last: SlaVerdict;

  constructor(private readonly options: SlaOptions) {
    this.last = { breached: false, transition: undefined, percentileSeconds: 0, maxSeconds: 0, reason: 'no data yet' };
  }

  get breached(): boolean {
    return this.breachedNow;
  }

  get verdict(): SlaVerdict {
    return this.last;
  }

  /**
   * @param pendingAgeSeconds age of the oldest consumed but not yet committed event, if the daemon knows it:
   *   a stalled pipeline commits nothing, so without it a stall would look like an empty window.
   */
  check(merger: LatencyMerger, pendingAgeSeconds = 0, span: LatencySpan = 'event_to_commit'): SlaVerdict {
    const { percentile, seconds } = this.options;
    const stats = merger.stats(span, [percentile]);
    if (pendingAgeSeconds > seconds) stats.maxSeconds = Math.max(stats.maxSeconds, pendingAgeSeconds);
    if (stats.windowCount === 0 && !(pendingAgeSeconds > seconds)) {
      this.last = { ...this.last, transition: undefined };
      return this.last;
    }
    const p = stats.quantiles.get(percentile) ?? 0;
    const breached = p > seconds || stats.maxSeconds > seconds;
    const transition = breached === this.breachedNow ? undefined : breached ? 'breach' : 'ok';
    this.breachedNow = breached;
    const worst = p > seconds ? `p${percentile} ${p.toFixed(1)} s` : `max ${stats.maxSeconds.toFixed(1)} s`;
    this.last = {
      breached,
      transition,
      percentileSeconds: p,
      maxSeconds: stats.maxSeconds,
      reason: breached
        ? `${span} ${worst} > ${seconds} s`
        : `${span} p${percentile} ${p.toFixed(1)} s, max ${stats.maxSeconds.toFixed(1)} s <= ${seconds} s`,
    };
    return this.last;
  }
}
