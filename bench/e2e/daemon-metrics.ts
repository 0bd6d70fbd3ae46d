// The daemon's view of a run, from its /metrics: scraped when the generator starts and when the output is all visible, the latency breakdown is read from the difference of the two scrapes.
import { LATENCY_LIMITS, LATENCY_SPANS } from '../../src/metrics/latency.js';

/** The window of the daemon's HDR summaries: `new LatencyMerger()`'s default in src/daemon.ts (src/metrics/latency.ts). */
const DAEMON_QUANTILE_WINDOW_MS = 60_000;

/**
 * The daemon's summaries hold its last minute (LatencyMerger's default window) in 10-s buckets: a window shorter than
 * this is wholly inside them at the second scrape.
 */
export const DAEMON_QUANTILE_COVER_S = (DAEMON_QUANTILE_WINDOW_MS - LATENCY_LIMITS.intervalMs) / 1000;

/** One exposition, `name{label="v",…}` (labels sorted) → value. */
export type Scrape = Map<string, number>;

export async function scrapeMetrics(baseUrl: string, timeoutMs = 5000): Promise<Scrape> {
  const res = await fetch(new URL('/metrics', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${baseUrl}/metrics: HTTP ${res.status}`);
  return parseExposition(await res.text());
}

export function parseExposition(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels = m[2] === undefined || m[2] === '' ? [] : [...m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort();
    out.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return out;
}

function key(name: string, labels: Record<string, string> = {}): string {
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`;
}

/** The stage spans of lux_stage_latency_seconds (the loop's and the sink's), as the daemon names them. */
export const BREAKDOWN_STAGES = LATENCY_SPANS.filter((s) => s !== 'event_to_commit' && s !== 'kafka_to_commit');

export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export interface StageLatency extends Quantiles {
  /** ms, from the cumulative sum and count over the run (exact, not windowed) */
  mean: number;
  /** batches or transactions timed in the run */
  count: number;
}

/** Every figure in ms unless its name says otherwise. */
export interface LatencyBreakdown {
  /** how to read the quantiles */
  note: string;
  /** the run's window fits in the daemon's quantile window: its quantiles are the run's (else only its last 50 s) */
  quantiles_cover_run: boolean;
  /** the daemon's event → commitTransaction returned, per record (quantiles over its last 50-60 s) */
  event_to_commit: Quantiles & { mean: number; count: number };
  /** the frame's Kafka timestamp → commit returned */
  kafka_to_commit: Quantiles & { mean: number; count: number };
  /** the probe's visible − event_time minus the daemon's event → commit, percentile by percentile (a difference of distributions, not a per-record span) */
  commit_to_visible: Quantiles | null;
  stages: Record<string, StageLatency>;
  /** commitTransaction calls in the run */
  transactions_committed: number;
  /** the run's window / transactions committed: the commit cadence */
  commit_every_ms: number | null;
  /** the daemon's main thread (prom-client, 10 ms resolution), over the run */
  eventloop_lag_p99_ms: number | null;
  eventloop_lag_max_ms: number | null;
  /** main-thread GC pauses over the run (workers' are not observed) */
  gc_pause_total_ms: number;
  gc_pauses: number;
}

function quantiles(after: Scrape, name: string, labels: Record<string, string>): Quantiles {
  const q = (p: string): number => Math.round((after.get(key(name, { ...labels, quantile: p })) ?? 0) * 1e4) / 10;
  return { p50: q('0.5'), p90: q('0.9'), p99: q('0.99'), p999: q('0.999') };
}

function delta(before: Scrape, after: Scrape, k: string): number {
  return (after.get(k) ?? 0) - (before.get(k) ?? 0);
}

function summary(before: Scrape, after: Scrape, name: string, labels: Record<string, string>): Quantiles & { mean: number; count: number } {
  const count = delta(before, after, key(`${name}_count`, labels));
  const sum = delta(before, after, key(`${name}_sum`, labels));
  return { ...quantiles(after, name, labels), mean: count > 0 ? Math.round((sum / count) * 1e4) / 10 : 0, count };
}

/** The breakdown of one run from the scrapes at its start and end; `windowS` is the time between them. */
export function latencyBreakdown(before: Scrape, after: Scrape, windowS: number): LatencyBreakdown {
  const stages: Record<string, StageLatency> = {};
  for (const s of BREAKDOWN_STAGES) stages[s] = summary(before, after, 'lux_stage_latency_seconds', { stage: s });
  // One commitTransaction call per transaction (lux_transaction_duration_seconds is observed once a second, not per commit).
  const committed = stages.transaction_commit?.count ?? 0;
  let gcSum = 0;
  let gcCount = 0;
  for (const kind of ['major', 'minor', 'incremental', 'weakcb']) {
    gcSum += delta(before, after, key('lux_nodejs_gc_duration_seconds_sum', { kind }));
    gcCount += delta(before, after, key('lux_nodejs_gc_duration_seconds_count', { kind }));
  }
  const ms = (k: string): number | null => (after.has(k) ? Math.round(after.get(k)! * 1e4) / 10 : null);
  return {
    note:
      `quantiles are the daemon's own (HDR over its last ${DAEMON_QUANTILE_COVER_S}-60 s: the whole run when it is shorter); means and counts are over the run, ` +
      'from the difference of the scrapes at the generator\'s start and once the output was all visible',
    quantiles_cover_run: windowS <= DAEMON_QUANTILE_COVER_S,
    event_to_commit: summary(before, after, 'lux_end_to_end_latency_seconds', { clock: 'event' }),
    kafka_to_commit: summary(before, after, 'lux_end_to_end_latency_seconds', { clock: 'kafka' }),
    commit_to_visible: null,
    stages,
    transactions_committed: committed,
    commit_every_ms: committed > 0 ? Math.round((windowS * 1000) / committed) : null,
    // prom-client resets its event-loop histogram at every scrape: the second scrape covers the run.
    eventloop_lag_p99_ms: ms(key('lux_nodejs_eventloop_lag_p99_seconds')),
    eventloop_lag_max_ms: ms(key('lux_nodejs_eventloop_lag_max_seconds')),
    gc_pause_total_ms: Math.round(gcSum * 1e4) / 10,
    gc_pauses: gcCount,
  };
}

/** Visible (the probe) minus the daemon's commit, percentile by percentile; can be negative where the distributions cross. */
export function commitToVisible(probe: Quantiles, daemon: Quantiles): Quantiles {
  return { p50: probe.p50 - daemon.p50, p90: probe.p90 - daemon.p90, p99: probe.p99 - daemon.p99, p999: probe.p999 - daemon.p999 };
}
