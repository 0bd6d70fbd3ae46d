// The daemon: builds the pipeline from the config, with the reference snapshot, metrics, HTTP probes, latency SLA, systemd notifications and signals.
import os from 'node:os';
import type { LuxConfig } from './config/schema.js';
import { Pipeline, type CommittedBatch } from './pipeline.js';
import { ensureTopics, isUnreachable } from './sink/topics.js';
import { compileLxe1, Lxe1Decoder } from './decode/wasm-decoder.js';
import { RefdataService } from './enrich/refdata-service.js';
import { openReference, type Reference } from './enrich/reference.js';
import { LuxMetrics } from './metrics/registry.js';
import { LatencyMerger, LatencyRecorder, SlaChecker, initLatency, type LatencySpan, type LatencyStats } from './metrics/latency.js';
import { Readiness, startHttp, type HttpService } from './service/http.js';
import { SystemdNotifier } from './service/systemd.js';
import { componentLogger, type Logger } from './service/logger.js';
import { REASON_NAMES } from './decode/reasons.js';
import { ringBytes, type RingSizes } from './transport/batch-ring.js';
import { LuxError } from './errors.js';
import { AlarmEngine } from './alarms/alarm-thread.js';
import { changelogKey, readChangelog } from './alarms/changelog.js';
import { assembleSnapshot } from './alarms/state-codec.js';
import { AlertmanagerWebhook } from './alarms/webhook.js';
import type { AlarmJson, EquipmentObject } from './alarms/alarm-json.js';

/** Output JSON area per slot, as a multiple of its frame area: enriched JSON runs ~10× the frame bytes. */
const JSON_PER_FRAME_BYTE = 12;

export interface Daemon {
  pipeline: Pipeline;
  http: HttpService;
  metrics: LuxMetrics;
  readiness: Readiness;
  /** Drains, commits and closes everything; resolves when done. */
  stop(): Promise<void>;
  /** Reloads the reference data from refdata.dir (SIGHUP). */
  reload(): Promise<void>;
  /** Resolves when the pipeline ends on its own (a fatal error), with that error. */
  done: Promise<void>;
  /** Latency of one span over the sliding window (includes what was committed in the last second). */
  latency(span: LatencySpan): LatencyStats;
}

/** Ring sizes from the config: slots × batch bytes, trimmed so the ring fits half the memory budget. */
export function ringSizes(config: LuxConfig): RingSizes {
  const p = config.pipeline;
  const sizes: RingSizes = {
    slots: p.slots,
    maxMessages: p.batch_max_messages,
    frameBytes: p.batch_max_bytes,
    outBytes: p.batch_max_bytes * JSON_PER_FRAME_BYTE,
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

export async function startDaemon(config: LuxConfig, log: Logger): Promise<Daemon> {
  const brokers = config.kafka.brokers.join(',');
  const transactionalId = config.kafka.transactional_id ?? `${config.kafka.group_id}-${os.hostname()}`;
  const metrics = new LuxMetrics({ rules: config.alarms.rules.map((r) => r.name) });
  const readiness = new Readiness();
  const notifier = new SystemdNotifier({ log });


  const created = await untilReachable(log, brokers, () => ensureTopics(
    brokers,
    [
      { name: config.topics.raw, compacted: false },
      { name: config.topics.enriched, compacted: false },
      { name: config.topics.dlq, compacted: false },
      { name: config.topics.alarms, compacted: false },
      { name: config.topics.refdata, compacted: true },
      ...(config.alarms.rules.length > 0 ? [{ name: config.topics.alarm_state, compacted: true }] : []),
    ],
    config.kafka.create_topics,
    config.kafka.topic_partitions,
    5000,
  ));
  if (created.length > 0) log.info({ topics: created }, 'topics created');

  // Reference data: the CSV directory, then the compacted topic replayed from its beginning; afterwards both are
  // followed and each change is published as a new version (a small overlay, merged into a new base now and then).
  const refLog = componentLogger(log, 'refdata');
  const t0 = Date.now();
  const refdata = new RefdataService({ dir: config.refdata.dir, watch: config.refdata.watch, brokers, topic: config.topics.refdata, log: refLog, metrics });
  await refdata.start();
  refLog.info({ dir: config.refdata.dir, topic: config.topics.refdata, version: refdata.current().version, ms: Date.now() - t0 }, 'reference data loaded');
  // The main thread's view of the version in force, for the alarm thread's equipment and maintenance lookups.
  let mainReference: { version: number; ref: Reference } | undefined;
  const reference = (): Reference => {
    const v = refdata.current();
    if (mainReference?.version !== v.version) mainReference = { version: v.version, ref: openReference(v.base, v.overlay) };
    return mainReference.ref;
  };

  // The alarm thread: one feed ring per decode worker; alarms go into the pipeline's transactions, and to the
  // webhook once committed (suppressed ones never).
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
  // The window state moves with the pipeline's transactions: each one writes what it changed into the compacted state
  // topic with the offsets, per input partition its own value (`<group_id>:<partition>`) and one per equipment
  // changed (`<group_id>:<partition>:e<equipment>`, a tombstone once evicted); an abort puts the windows back. A
  // partition assigned (at start, on every rebalance) reads its values back first, so neither a restart, a crash nor
  // a partition moving to another instance misses an alarm or repeats a raise.
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

  const decoderModule = await compileLxe1();
  const budgetKb = Math.floor((config.pipeline.memory_budget_mb * 1024) / 4);
  const pipeline = new Pipeline({
    brokers,
    groupId: config.kafka.group_id,
    clientId: config.kafka.client_id,
    transactionalId,
    topics: { raw: config.topics.raw, enriched: config.topics.enriched, dlq: config.topics.dlq, alarms: config.topics.alarms },
    workers: config.pipeline.workers,
    ring: ringSizes(config),
    commitIntervalMs: config.pipeline.commit_interval_ms,
    transactionTimeoutMs: config.kafka.transaction_timeout_ms,
    drainTimeoutMs: config.pipeline.drain_timeout_ms,
    consumeTimeoutMs: 10,
    // One memory budget: half for the ring (checked above), a quarter each for librdkafka's fetch and produce queues.
    consumerExtra: { 'queued.max.messages.kbytes': budgetKb, ...config.kafka.extra },
    producerExtra: { 'queue.buffering.max.kbytes': budgetKb, ...config.kafka.extra },
    workerData: { decoder: decoderModule, reference: refdata.current(), alarmFeeds, alarmClaims },
    reference: () => refdata.current(),
    alarms:
      engine === undefined
        ? undefined
        : {
            stateTopic: config.topics.alarm_state,
            prepare: async (throughSeq, owned) => {
              const { alarms, entries } = await engine.prepare(throughSeq, owned);
              return { alarms, messages: entries.map((e) => ({ key: changelogKey(config.kafka.group_id, e), value: e.state })) };
            },
            settle: () => engine.settle(true),
            discard: () => engine.discard(),
            due: () => engine.due,
          },
    log: componentLogger(log, 'pipeline'),
  });
  if (engine !== undefined) {
    // Before any record of a new partition is read: its committed changelog values, merged into the running windows.
    pipeline.onAssigned = async (partitions) => {
      const t0 = Date.now();
      const found = await readChangelog(brokers, config.topics.alarm_state, config.kafka.group_id, partitions);
      const states: Buffer[] = [];
      let equipment = 0;
      for (const [partition, c] of found) {
        try {
          states.push(assembleSnapshot(partition, c.partition, c.equipment));
        } catch (err) {
          throw new LuxError('E_KAFKA', `${config.topics.alarm_state}: the alarm state of partition ${partition} cannot be read: ${(err as Error).message}`);
        }
        equipment += c.equipment.length;
      }
      if (states.length > 0) {
        const rules = await engine.restore(states);
        alarmLog.info({ partitions, restored: states.length, equipment, ms: Date.now() - t0, rules }, 'alarm windows restored from the state changelog');
      }
      engine.assign(partitions);
    };
    // After the revoked partitions' last transaction (their last state is in it).
    pipeline.onRevoked = async (partitions) => {
      await engine.forget(partitions);
    };
    await engine.start();
  }
  // The CRC tables live in the shared memory: fill them once, before any worker decodes.
  new Lxe1Decoder(pipeline.ring.shared.memory, decoderModule).initCrc();
  metrics.ringSlots.set(config.pipeline.slots);
  metrics.workers.set(config.pipeline.workers);

  await initLatency();
  const recorder = new LatencyRecorder(['event_to_commit', 'kafka_to_commit', 'produce_to_commit']);
  const merger = new LatencyMerger();
  merger.addRecorder(recorder);
  const sla = new SlaChecker({ seconds: config.sla.seconds, percentile: config.sla.percentile });
  const stageRecorder = new LatencyRecorder(['consume_to_dispatch']);
  merger.addRecorder(stageRecorder);
  pipeline.onDispatch = (ms) => stageRecorder.record('consume_to_dispatch', ms);
  pipeline.onWorkerLatency = (report) => merger.add(report);
  pipeline.onCommit = (batches: CommittedBatch[], committedAt: number, alarms: AlarmJson[]) => {
    for (const a of alarms) {
      const m = metrics.rule(a.rule);
      if (a.state === 'raised') m.raised.inc();
      else m.cleared.inc();
      if (a.suppressed) m.suppressed.inc();
    }
    if (webhook !== undefined && alarms.length > 0) webhook.send(alarms.filter((a) => !a.suppressed));
    for (const b of batches) {
      recorder.recordSince('kafka_to_commit', committedAt, b.timestamps);
      recorder.recordSince('event_to_commit', committedAt, b.eventTimes);
      recorder.record('produce_to_commit', committedAt - b.drainedAt);
    }
  };

  const http = await startHttp({ host: config.http.host, port: config.http.port, metrics, readiness, stallMs: 30000 });
  log.info({ url: http.url }, 'http endpoint listening');

  await pipeline.start(30000);
  readiness.producerReady = true;

  // Per second: counters into Prometheus, SLA check, readiness, watchdog-friendly heartbeat.
  let slaRaisedAt = 0;
  const seen = { frames: 0, records: 0, transactions: 0, aborts: 0, dead: new Map<string, number>(), counted: new Map<string, number>(), late: 0 };
  const tick = setInterval(() => {
    const c = pipeline.counters;
    metrics.framesConsumed.inc(c.framesIn - seen.frames);
    metrics.recordsProduced.inc(c.recordsOut - seen.records);
    seen.frames = c.framesIn;
    seen.records = c.recordsOut;
    for (const [reason, n] of c.deadLettersByReason) {
      const before = seen.dead.get(reason) ?? 0;
      if (n > before) metrics.deadLetter(REASON_NAMES.indexOf(reason), n - before);
      seen.dead.set(reason, n);
    }
    if (c.transactions > seen.transactions) metrics.transaction('committed', c.lastTransactionMs / 1000);
    if (c.aborts > seen.aborts) metrics.transaction('aborted', 0);
    seen.transactions = c.transactions;
    seen.aborts = c.aborts;
    if (engine !== undefined) {
      // the alarm thread's counters as of the last commit: failures counted and alarms open per rule, late records
      const a = engine.counters();
      for (const r of a.rules) {
        const m = metrics.rule(r.name);
        const before = seen.counted.get(r.name) ?? 0;
        if (r.counted > before) m.failuresCounted.inc(r.counted - before);
        seen.counted.set(r.name, Math.max(before, r.counted));
        m.open.set(r.open);
      }
      if (a.lateDropped > seen.late) metrics.lateRecordsDropped.inc(a.lateDropped - seen.late);
      seen.late = Math.max(seen.late, a.lateDropped);
    }
    metrics.ringSlotsUsed.set(c.inflight);
    const assigned = [...pipeline.assignedPartitions];
    metrics.setAssignedPartitions(assigned);
    for (const [p, lag] of pipeline.lag()) metrics.setLag(p, lag);
    readiness.partitionsAssigned = assigned.length > 0;
    readiness.beat();
    merger.add(recorder.snapshot());
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
      pipeline.enqueueAlarms([slaAlarm(verdict.transition === 'breach' ? 'raised' : 'cleared', slaRaisedAt, now, verdict.percentileSeconds, config)]);
    }
  }, 1000);
  tick.unref();
  const rotate = setInterval(() => merger.rotate(), 10000);
  rotate.unref();

  await notifier.ready();
  notifier.startWatchdog(() => Date.now() - readiness.lastBeatMs < 30000);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      readiness.draining = true;
      await notifier.stopping();
      clearInterval(tick);
      clearInterval(rotate);
      await pipeline.stop();
      await refdata.stop();
      await engine?.stop();
      await webhook?.close();
      await http.close();
      recorder.destroy();
      stageRecorder.destroy();
      merger.destroy();
    })());

  const reload = async () => {
    await notifier.reloading();
    await refdata.reload();
    if (refdata.lastReloadError === null) refLog.info({ version: refdata.current().version }, 'reference data reloaded');
    else refLog.error({ err: refdata.lastReloadError }, 'reference data reload failed; the last good version stays in force');
    await notifier.ready();
  };

  const latency = (span: LatencySpan) => {
    if (stopped === undefined) merger.add(recorder.snapshot());
    return merger.stats(span);
  };
  return { pipeline, http, metrics, readiness, stop, reload, latency, done: pipeline.done };
}

/**
 * Runs `attempt` until the brokers answer: a broker that is down at start gives a log line per attempt and a retry
 * with backoff (up to 30 s), never a crash loop; any other error (a missing topic, say) ends the start at once.
 */
async function untilReachable<T>(log: Logger, brokers: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      const waitMs = Math.min(30000, 1000 * 2 ** Math.min(n - 1, 5));
      log.warn({ brokers, attempt: n, retryInMs: waitMs, err: (err as Error).message }, 'Kafka brokers unreachable at start; retrying');
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

/**
 * The SLA as an alarm (sla.alarm: true), in the SPEC section 4 shape: rule `sla`, equipment_id 0 (the pipeline, not an
 * equipment), `count` the latency percentile in ms, `threshold` the bound in ms, the window the SLA interval.
 */
function slaAlarm(state: 'raised' | 'cleared', raisedAt: number, now: number, percentileSeconds: number, config: LuxConfig): AlarmJson {
  return {
    alarm_id: `sla:0:${raisedAt}`,
    rule: 'sla',
    state,
    equipment_id: 0,
    count: Math.round(percentileSeconds * 1000),
    threshold: Math.round(config.sla.seconds * 1000),
    window_start: new Date(now - config.sla.interval_ms).toISOString(),
    window_end: new Date(now).toISOString(),
    suppressed: false,
    equipment: null,
    emitted_at: new Date(now).toISOString(),
  };
}
