// The daemon's wiring: the pipeline built from the config, with reference data, the alarm side, metrics, HTTP probes, the latency SLA, systemd notifications and signals.
import os from 'node:os';
import type { LuxConfig } from './config/schema.js';
import { DAEMON_INTERNALS, PIPELINE_INTERNALS, SOURCE_INTERNALS, TRANSPORT_INTERNALS } from './config/internals.js';
import { kafkaConnection, type KafkaConnection } from './kafka/client.js';
import { isUnreachable } from './kafka/errors.js';
import { setKafkaLogSink } from './kafka/client.js';
import { checkKafkaFeatures } from './kafka/features.js';
import { describeSecurity, redactText, securityFailure, securityProperties } from './kafka/security.js';
import { UndecompressableReports } from './kafka/consume-errors.js';
import { ensureTopics, type TopicPlan } from './kafka/topics.js';
import { Pipeline } from './pipeline.js';
import { decoderFormat, DEFAULT_FRAME_FORMAT } from './decode/registry.js';
import { RefdataService } from './enrich/refdata-service.js';
import { openReference, type Reference } from './enrich/reference.js';
import { LuxMetrics } from './metrics/registry.js';
import { PipelineMetricsFeed } from './metrics/pipeline-metrics.js';
import { LatencyMerger, LatencyRecorder, LOOP_SPANS, SlaChecker, initLatency, type LatencySpan, type LatencyStats } from './metrics/latency.js';
import { Readiness, startHttp, type HttpService } from './service/http.js';
import { SystemdNotifier } from './service/systemd.js';
import { componentLogger, type Logger } from './service/logger.js';
import { ringBytes, type RingSizes } from './transport/batch-ring.js';
import { LuxError } from './errors.js';
import { AlarmEngine } from './alarms/alarm-thread.js';
import { AlarmSide } from './alarms/alarm-side.js';
import { handOverPartitions, takeUpPartitions, type AlarmAssignmentOptions } from './alarms/assignment.js';
import { QueuedAlarms } from './alarms/queued-alarms.js';
import { slaAlarm } from './alarms/sla-alarm.js';
import { AlertmanagerWebhook } from './alarms/webhook.js';
import type { AlarmJson, EquipmentObject } from './alarms/alarm-json.js';
import type { TransactionSide } from './sink/transaction-side.js';
import { partitionCounts } from './kafka/metadata.js';
import { KpiEngine } from './kpis/kpi-thread.js';
import { KpiSide } from './kpis/kpi-side.js';
import type { KpiAlarmJson } from './kpis/kpi-json.js';
import { readKpiState } from './kpis/kpi-state-reader.js';
import { TransactionPartials } from './kpis/transaction-partials.js';
import { KpiMetricsFeed } from './metrics/kpi-metrics.js';
import { LastKpiWindow } from './status/last-kpi-window.js';
import type { KpiMessage } from './report/kpi-message.js';
import type { WorkerKpis } from './transport/decode-worker.js';
import { StatusBuilder } from './status/status-builder.js';
import { daemonStatusSource } from './status/daemon-status-source.js';
import { DeadLetterSamples } from './status/dead-letter-samples.js';
import { OpenAlarms } from './status/open-alarms.js';
import { RecentLatency } from './status/recent-latency.js';
import type { LatencyPoint } from './status/status-document.js';

export interface Daemon {
  pipeline: Pipeline;
  http: HttpService;
  metrics: LuxMetrics;
  readiness: Readiness;
  /** Drains, commits and closes everything; resolves when done. */
  stop(): Promise<void>;
  /** What stop() is waiting on now ('running' before it is called). */
  stopStage(): string;
  /** Reloads the reference data from refdata.dir (SIGHUP). */
  reload(): Promise<void>;
  /** Resolves when the pipeline ends on its own (a fatal error), with that error. */
  done: Promise<void>;
  /** Latency of one span over the sliding window (includes what was committed in the last second). */
  latency(span: LatencySpan): LatencyStats;
  /** p50/p99/max of one span over the last few seconds (the status page's window), null when nothing was committed then. */
  recentLatency(span: LatencySpan): LatencyPoint | null;
  /** What / and /status.json show. */
  status: StatusBuilder;
  /** The last KPI window's region and vendor objects and its worst cells (empty before the first, or with KPIs off). */
  kpis(): readonly KpiMessage[];
}

/** Ring sizes from the config: slots × batch bytes, trimmed so the ring fits half the memory budget. */
export function ringSizes(config: LuxConfig): RingSizes {
  const p = config.pipeline;
  const sizes: RingSizes = {
    slots: p.slots,
    maxMessages: p.batch_max_messages,
    frameBytes: p.batch_max_bytes,
    outBytes: p.batch_max_bytes * TRANSPORT_INTERNALS.jsonPerFrameByte,
  };
  const budget = p.memory_budget_mb * 1024 * 1024;
  if (ringBytes(sizes) > budget / 2) {
    throw new LuxError(
      'E_CONFIG',
      `pipeline: ${p.slots} slots of ${p.batch_max_bytes} bytes need ${Math.ceil(ringBytes(sizes) / 1048576)} MB of shared memory, more than half of pipeline.memory_budget_mb (${p.memory_budget_mb}); lower pipeline.slots or pipeline.batch_max_bytes, or raise the budget`,
    );
  }
  return sizes;
}

/**
 * How the daemon reaches Kafka: the configured brokers, and for every client the properties of `kafka.security`
 * (secrets read now, from their files or the environment) and `kafka.extra`.
 */
export function daemonConnection(config: LuxConfig): KafkaConnection {
  return kafkaConnection(config.kafka.brokers, { ...securityProperties(config.kafka.security), ...config.kafka.extra });
}

/**
 * Every topic the daemon reads or writes, as checked at start. The daemon's own topics (its state, the KPI partials,
 * and the KPI output, on by default) are created when missing; the partials topic gets as many partitions as the raw
 * topic (`rawPartitions`), one shard of the KPI merge each.
 */
export function topicPlan(config: LuxConfig, rawPartitions: number = config.kafka.topic_partitions): TopicPlan[] {
  const kpis: TopicPlan[] = !config.kpis.enabled
    ? []
    : [
        { name: config.topics.kpis, compacted: false, own: true },
        { name: config.topics.kpi_partials, compacted: false, own: true, partitions: rawPartitions },
        { name: config.topics.kpi_state, compacted: true, own: true },
      ];
  return [
    { name: config.topics.raw, compacted: false },
    { name: config.topics.enriched, compacted: false },
    { name: config.topics.dlq, compacted: false },
    { name: config.topics.alarms, compacted: false },
    { name: config.topics.refdata, compacted: true },
    ...(config.alarms.rules.length > 0 ? [{ name: config.topics.alarm_state, compacted: true }] : []),
    ...kpis,
  ];
}

export async function startDaemon(config: LuxConfig, log: Logger): Promise<Daemon> {
  // The build must read every codec a producer may choose, and speak what kafka.security asks for.
  const missing = checkKafkaFeatures(config.kafka.security);
  if (missing.length > 0) log.warn({ missing: missing.map((m) => m.feature), packages: missing.flatMap((m) => m.packages) }, 'librdkafka lacks features (LUX_KAFKA_FEATURES_CHECK=off): some input may not be readable');
  const conn = daemonConnection(config);
  const kafkaLog = componentLogger(log, 'kafka');
  setKafkaLogSink(({ severity, facility, message, client }) => {
    const text = redactText(message, conn.properties);
    const refused = securityFailure(text);
    if (refused !== undefined) kafkaLog.error({ client, facility, reason: refused }, 'Kafka refused the connection (TLS or SASL): check kafka.security');
    else if (severity <= 3) kafkaLog.error({ client, facility }, text);
    else kafkaLog.warn({ client, facility }, text);
  });
  log.info({ brokers: conn.brokers, security: describeSecurity(config.kafka.security) }, 'connecting to Kafka');
  const transactionalId = config.kafka.transactional_id ?? `${config.kafka.group_id}-${os.hostname()}`;
  const metrics = new LuxMetrics({ rules: config.alarms.rules.map((r) => r.name) });
  const metricsFeed = new PipelineMetricsFeed(metrics);
  const readiness = new Readiness();
  const notifier = new SystemdNotifier({ log });

  const created = await untilReachable(log, conn.brokers, async () => {
    const before = await partitionCounts(conn, [config.topics.raw], DAEMON_INTERNALS.topicsTimeoutMs);
    const plan = topicPlan(config, before.get(config.topics.raw) ?? config.kafka.topic_partitions);
    return ensureTopics(conn, plan, config.kafka.create_topics, config.kafka.topic_partitions, DAEMON_INTERNALS.topicsTimeoutMs);
  });
  if (created.length > 0) log.info({ topics: created }, 'topics created');
  const counts = await partitionCounts(conn, [config.topics.raw, config.topics.kpi_partials], DAEMON_INTERNALS.topicsTimeoutMs);

  // Reference data: the CSV directory, then the compacted topic replayed from its beginning; afterwards both are
  // followed and each change is published as a new version (a small overlay, merged into a new base now and then).
  const refLog = componentLogger(log, 'refdata');
  const t0 = Date.now();
  const refdata = new RefdataService({
    dir: config.refdata.dir,
    watch: config.refdata.watch,
    brokers: conn.brokers,
    kafkaExtra: conn.properties,
    topic: config.topics.refdata,
    log: refLog,
    metrics,
  });
  await refdata.start();
  const refdataLoadedAt = Date.now();
  refLog.info({ dir: config.refdata.dir, topic: config.topics.refdata, version: refdata.current().version, ms: Date.now() - t0 }, 'reference data loaded');
  // The main thread's view of the version in force, for the alarm thread's equipment and maintenance lookups.
  let mainReference: { version: number; ref: Reference } | undefined;
  const reference = (): Reference => {
    const v = refdata.current();
    if (mainReference?.version !== v.version) mainReference = { version: v.version, ref: openReference(v.base, v.overlay) };
    return mainReference.ref;
  };

  // Alarms: the alarm thread (one feed ring per decode worker) decides them and moves its window state with the
  // pipeline's transactions; the webhook hears of them once committed (of suppressed ones never).
  const alarmLog = componentLogger(log, 'alarms');
  const webhook =
    config.alarms.webhook === undefined
      ? undefined
      : new AlertmanagerWebhook({
          url: config.alarms.webhook.url,
          maxQueue: config.alarms.webhook.max_queue,
          maxAttempts: config.alarms.webhook.max_retries + 1,
          timeoutMs: config.alarms.webhook.timeout_ms,
          onError: (err) => alarmLog.warn({ err: err.message, status: err.status }, 'webhook delivery failed'),
        });
  // the alarms open now, for the status page (raised opens, the matching cleared closes)
  const openAlarms = new OpenAlarms();
  const alarmsCommitted = (alarms: ReadonlyArray<AlarmJson | KpiAlarmJson>): void => {
    metricsFeed.committedAlarms(alarms);
    openAlarms.apply(alarms);
    if (webhook !== undefined) webhook.send(alarms.filter((a) => !a.suppressed));
  };
  if (config.alarms.checkpoint_ms !== undefined) {
    alarmLog.warn({ key: 'alarms.checkpoint_ms' }, 'alarms.checkpoint_ms is no longer used (every transaction writes the alarm state it changed); remove it');
  }
  const engine =
    config.alarms.rules.length === 0
      ? undefined
      : new AlarmEngine({
          rules: config.alarms.rules,
          idleTimeoutMs: config.alarms.idle_partition_ms,
          equipment: (id) => JSON.parse(reference().equipmentJson(id)) as EquipmentObject | null,
          maintenance: (id, t) => reference().maintenanceJson(id, t) !== 'null',
          onError: (err) => alarmLog.error({ err: err.message }, 'alarm thread failed'),
        });
  const alarmFeeds = engine === undefined ? undefined : Array.from({ length: config.pipeline.workers }, () => engine.addProducer());
  const alarmClaims = engine === undefined ? undefined : new SharedArrayBuffer(4 * config.pipeline.workers);
  const assignment: AlarmAssignmentOptions | undefined =
    engine === undefined
      ? undefined
      : { engine, conn, stateTopic: config.topics.alarm_state, groupId: config.kafka.group_id, log: alarmLog, timeoutMs: DAEMON_INTERNALS.stateReadTimeoutMs };
  const queuedAlarms = new QueuedAlarms(config.topics.alarms, alarmsCommitted);
  const sides: TransactionSide[] = [];
  if (engine !== undefined) {
    sides.push(new AlarmSide({ engine, alarmTopic: config.topics.alarms, stateTopic: config.topics.alarm_state, groupId: config.kafka.group_id, onCommitted: alarmsCommitted }));
  }

  // KPIs (SPEC section 7): each batch's partials go to the partials topic in the transaction holding its records; the
  // KPI thread merges the shards (partials partitions) this instance owns and writes each window closed by the
  // watermark over all raw partitions, exactly once, with the KPI alarms (docs/kpis.md).
  const kpiLog = componentLogger(log, 'kpis');
  const lastKpis = new LastKpiWindow();
  const kpiFeed = new KpiMetricsFeed(metrics);
  const kpis = !config.kpis.enabled
    ? undefined
    : (() => {
        const rawPartitions = counts.get(config.topics.raw) ?? config.kafka.topic_partitions;
        const shards = counts.get(config.topics.kpi_partials) ?? rawPartitions;
        const kpiEngine = new KpiEngine({
          windowMs: config.kpis.window_ms,
          latenessMs: config.kpis.lateness_ms,
          rawPartitions,
          rules: config.kpis.rules,
          dimensions: config.kpis.dimensions,
          shards,
          onError: (err) => kpiLog.error({ err: err.message }, 'KPI thread failed'),
        });
        const statePrefix = `${config.kafka.group_id}:kpis:`;
        const side = new KpiSide({
          engine: kpiEngine,
          partials: new TransactionPartials({ windowMs: config.kpis.window_ms, shards, idleTimeoutMs: config.alarms.idle_partition_ms }),
          topics: { kpis: config.topics.kpis, partials: config.topics.kpi_partials, state: config.topics.kpi_state, alarms: config.topics.alarms },
          statePrefix,
          equipment: (id) => JSON.parse(reference().equipmentJson(id)) as EquipmentObject | null,
          maintenance: (id, t) => reference().maintenanceJson(id, t) !== 'null',
          readState: async (shardList) => {
            const t0 = Date.now();
            const values = await readKpiState(conn, config.topics.kpi_state, statePrefix, shardList, DAEMON_INTERNALS.stateReadTimeoutMs);
            kpiLog.info({ shards: shardList, restored: values.size, ms: Date.now() - t0 }, 'KPI shards assigned: committed state read back');
            return values;
          },
          onCommitted: ({ kpis: emitted, alarms, prepared }) => {
            kpiFeed.committed(emitted, prepared);
            lastKpis.apply(emitted, prepared.worstCells);
            if (alarms.length > 0) alarmsCommitted(alarms);
          },
        });
        kpiLog.info({ windowMs: config.kpis.window_ms, latenessMs: config.kpis.lateness_ms, dimensions: config.kpis.dimensions, rules: config.kpis.rules.length, shards, rawPartitions }, 'KPIs on');
        return { engine: kpiEngine, side, shards };
      })();
  if (kpis !== undefined) sides.push(kpis.side);
  sides.push(queuedAlarms);

  await initLatency();
  const recorder = new LatencyRecorder(['event_to_commit', 'kafka_to_commit', 'produce_to_commit']);
  const stageRecorder = new LatencyRecorder(LOOP_SPANS);
  const merger = new LatencyMerger();
  merger.addRecorder(recorder);
  merger.addRecorder(stageRecorder);
  const sla = new SlaChecker({ seconds: config.sla.seconds, percentile: config.sla.percentile });
  // the status page's and the demo's few-seconds window, fed the same snapshots as the SLA's minute
  const recent = new RecentLatency();
  const drainLatency = () => {
    const snapshot = recorder.snapshot();
    merger.add(snapshot);
    recent.add(snapshot);
  };
  const deadLetters = new DeadLetterSamples();

  const stuck = new UndecompressableReports();
  const format = decoderFormat(DEFAULT_FRAME_FORMAT);
  const decoderModule = await format.compile();
  const budgetKb = Math.floor((config.pipeline.memory_budget_mb * 1024) / 4);
  const pipeline = new Pipeline({
    conn,
    groupId: config.kafka.group_id,
    clientId: config.kafka.client_id,
    transactionalId,
    topics: { raw: config.topics.raw, enriched: config.topics.enriched, dlq: config.topics.dlq },
    workers: config.pipeline.workers,
    ring: ringSizes(config),
    commitIntervalMs: config.pipeline.commit_interval_ms,
    transactionTimeoutMs: config.kafka.transaction_timeout_ms,
    drainTimeoutMs: config.pipeline.drain_timeout_ms,
    consumeTimeoutMs: SOURCE_INTERNALS.consumeTimeoutMs,
    consumeRestMs: SOURCE_INTERNALS.consumeRestMs,
    // One memory budget: half for the ring (checked above), a quarter each for librdkafka's fetch and produce queues.
    consumerOwn: { 'queued.max.messages.kbytes': budgetKb },
    producerOwn: { 'queue.buffering.max.kbytes': budgetKb },
    nativeProduce: config.pipeline.native_produce,
    nativeConsume: config.pipeline.native_consume,
    nativeJson: config.pipeline.native_json,
    nativeKpis: config.pipeline.native_kpis,
    workerData: {
      format: format.name,
      decoder: decoderModule,
      reference: refdata.current(),
      alarmFeeds,
      alarmClaims,
      kpis: kpis === undefined ? undefined : ({ windowMs: config.kpis.window_ms, shards: kpis.shards, dimensions: config.kpis.dimensions } satisfies WorkerKpis),
    },
    reference: () => refdata.current(),
    sides,
    inputs: kpis === undefined ? [] : [kpis.side],
    hooks: {
      // Before any record of a new partition is read: its committed alarm state, merged into the running windows.
      assigned: async (partitions) => {
        kpis?.side.rawAssigned(partitions);
        if (assignment !== undefined) await takeUpPartitions(assignment, partitions);
      },
      // After the revoked partitions' last transaction (their last state is in it).
      revoked: async (partitions) => {
        kpis?.side.rawRevoked(partitions);
        if (assignment !== undefined) await handOverPartitions(assignment, partitions);
      },
      written: kpis === undefined ? undefined : (pass) => kpis.side.written(pass),
      dispatched: (ms) => stageRecorder.record('consume_to_dispatch', ms),
      timed: (span, ms) => stageRecorder.record(span, ms),
      inputStuck: (e) => {
        if (!stuck.first(e)) return;
        log.error(e.toLog(), e.message);
        metrics.undecompressableBatch(e.topic, e.partition, e.reason);
        readiness.inputStuck = e.message;
      },
      deadLettered: (m, reason) => deadLetters.add(m.topic, m.partition, m.offset, reason),
      workerLatency: (report) => merger.add(report),
      committed: (passes, committedAt) => {
        for (const p of passes) {
          recorder.recordSince('kafka_to_commit', committedAt, p.timestamps);
          recorder.recordSince('event_to_commit', committedAt, p.eventTimes);
          recorder.record('produce_to_commit', committedAt - p.writtenAt);
        }
      },
    },
    log: componentLogger(log, 'pipeline'),
  });
  await engine?.start();
  await kpis?.engine.start();
  // The CRC tables live in the shared memory: fill them once, before any worker decodes.
  format.create(pipeline.ring.shared.memory, decoderModule).initCrc();
  metrics.ringSlots.set(config.pipeline.slots);
  metrics.workers.set(config.pipeline.workers);

  let httpUrl: string | null = null;
  const status = new StatusBuilder(
    daemonStatusSource({
      config,
      instance: transactionalId,
      startedAtMs: Date.now(),
      httpUrl: () => httpUrl,
      counters: pipeline.counters,
      lag: () => pipeline.lag(),
      readiness,
      sla: () => sla.verdict,
      refdata: refdata.counters,
      refdataLoadedAtMs: refdataLoadedAt,
      recent,
      openAlarms,
      failuresCounted: () => engine?.counters().rules.reduce((a, r) => a + r.counted, 0) ?? 0,
      deadLetters,
      kpis: () => lastKpis.messages(),
    }),
  );
  const http = await startHttp({ host: config.http.host, port: config.http.port, metrics, readiness, stallMs: DAEMON_INTERNALS.stallMs, status });
  httpUrl = http.url;
  log.info({ url: http.url }, 'http endpoint listening');

  await pipeline.start(PIPELINE_INTERNALS.connectTimeoutMs);
  readiness.producerReady = true;

  // Per second: counters into Prometheus, SLA check, readiness, watchdog-friendly heartbeat.
  let slaRaisedAt = 0;
  const tick = setInterval(() => {
    const assigned = [...pipeline.assignedPartitions];
    metricsFeed.pipeline(pipeline.counters, assigned, pipeline.lag());
    if (engine !== undefined) metricsFeed.alarms(engine.counters());
    if (kpis !== undefined) kpiFeed.counters(kpis.engine.counters());
    readiness.partitionsAssigned = assigned.length > 0;
    readiness.beat();
    recent.rotate();
    drainLatency();
    merger.add(stageRecorder.snapshot());
    metrics.feedLatency(merger);
    const verdict = sla.check(merger, pipeline.oldestPendingAgeSeconds());
    metrics.sla(verdict, config.sla.seconds);
    readiness.slaHeld = !verdict.breached;
    readiness.slaReason = verdict.reason;
    if (verdict.transition === 'breach') log.warn({ reason: verdict.reason }, 'latency SLA breached');
    if (verdict.transition === 'ok') log.info({ reason: verdict.reason }, 'latency SLA held again');
    if (verdict.transition !== undefined && config.sla.alarm) {
      const now = Date.now();
      if (verdict.transition === 'breach') slaRaisedAt = now;
      const state = verdict.transition === 'breach' ? 'raised' : 'cleared';
      queuedAlarms.enqueue([slaAlarm(state, slaRaisedAt, now, verdict.percentileSeconds, { seconds: config.sla.seconds, intervalMs: config.sla.interval_ms })]);
    }
  }, DAEMON_INTERNALS.tickMs);
  tick.unref();
  const rotate = setInterval(() => merger.rotate(), DAEMON_INTERNALS.latencyRotateMs);
  rotate.unref();
  status.start();

  await notifier.ready();
  notifier.startWatchdog(() => Date.now() - readiness.lastBeatMs < DAEMON_INTERNALS.stallMs);

  let stopped: Promise<void> | undefined;
  let stage = 'running';
  const stopStage = () => (stage === 'pipeline' ? `pipeline: ${pipeline.stopStage}` : stage);
  const stop = () =>
    (stopped ??= (async () => {
      readiness.draining = true;
      stage = 'telling systemd';
      await notifier.stopping();
      clearInterval(tick);
      clearInterval(rotate);
      status.stop();
      stage = 'pipeline';
      await pipeline.stop();
      stage = 'reference data';
      await refdata.stop();
      stage = 'alarm thread';
      await engine?.stop();
      stage = 'KPI thread';
      await kpis?.engine.stop();
      stage = 'webhook';
      await webhook?.close();
      setKafkaLogSink(undefined);
      stage = 'HTTP endpoint';
      await http.close();
      stage = 'stopped';
      recorder.destroy();
      stageRecorder.destroy();
      merger.destroy();
      recent.destroy();
    })());

  const reload = async () => {
    await notifier.reloading();
    await refdata.reload();
    if (refdata.lastReloadError === null) refLog.info({ version: refdata.current().version }, 'reference data reloaded');
    else refLog.error({ err: refdata.lastReloadError }, 'reference data reload failed; the last good version stays in force');
    await notifier.ready();
  };

  const latency = (span: LatencySpan) => {
    if (stopped === undefined) drainLatency();
    return merger.stats(span);
  };
  const recentLatency = (span: LatencySpan) => {
    // its histograms are freed once stopped
    if (stopped !== undefined) return null;
    drainLatency();
    return recent.point(span);
  };
  return { pipeline, http, metrics, readiness, stop, stopStage, reload, latency, recentLatency, status, kpis: () => lastKpis.messages(), done: pipeline.done };
}

/**
 * Runs `attempt` until the brokers answer: a broker that is down at start gives a log line per attempt and a retry
 * with backoff, never a crash loop; any other error (a missing topic, say) ends the start at once.
 */
async function untilReachable<T>(log: Logger, brokers: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      const waitMs = Math.min(DAEMON_INTERNALS.startRetryMaxMs, DAEMON_INTERNALS.startRetryBaseMs * 2 ** Math.min(n - 1, 5));
      log.warn({ brokers, attempt: n, retryInMs: waitMs, err: (err as Error).message }, 'Kafka brokers unreachable at start; retrying');
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}
