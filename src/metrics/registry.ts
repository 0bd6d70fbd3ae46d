// The Prometheus metric set (prom-client): one registry, typed handles the daemon updates per batch, HDR-fed latency summaries.
import client from 'prom-client';
import { REASON_NAMES } from '../decode/reasons.js';
import { LATENCY_SPANS, REPORTED_PERCENTILES, type LatencyMerger, type LatencySpan, type SlaVerdict } from './latency.js';

/** Transaction outcomes (label `outcome`). */
export type TransactionOutcome = 'committed' | 'aborted';
/** Webhook delivery outcomes (label `outcome`). */
export type WebhookOutcome = 'delivered' | 'failed' | 'dropped';

/** Per-rule handles, bound once so the per-batch path does no label lookup. */
export interface RuleMetrics {
  raised: client.Counter.Internal;
  cleared: client.Counter.Internal;
  suppressed: client.Counter.Internal;
  failuresCounted: client.Counter.Internal;
  open: client.Gauge.Internal<string>;
}

/** Transaction-duration buckets, seconds: a commit is normally tens of ms; the tail reaches the transaction timeout. */
const TRANSACTION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface SummaryValue {
  metricName?: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A Prometheus summary whose quantiles come from the HDR merger (prom-client's own Summary keeps a t-digest
 * per process and cannot take values merged from worker threads).
 */
class HdrSummary {
  readonly type = 'summary';
  readonly aggregator = 'omit' as const;
  private source: LatencyMerger | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly spans: readonly LatencySpan[],
    private readonly labelOf: (span: LatencySpan) => Record<string, string>,
  ) {}

  feed(merger: LatencyMerger): void {
    this.source = merger;
  }

  get(): { name: string; help: string; type: string; values: SummaryValue[]; aggregator: 'omit' } {
    const values: SummaryValue[] = [];
    for (const span of this.spans) {
      const labels = this.labelOf(span);
      const s = this.source?.stats(span);
      for (const p of REPORTED_PERCENTILES) {
        values.push({ labels: { ...labels, quantile: String(Number((p / 100).toFixed(6))) }, value: s?.quantiles.get(p) ?? 0 });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: s?.sumSeconds ?? 0 });
      values.push({ metricName: `${this.name}_count`, labels, value: s?.count ?? 0 });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'omit' };
  }

  reset(): void {}
}

/** Every metric of the daemon. Names: `lux_` prefix, base units (seconds, bytes), counters end in `_total`. */
export class LuxMetrics {
  readonly registry = new client.Registry();

  // Throughput.
  readonly framesConsumed = this.counter('lux_frames_consumed_total', 'Frames (Kafka messages) consumed from the raw topic.');
  readonly bytesConsumed = this.counter('lux_consumed_bytes_total', 'Bytes of frames consumed from the raw topic.');
  readonly recordsDecoded = this.counter('lux_records_decoded_total', 'Records decoded from frames.');
  readonly recordsProduced = this.counter('lux_records_produced_total', 'Enriched records committed to the enriched topic.');
  private readonly deadLettered = new client.Counter({
    name: 'lux_frames_dead_lettered_total',
    help: 'Frames written to the dead-letter topic, by reason (SPEC section 1).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Index = reason code (src/decode/reasons.ts); index 0 (ok) is unused. */
  readonly deadLetteredByReason: readonly client.Counter.Internal[] = REASON_NAMES.map((r, code) => {
    // Every reason is exported from the start (at 0) so rate() and absent() work before the first dead letter.
    if (code !== 0) this.deadLettered.inc({ reason: r }, 0);
    return this.deadLettered.labels(r);
  });

  // Kafka.
  private readonly lag = new client.Gauge({
    name: 'lux_consumer_lag_messages',
    help: 'Messages between the committed offset and the high watermark, per assigned raw-topic partition.',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });
  readonly partitionsAssigned = this.gauge('lux_partitions_assigned', 'Raw-topic partitions assigned to this process.');
  private readonly undecompressable = new client.Counter({
    name: 'lux_consume_undecompressable_batches_total',
    help: 'Fetched batches this build cannot decompress (a codec missing, or bad compressed bytes), per input partition; the partition reads nothing past one.',
    labelNames: ['topic', 'partition', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly transactionDuration = new client.Histogram({
    name: 'lux_transaction_duration_seconds',
    help: 'Kafka transaction duration, begin to commit or abort.',
    labelNames: ['outcome'] as const,
    buckets: TRANSACTION_BUCKETS,
    registers: [this.registry],
  });
  readonly transactionCommitted = this.transactionDuration.labels('committed');
  readonly transactionAborted = this.transactionDuration.labels('aborted');

  // Transport and workers.
  readonly ringSlots = this.gauge('lux_ring_slots', 'Slots of the shared-memory ring.');
  readonly ringSlotsUsed = this.gauge('lux_ring_slots_used', 'Ring slots holding a batch in flight.');
  readonly ringBytesUsed = this.gauge('lux_ring_used_bytes', 'Bytes of the ring held by batches in flight.');
  readonly workers = this.gauge('lux_workers', 'Decode worker threads.');
  readonly workerUtilisation = this.gauge(
    'lux_worker_utilization_ratio',
    'Share of time the decode workers were busy over the last interval (0 to 1).',
  );

  // Reference data.
  readonly snapshotVersion = this.gauge('lux_refdata_snapshot_version', 'Version of the reference-data snapshot in use.');
  private readonly tableRows = new client.Gauge({
    name: 'lux_refdata_rows',
    help: 'Rows per reference-data table in the snapshot in use.',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  private lastRefdataUpdateMs = 0;
  readonly refdataLastUpdate = this.gauge(
    'lux_refdata_last_update_timestamp_seconds',
    'Unix time of the last reference-data snapshot swap.',
  );
  private readonly refdataBadUpdates = new client.Counter({
    name: 'lux_refdata_bad_updates_total',
    help: 'Reference-data updates skipped because they were invalid, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly refdataReloadFailures = new client.Counter({
    name: 'lux_refdata_reload_failures_total',
    help: 'Reference-data reloads (SIGHUP or a watched change) refused for a bad file; the last good version stayed in force.',
    registers: [this.registry],
  });
  private readonly refdataAge = new client.Gauge({
    name: 'lux_refdata_last_update_age_seconds',
    help: 'Seconds since the last reference-data snapshot swap.',
    registers: [this.registry],
    collect: () => {
      if (this.lastRefdataUpdateMs > 0) this.refdataAge.set((Date.now() - this.lastRefdataUpdateMs) / 1000);
    },
  });

  // Alarms. Labels are rule names (bounded by the config), never equipment ids.
  private readonly alarmsRaised = this.ruleCounter('lux_alarms_raised_total', 'Alarms raised, by rule.');
  private readonly alarmsCleared = this.ruleCounter('lux_alarms_cleared_total', 'Alarms cleared, by rule.');
  private readonly alarmsSuppressed = this.ruleCounter(
    'lux_alarms_suppressed_total',
    'Alarms emitted marked suppressed (equipment under maintenance), by rule.',
  );
  private readonly failuresCounted = this.ruleCounter(
    'lux_alarm_failures_counted_total',
    'Non-success records counted into windows, by rule.',
  );
  private readonly alarmsOpen = new client.Gauge({
    name: 'lux_alarms_open',
    help: 'Alarms currently raised and not cleared, by rule.',
    labelNames: ['rule'] as const,
    registers: [this.registry],
  });
  readonly lateRecordsDropped = this.counter(
    'lux_alarm_late_records_total',
    'Records that arrived behind the watermark and were not counted.',
  );
  private readonly webhookDeliveries = new client.Counter({
    name: 'lux_webhook_deliveries_total',
    help: 'Alarm webhook deliveries, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhook: Readonly<Record<WebhookOutcome, client.Counter.Internal>> = {
    delivered: this.webhookDeliveries.labels('delivered'),
    failed: this.webhookDeliveries.labels('failed'),
    dropped: this.webhookDeliveries.labels('dropped'),
  };
  private readonly rules = new Map<string, RuleMetrics>();

  // SLA and latency.
  readonly slaBreach = this.gauge('lux_sla_breach', '1 while the end-to-end latency SLA is breached, else 0.');
  readonly slaBound = this.gauge('lux_sla_bound_seconds', 'The end-to-end latency bound of the SLA.');
  readonly slaPercentile = this.gauge('lux_sla_percentile_seconds', 'The SLA percentile of event-to-commit latency over the SLA interval.');
  readonly slaMax = this.gauge('lux_sla_max_seconds', 'The maximum event-to-commit latency over the SLA interval.');
  private readonly endToEnd = new HdrSummary(
    'lux_end_to_end_latency_seconds',
    'Latency from a record\'s clock (event time, or Kafka timestamp of its frame) to its transaction commit, over the SLA interval.',
    ['event_to_commit', 'kafka_to_commit'],
    (span) => ({ clock: span === 'event_to_commit' ? 'event' : 'kafka' }),
  );
  private readonly stage = new HdrSummary(
    'lux_stage_latency_seconds',
    'Latency of one pipeline stage per batch, over the SLA interval.',
    LATENCY_SPANS.filter((s) => s !== 'event_to_commit' && s !== 'kafka_to_commit'),
    (span) => ({ stage: span }),
  );

  constructor(options: { rules?: readonly string[]; collectProcessMetrics?: boolean } = {}) {
    this.registry.registerMetric(this.endToEnd as unknown as client.Metric);
    this.registry.registerMetric(this.stage as unknown as client.Metric);
    for (const r of options.rules ?? []) this.rule(r);
    for (const outcome of Object.keys(this.webhook)) this.webhookDeliveries.inc({ outcome }, 0);
    // Node's own metrics (heap, event-loop lag, fds, CPU) with the same prefix.
    if (options.collectProcessMetrics ?? true) client.collectDefaultMetrics({ register: this.registry, prefix: 'lux_' });
  }

  /** Bound handles of one alarm rule (created on first use; rules come from the config, so the label set is bounded). */
  rule(name: string): RuleMetrics {
    let m = this.rules.get(name);
    if (m === undefined) {
      m = {
        raised: this.alarmsRaised.labels(name),
        cleared: this.alarmsCleared.labels(name),
        suppressed: this.alarmsSuppressed.labels(name),
        failuresCounted: this.failuresCounted.labels(name),
        open: this.alarmsOpen.labels(name),
      };
      for (const c of [this.alarmsRaised, this.alarmsCleared, this.alarmsSuppressed, this.failuresCounted]) {
        c.inc({ rule: name }, 0);
      }
      m.open.set(0);
      this.rules.set(name, m);
    }
    return m;
  }

  /** Consumer lag of one partition (per batch or per interval). */
  setLag(partition: number, messages: number): void {
    this.lag.labels(String(partition)).set(messages);
  }

  /** Forgets the partitions this process no longer holds (after a rebalance). */
  setAssignedPartitions(partitions: readonly number[]): void {
    this.lag.reset();
    for (const p of partitions) this.lag.labels(String(p)).set(0);
    this.partitionsAssigned.set(partitions.length);
  }

  /** A batch that cannot be decompressed was met (once per batch). */
  undecompressableBatch(topic: string, partition: number | undefined, reason: string): void {
    this.undecompressable.inc({ topic, partition: partition === undefined ? 'unknown' : String(partition), reason });
  }

  deadLetter(reasonCode: number, frames = 1): void {
    this.deadLetteredByReason[reasonCode]?.inc(frames);
  }

  transaction(outcome: TransactionOutcome, seconds: number): void {
    (outcome === 'committed' ? this.transactionCommitted : this.transactionAborted).observe(seconds);
  }

  /** A new reference-data snapshot is in use. */
  refdataSnapshot(version: number, rowsByTable: Readonly<Record<string, number>>, atMs = Date.now()): void {
    this.snapshotVersion.set(version);
    this.tableRows.reset();
    for (const [table, rows] of Object.entries(rowsByTable)) this.tableRows.labels(table).set(rows);
    this.lastRefdataUpdateMs = atMs;
    this.refdataLastUpdate.set(atMs / 1000);
  }

  /** A reference-data update was skipped (the last good version stays in force). */
  refdataBadUpdate(reason: string): void {
    this.refdataBadUpdates.labels(reason).inc();
  }

  /** A reference-data reload was refused (the last good version stays in force). */
  refdataReloadFailed(): void {
    this.refdataReloadFailures.inc();
  }

  /** The latency summaries read the merger at scrape time. */
  feedLatency(merger: LatencyMerger): void {
    this.endToEnd.feed(merger);
    this.stage.feed(merger);
  }

  /** The outcome of an SLA check. */
  sla(verdict: SlaVerdict, boundSeconds: number): void {
    this.slaBreach.set(verdict.breached ? 1 : 0);
    this.slaBound.set(boundSeconds);
    this.slaPercentile.set(verdict.percentileSeconds);
    this.slaMax.set(verdict.maxSeconds);
  }

  /** The exposition text for /metrics. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private counter(name: string, help: string): client.Counter {
    return new client.Counter({ name, help, registers: [this.registry] });
  }

  private gauge(name: string, help: string): client.Gauge {
    return new client.Gauge({ name, help, registers: [this.registry] });
  }

  private ruleCounter(name: string, help: string): client.Counter<'rule'> {
    return new client.Counter({ name, help, labelNames: ['rule'] as const, registers: [this.registry] });
  }
}
