// The data path assembled: raw topic → batch ring → decode workers → enriched/dead-letter topics, in transactions that also commit the consumed offsets.
import { Piscina } from 'piscina';
import type { Message, TopicPartition, TopicPartitionOffset } from 'node-rdkafka';
import { KafkaSource } from './source/kafka-consumer.js';
import { TransactionalSink, type Header } from './sink/transactional-producer.js';
import { RingViews, createRingShared, type RingSizes } from './transport/batch-ring.js';
import type { DecodeResult, DecodeTask } from './transport/decode-task.js';
import { MSG_WORDS, M_COUNT, M_FIRST, M_REASON, REC_WORDS, R_EQUIPMENT, R_TIME_F64 } from './decode/layout.js';
import { REASON_NAMES } from './decode/reasons.js';
import { distModule } from './paths.js';
import { LuxError } from './errors.js';
import { alarmKey, alarmValue, type AlarmJson } from './alarms/alarm-json.js';
import type { ReferenceVersion } from './enrich/reference.js';
import type { LatencySnapshot } from './metrics/latency.js';

export interface PipelineOptions {
  brokers: string;
  groupId: string;
  clientId: string;
  transactionalId: string;
  topics: { raw: string; enriched: string; dlq: string; alarms: string };
  workers: number;
  ring: RingSizes;
  /** a transaction commits at least this often while records flow */
  commitIntervalMs: number;
  transactionTimeoutMs: number;
  /** SIGTERM: time allowed to drain in-flight batches and commit */
  drainTimeoutMs: number;
  /** per-message wait of a batch read */
  consumeTimeoutMs: number;
  consumerExtra?: Record<string, string | number | boolean>;
  producerExtra?: Record<string, string | number | boolean>;
  /** what the workers need besides the ring: the compiled decoder, the first reference snapshot, the alarm feed */
  workerData: Record<string, unknown>;
  /** the reference data in force now; each batch is enriched against the version current when it is dispatched */
  reference: () => ReferenceVersion;
  /**
   * The alarm side of every transaction (alarms/alarm-thread.ts). Before a commit, `prepare` is given the number of
   * the last batch the transaction holds and the partitions this instance owns; it returns the alarms decided and
   * the window-state messages for `stateTopic` (null values: tombstones), written with the offsets. `settle` follows
   * a commit, `discard` an abort (once nothing is in flight). `due` asks for a transaction although no record flows
   * (windows to close).
   */
  alarms?: PipelineAlarms;
  log: PipelineLog;
}

export interface PipelineAlarms {
  stateTopic: string;
  prepare(throughSeq: number, owned: number[]): Promise<{ alarms: AlarmJson[]; messages: Array<{ key: string; value: Buffer | null }> }>;
  settle(): Promise<void>;
  discard(): Promise<void>;
  due(): boolean;
}

export interface PipelineLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Counters the metrics endpoint and the demo read; plain numbers, updated per batch. */
export class PipelineCounters {
  framesIn = 0;
  recordsOut = 0;
  deadLetters = 0;
  readonly deadLettersByReason = new Map<string, number>();
  transactions = 0;
  aborts = 0;
  /** alarms written to the alarm topic */
  alarms = 0;
  lastTransactionMs = 0;
  decodeNs = 0;
  enrichNs = 0;
  /** slots in use right now */
  inflight = 0;
  paused = false;
}

/** One batch in flight: a slot and the Kafka messages whose frames it holds. */
interface Batch {
  /** dispatch order: the alarm thread applies a batch's entries with the transaction that holds its records */
  seq: number;
  slot: number;
  messages: Message[];
  start: number;
  count: number;
  /** where the next pass starts (message, record within it); a pass may stop early when the JSON area fills */
  from: number;
  fromRecord: number;
  /** the reference data every pass of this batch uses */
  reference: ReferenceVersion;
  promise: Promise<DecodeResult>;
}

/** A committed batch's timing, handed to the latency observer after the commit that made it visible. */
export interface CommittedBatch {
  /** Kafka timestamps (ms) of the messages whose last record this pass produced */
  timestamps: Float64Array;
  /** event times (ms) of the records this pass produced */
  eventTimes: Float64Array;
  /** when the pass was written into the transaction */
  drainedAt: number;
}

export class Pipeline {
  readonly counters = new PipelineCounters();
  private readonly options: PipelineOptions;
  private readonly source: KafkaSource;
  private readonly sink: TransactionalSink;
  private readonly views: RingViews;
  private pool: Piscina | undefined;
  private readonly inflight: Batch[] = [];
  private readonly freeSlots: number[] = [];
  /** next offset to commit per partition, for what the open transaction holds */
  private readonly pendingOffsets = new Map<number, number>();
  /** next offset to read per partition, as far as the pipeline has taken messages */
  private readonly positions = new Map<number, number>();
  private readonly committedTimings: CommittedBatch[] = [];
  private transactionStartedAt = 0;
  private stopping = false;
  private quiesceWaiters: (() => void)[] = [];
  private batchSize = 64;
  private loopDone: Promise<void> | undefined;
  private loopEnded = false;
  private consumedAt = 0;
  /** Kafka timestamp of the oldest message consumed and not yet committed (a stalled pipeline shows here) */
  private oldestPending: number | undefined;
  /** the number of the next batch dispatched, and of the last one wholly written into a transaction */
  private nextSeq = 1;
  private producedSeq = 0;
  /** the commit in flight, if any: nothing is produced until it settles */
  private committing: Promise<void> | undefined;
  /**
   * A recovery (abort and rewind) is running: nothing is consumed until it ends. `epoch` counts recoveries, so a
   * consume that was in flight when one began drops what it read (pre-rewind messages, read again after it); the
   * consume call in flight is awaited before the rewind, so none spans the seek.
   */
  private recovering = false;
  private epoch = 0;
  /** when the producer was last replaced after a fatal error (within PRODUCER_RENEWALS.windowMs) */
  private renewedAt: number[] = [];
  private consumeCall: Promise<Message[]> | undefined;
  private readonly keyCache = new Map<number, string>();
  /** called with each batch's consume-to-dispatch time (ms), and with each latency report a worker sends */
  onDispatch: ((ms: number) => void) | undefined;
  onWorkerLatency: ((report: LatencySnapshot) => void) | undefined;
  /** called after each commit with the batches and alarms it made visible */
  onCommit: ((batches: CommittedBatch[], committedAt: number, alarms: AlarmJson[]) => void) | undefined;
  /** alarms from outside the alarm thread (the SLA's), waiting for the next transaction */
  private readonly pendingAlarms: AlarmJson[] = [];
  /** alarms written into the open transaction */
  private readonly alarmsInTransaction: AlarmJson[] = [];
  /** those of them that came from `pendingAlarms` (written again after an abort; the thread decides its own again) */
  private readonly queuedInTransaction: AlarmJson[] = [];
  /**
   * Called with the partitions newly assigned, before any of their records is read (awaited: their state can be
   * restored first; a failure ends the pipeline), and with those about to leave, after their last commit.
   */
  onAssigned: ((partitions: number[]) => void | Promise<void>) | undefined;
  onRevoked: ((partitions: number[]) => void | Promise<void>) | undefined;
  /** partitions being revoked whose last window state is not written yet */
  private readonly leaving = new Set<number>();
  /** partitions whose last window state is written: later transactions leave their keys alone (until assigned again) */
  private readonly left = new Set<number>();
  /** an error outside the loop (restoring an assignment's state) that must end it */
  private fatal: Error | undefined;

  constructor(options: PipelineOptions) {
    this.options = options;
    this.source = new KafkaSource({
      brokers: options.brokers,
      groupId: options.groupId,
      clientId: options.clientId,
      topic: options.topics.raw,
      consumeTimeoutMs: options.consumeTimeoutMs,
      extra: options.consumerExtra,
    });
    this.sink = new TransactionalSink({
      brokers: options.brokers,
      clientId: options.clientId,
      transactionalId: options.transactionalId,
      transactionTimeoutMs: options.transactionTimeoutMs,
      callTimeoutMs: Math.max(10000, Math.min(options.transactionTimeoutMs, 60000)),
      onRetry: (call, attempt, err) => options.log.warn({ call, attempt, err: err.message }, 'transactional call failed; retrying it (the broker may be away)'),
      extra: options.producerExtra,
    });
    this.views = new RingViews(createRingShared(options.ring));
    for (let i = 0; i < options.ring.slots; i++) this.freeSlots.push(i);
    this.source.setHooks({
      assigned: (tps) => this.onPartitionsAssigned(tps),
      revoking: (tps) => this.onPartitionsRevoking(tps),
    });
  }

  /** The shared memories, for whoever must instantiate against them before the workers do (e.g. CRC table init). */
  get ring(): RingViews {
    return this.views;
  }

  get assignedPartitions(): ReadonlySet<number> {
    return this.source.assigned;
  }

  get consumer() {
    return this.source.consumer;
  }

  /** Seconds since the oldest consumed, uncommitted message was produced (0 when nothing is pending). */
  oldestPendingAgeSeconds(): number {
    return this.oldestPending === undefined ? 0 : Math.max(0, (Date.now() - this.oldestPending) / 1000);
  }

  /** Per-partition lag of the source. */
  lag(): Map<number, number> {
    return this.source.lag((p) => this.positions.get(p));
  }

  /** Connects, checks the topics, subscribes and runs until `stop()`. */
  async start(connectTimeoutMs: number): Promise<void> {
    const { log } = this.options;
    this.pool = new Piscina({
      filename: distModule('transport/decode-worker.js'),
      minThreads: this.options.workers,
      maxThreads: this.options.workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      atomics: 'sync',
      workerData: { ring: this.views.shared, ...this.options.workerData },
    });
    await this.sink.connect(connectTimeoutMs);
    await this.source.connect(connectTimeoutMs);
    await this.source.partitions(connectTimeoutMs);
    this.source.subscribe();
    log.info({ topic: this.options.topics.raw, group: this.options.groupId, transactionalId: this.options.transactionalId, workers: this.options.workers }, 'pipeline started');
    this.loopDone = this.loop();
  }

  /** Resolves when the loop ends (after stop, or with the error that ended it). */
  get done(): Promise<void> {
    return this.loopDone ?? Promise.resolve();
  }

  /** Drains in-flight batches, commits, and disconnects; aborts instead when the drain takes longer than allowed. */
  async stop(): Promise<void> {
    this.stopping = true;
    const { log, drainTimeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), drainTimeoutMs);
    });
    const outcome = await Promise.race([this.done.then(() => 'drained' as const, () => 'failed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      log.warn({ drainTimeoutMs }, 'drain took too long: aborting the open transaction; its records will be processed again after restart');
      await this.sink.abort().catch(() => undefined);
    }
    await this.source.disconnect(5000);
    await this.sink.disconnect(5000);
    await this.pool?.destroy();
    log.info({ framesIn: this.counters.framesIn, recordsOut: this.counters.recordsOut, deadLetters: this.counters.deadLetters }, 'pipeline stopped');
  }

  // ── the loop ─────────────────────────────────────────────────────────────────────────────────────────────────

  private async loop(): Promise<void> {
    while (!this.stopping || this.inflight.length > 0 || this.committing !== undefined) {
      if (this.fatal !== undefined) throw this.fatal;
      try {
        await this.step();
      } catch (err) {
        // Anything but a fatal error: abort what the open transaction holds and read again from the last commit.
        // Exactly once holds (nothing uncommitted is visible), and the daemon stays up through transient states. A
        // producer that failed fatally is replaced in the recovery.
        if (isFatalError(err) && !isProducerFatal(err)) throw err;
        if (this.committing !== undefined) await this.committing.catch(() => undefined);
        this.options.log.warn({ err: (err as Error).message }, 'pipeline step failed');
        await this.recover(err);
        await sleep(100);
      }
    }
    if (this.committing !== undefined) await this.committing;
    await this.commit();
    this.loopEnded = true;
    for (const w of this.quiesceWaiters.splice(0)) w();
  }

  /** One turn of the loop: consume and dispatch, produce what is ready, commit when due. */
  private async step(): Promise<void> {
    const { commitIntervalMs } = this.options;
    if (this.quiesceWaiters.length > 0) {
      if (this.committing !== undefined) await this.committing;
      await this.drainAll();
      await this.commit();
      // the leaving partitions' last state is committed (or rewound to the last commit): from here on their next
      // owner writes it
      for (const p of this.leaving) this.left.add(p);
      this.leaving.clear();
      const waiters = this.quiesceWaiters;
      this.quiesceWaiters = [];
      for (const w of waiters) w();
      return;
    }
    let consumed = 0;
    if (!this.stopping && this.freeSlots.length > 0 && !this.recovering) {
      consumed = await this.consumeAndDispatch();
    }
    const idle = consumed === 0 || this.freeSlots.length === 0;
    if (this.committing !== undefined) {
      // Workers keep decoding while the commit is in flight; produce resumes once the next transaction can open.
      if (idle) await this.committing;
    } else {
      // Produce every batch that is ready, in order; wait on the head only when nothing else can progress.
      await this.drainReady(this.inflight.length > 0 && idle);
      if (this.pendingAlarms.length > 0) await this.produceAlarms();
      const due = this.sink.inTransaction
        ? this.stopping || Date.now() - this.transactionStartedAt >= commitIntervalMs
        : this.options.alarms?.due() === true;
      if (due) {
        this.committing = this.commit().finally(() => {
          this.committing = undefined;
        });
      }
    }
    this.updatePause();
    if (consumed === 0 && this.inflight.length === 0 && !this.stopping) {
      this.sink.poll();
    }
  }

  private updatePause(): void {
    // librdkafka keeps fetching into its own queue while we do not consume; pausing the partitions bounds that queue
    // while the ring is full. A producer that falls behind fills its own queue (queue.buffering.max.kbytes, from the
    // memory budget); produce then waits, the loop stops draining, the ring fills, and fetching pauses here too.
    const full = this.freeSlots.length === 0;
    if (full && !this.counters.paused) {
      this.source.pause([...this.source.assigned]);
      this.counters.paused = true;
    } else if (!full && this.counters.paused) {
      this.source.resume([...this.source.assigned]);
      this.counters.paused = false;
    }
  }

  private async consumeAndDispatch(): Promise<number> {
    let messages: Message[];
    const epoch = this.epoch;
    try {
      this.consumeCall = this.source.consumeBatch(this.batchSize);
      messages = await this.consumeCall;
      this.consumedAt = Date.now();
    } catch (err) {
      // A fatal consumer error leaves the client unusable: end with a clear error (systemd restarts the service,
      // which resumes from the last commit) rather than retry forever.
      if ((err as { isFatal?: boolean }).isFatal === true) throw Object.assign(new LuxError('E_KAFKA', `the consumer failed fatally: ${(err as Error).message}`), { isFatal: true });
      this.options.log.warn({ err: (err as Error).message }, 'consume failed; retrying');
      await sleep(200);
      return 0;
    } finally {
      this.consumeCall = undefined;
    }
    // A recovery began meanwhile: these messages come again from the offsets it rewinds to.
    if (epoch !== this.epoch) return 0;
    const n = messages.length;
    if (n > 0 && this.oldestPending === undefined) this.oldestPending = messages[0].timestamp ?? Date.now();
    // Adapt the batch size to the flow: a full batch doubles it, a small one shrinks it, so a slow trickle is not
    // held back waiting for a batch to fill (consume waits per message, not per batch).
    const max = this.options.ring.maxMessages;
    this.batchSize = n >= this.batchSize ? Math.min(max, this.batchSize * 2) : Math.max(16, Math.min(max, n * 2));
    if (n === 0) return 0;
    this.counters.framesIn += n;
    let from = 0;
    while (from < n) {
      if (this.freeSlots.length === 0) {
        // Wait for the oldest batch, produce it, reuse its slot.
        await this.drainReady(true);
        // a recovery (the commit that drainReady waited for failed) discarded what was in flight and rewound: the
        // rest of these messages come again from the committed offsets
        if (epoch !== this.epoch) return from;
        continue;
      }
      const slot = this.freeSlots.shift() as number;
      const taken = this.views.fill(slot, messages, from);
      this.dispatch(slot, messages, from, taken);
      from += taken;
    }
    for (let i = 0; i < n; i++) {
      const m = messages[i];
      this.positions.set(m.partition, m.offset + 1);
    }
    return n;
  }

  private dispatch(slot: number, messages: Message[], start: number, count: number): void {
    this.onDispatch?.(Date.now() - this.consumedAt);
    const pool = this.pool as Piscina;
    const reference = this.options.reference();
    const seq = this.nextSeq++;
    const task: DecodeTask = { slot, count, from: 0, fromRecord: 0, decode: true, seq, reference };
    const batch: Batch = {
      seq, slot, messages, start, count, from: 0, fromRecord: 0, reference,
      promise: pool.run(task) as Promise<DecodeResult>,
    };
    batch.promise.catch(() => undefined); // observed in drainReady
    this.inflight.push(batch);
    this.counters.inflight = this.inflight.length;
  }

  /** Produces the completed head batches in order; with `wait`, waits for the head to complete first. */
  private async drainReady(wait: boolean): Promise<void> {
    if (this.committing !== undefined) await this.committing;
    while (this.inflight.length > 0) {
      const head = this.inflight[0];
      const settled = await settledOrNot(head.promise, wait);
      if (settled === undefined) return;
      wait = false;
      const result = settled;
      await this.produceBatch(head, result);
      if (result.done < head.count) {
        // The slot's JSON area filled up: produce what is there, then serialize the rest of the slot, against the same
        // snapshot version, so one frame never mixes two.
        const task: DecodeTask = {
          slot: head.slot, count: head.count, from: result.done, fromRecord: result.doneRecord, decode: false,
          seq: head.seq, reference: head.reference,
        };
        head.promise = (this.pool as Piscina).run(task) as Promise<DecodeResult>;
        head.promise.catch(() => undefined);
        wait = true;
        continue;
      }
      this.inflight.shift();
      this.producedSeq = head.seq;
      this.freeSlots.push(head.slot);
      this.counters.inflight = this.inflight.length;
    }
  }

  private async drainAll(): Promise<void> {
    while (this.inflight.length > 0) await this.drainReady(true);
  }

  /** Writes one pass of a batch into the open transaction: enriched records and dead letters, in message order. */
  private async produceBatch(batch: Batch, result: DecodeResult): Promise<void> {
    if (result.latency !== undefined) this.onWorkerLatency?.(result.latency);
    if (!this.sink.inTransaction) {
      await this.sink.begin();
      this.transactionStartedAt = Date.now();
    }
    const { u32, outU32 } = this.views;
    const geo = this.views.slots[batch.slot];
    const out = this.views.outputs[batch.slot];
    const outBuffer = this.views.shared.output;
    const enriched = this.options.topics.enriched;
    this.counters.decodeNs += result.decodeNs;
    this.counters.enrichNs += result.enrichNs;
    // Messages [from, done) are complete in this pass; message `done` is partly there when doneRecord > 0.
    const last = result.doneRecord > 0 ? result.done : result.done - 1;
    const f64 = this.views.f64;
    const eventTimes = new Float64Array(result.records);
    const timestamps = new Float64Array(result.done - batch.from);
    let finished = 0;
    let rec = 0;
    let jsonStart = 0;
    for (let i = batch.from, r = batch.fromRecord; i <= last; i++, r = 0) {
      const m = batch.messages[batch.start + i];
      const row = (geo.msgPtr >>> 2) + i * MSG_WORDS;
      const reason = u32[row + M_REASON];
      if (reason !== 0) {
        this.deadLetter(m, REASON_NAMES[reason] ?? 'truncated');
        this.pendingOffsets.set(m.partition, m.offset + 1);
        timestamps[finished++] = m.timestamp ?? Date.now();
        continue;
      }
      const first = u32[row + M_FIRST];
      const count = u32[row + M_COUNT];
      const upto = i === result.done ? result.doneRecord : count;
      const key = this.key(u32[(geo.recPtr >>> 2) + first * REC_WORDS + R_EQUIPMENT]);
      this.counters.recordsOut += upto - r;
      for (; r < upto; r++) {
        const end = outU32[out.endsIndex + rec];
        this.produce(enriched, Buffer.from(outBuffer, out.jsonPtr + jsonStart, end - jsonStart), key);
        eventTimes[rec] = f64[((geo.recPtr + (first + r) * REC_WORDS * 4) >>> 3) + R_TIME_F64];
        jsonStart = end;
        rec++;
      }
      // The offset moves past a frame only once all its records are in the transaction.
      if (upto === count) {
        this.pendingOffsets.set(m.partition, m.offset + 1);
        timestamps[finished++] = m.timestamp ?? Date.now();
      }
    }
    batch.from = result.done;
    batch.fromRecord = result.doneRecord;
    this.committedTimings.push({ timestamps: timestamps.subarray(0, finished), eventTimes, drainedAt: Date.now() });
  }

  /** Alarms from outside the alarm thread (the SLA's); they go into the next transaction. */
  enqueueAlarms(alarms: AlarmJson[]): void {
    for (const a of alarms) this.pendingAlarms.push(a);
  }

  private async produceAlarms(): Promise<void> {
    const queued = this.pendingAlarms.splice(0);
    await this.writeAlarms(queued);
    this.queuedInTransaction.push(...queued);
  }

  private async writeAlarms(alarms: AlarmJson[]): Promise<void> {
    if (alarms.length === 0) return;
    await this.ensureTransaction();
    const topic = this.options.topics.alarms;
    for (const a of alarms) {
      this.produce(topic, alarmValue(a), alarmKey(a));
      this.alarmsInTransaction.push(a);
    }
    this.counters.alarms += alarms.length;
  }

  private async ensureTransaction(): Promise<void> {
    if (this.sink.inTransaction) return;
    await this.sink.begin();
    this.transactionStartedAt = Date.now();
  }

  private key(equipment: number): string {
    let k = this.keyCache.get(equipment);
    if (k === undefined) {
      k = String(equipment);
      if (this.keyCache.size > 100000) this.keyCache.clear();
      this.keyCache.set(equipment, k);
    }
    return k;
  }

  private produce(topic: string, value: Buffer | null, key: string | Buffer | null, headers?: Header[]): void {
    while (!this.sink.produce(topic, value, key, headers)) {
      // librdkafka's queue is full: let it send; the transaction bounds how much can queue up.
      this.sink.poll();
      waitMs(1);
    }
  }

  private deadLetter(m: Message, reason: string): void {
    const value = m.value ?? Buffer.alloc(0);
    this.produce(this.options.topics.dlq, value, m.key ?? null, [
      { 'lux.error': reason },
      { 'lux.source.topic': m.topic },
      { 'lux.source.partition': String(m.partition) },
      { 'lux.source.offset': String(m.offset) },
    ]);
    this.counters.deadLetters++;
    this.counters.deadLettersByReason.set(reason, (this.counters.deadLettersByReason.get(reason) ?? 0) + 1);
  }

  /**
   * Commits the open transaction with the consumed offsets, the alarms its batches decided and their window state;
   * on failure aborts and rewinds to the last commit. With the alarm side, a transaction also opens when windows are
   * due to close though no record flows.
   */
  private async commit(): Promise<void> {
    const al = this.options.alarms;
    if (!this.sink.inTransaction && !(al !== undefined && al.due())) return;
    const offsets: TopicPartitionOffset[] = [];
    for (const [partition, offset] of this.pendingOffsets) offsets.push({ topic: this.options.topics.raw, partition, offset });
    const t0 = Date.now();
    let prepared = false;
    try {
      if (al !== undefined) {
        // The window state moves with this transaction: the batches it holds count, nothing dispatched after them.
        const owned = [...this.source.assigned].filter((p) => !this.left.has(p));
        const { alarms, messages } = await al.prepare(this.producedSeq, owned);
        prepared = true;
        await this.writeAlarms(alarms);
        if (messages.length > 0) await this.ensureTransaction();
        for (const m of messages) this.produce(al.stateTopic, m.value, m.key);
      }
      if (this.pendingAlarms.length > 0) await this.produceAlarms();
      if (!this.sink.inTransaction) {
        if (prepared) await al!.settle();
        return;
      }
      await this.sink.commit(offsets, this.source.consumer);
      if (prepared) await al!.settle();
      const now = Date.now();
      this.counters.transactions++;
      this.counters.lastTransactionMs = now - t0;
      const head = this.inflight[0];
      this.oldestPending = head === undefined ? undefined : (head.messages[head.start].timestamp ?? now);
      this.pendingOffsets.clear();
      const batches = this.committedTimings.splice(0);
      const alarms = this.alarmsInTransaction.splice(0);
      this.queuedInTransaction.length = 0;
      this.onCommit?.(batches, now, alarms);
    } catch (err) {
      await this.recover(err);
    }
  }

  /** After a failed transaction: abort it and rewind every assigned partition to its committed offset. */
  private async recover(err: unknown): Promise<void> {
    const { log } = this.options;
    this.counters.aborts++;
    if (isFatalError(err)) {
      if (!isProducerFatal(err)) throw err; // not the producer's (the consumer, the alarm thread): as it is
      this.mayRenew(err);
    }
    log.warn({ err: (err as Error).message }, 'transaction failed; aborting and rewinding to the last committed offsets');
    this.recovering = true;
    this.epoch++;
    try {
      await this.recoverLocked(isFatalError(err));
    } finally {
      this.recovering = false;
    }
  }

  /**
   * A producer that failed fatally may be replaced (`TransactionalSink.renew`): a transaction the broker aborted on
   * its own during a long outage fences the producer that held it. More than PRODUCER_RENEWALS.max within
   * PRODUCER_RENEWALS.windowMs means something else fences it (another instance with the same transactional.id):
   * the pipeline ends with that error, for systemd to restart it.
   */
  private mayRenew(err: unknown): void {
    const now = Date.now();
    this.renewedAt = this.renewedAt.filter((t) => now - t < PRODUCER_RENEWALS.windowMs);
    if (this.renewedAt.length >= PRODUCER_RENEWALS.max) {
      throw new LuxError(
        'E_KAFKA',
        `the producer failed fatally ${this.renewedAt.length + 1} times within ${PRODUCER_RENEWALS.windowMs / 60000} minutes ` +
          `(another instance with transactional.id '${this.options.transactionalId}' may be fencing this one): ${(err as Error).message}`,
      );
    }
    this.renewedAt.push(now);
  }

  private async recoverLocked(renew: boolean): Promise<void> {
    const { log } = this.options;
    // a consume in flight ends first (what it read is dropped), so no message read before the rewind is dispatched
    await this.consumeCall?.catch(() => undefined);
    await this.drainAllDiscarding();
    this.oldestPending = undefined;
    this.pendingOffsets.clear();
    this.committedTimings.length = 0;
    // The alarm thread puts its windows back as the last commit left them and drops what it staged: the rewound
    // records count once, and the alarms they decide come again. The queued alarms (the SLA's) are written again.
    await this.options.alarms?.discard();
    this.counters.alarms -= this.alarmsInTransaction.length;
    this.alarmsInTransaction.length = 0;
    this.pendingAlarms.unshift(...this.queuedInTransaction.splice(0));
    // While the broker is away each step fails; retry until it answers (one log line an attempt), never give up on a
    // transient outage. A producer that fails fatally is replaced (a bounded number of times); any other fatal error
    // ends the pipeline.
    for (let attempt = 1; ; attempt++) {
      try {
        if (renew) {
          log.warn({ transactionalId: this.options.transactionalId }, 'the producer failed fatally: starting a new one with the same transactional.id (the broker aborts what the old one left open)');
          await this.sink.renew(30000);
          renew = false;
        } else await this.sink.abort();
        // what is assigned now: the group may have rebalanced during the outage
        await this.rewind([...this.source.assigned]);
        if (attempt > 1) log.info({ attempt }, 'recovered: rewound to the last committed offsets');
        return;
      } catch (e) {
        if (isProducerFatal(e)) {
          this.mayRenew(e);
          renew = true;
        } else if (isFatalError(e)) throw e;
        log.warn({ attempt, err: (e as Error).message }, 'recovery after a failed transaction did not complete; retrying');
        await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
      }
    }
  }

  private async drainAllDiscarding(): Promise<void> {
    for (const b of this.inflight) await b.promise.catch(() => undefined);
    for (const b of this.inflight) this.freeSlots.push(b.slot);
    this.inflight.length = 0;
    this.counters.inflight = 0;
  }

  private async rewind(partitions: number[]): Promise<void> {
    if (partitions.length === 0) return;
    const topic = this.options.topics.raw;
    const consumer = this.source.consumer;
    const committed = await new Promise<TopicPartitionOffset[]>((resolve, reject) => {
      consumer.committed(partitions.map((partition) => ({ topic, partition })), 10000, (err, tps) =>
        err ? reject(new LuxError('E_KAFKA', `cannot read the committed offsets of ${topic}: ${err.message}`)) : resolve(tps),
      );
    });
    // A partition whose committed offset could not be read comes back as an Error in its place (node-rdkafka), with
    // no partition number: the rewind fails and is retried. Read as "nothing committed", it would rewind that
    // partition to its beginning and write everything committed before a second time.
    committed.forEach((tp, i) => {
      if (tp instanceof Error || tp.partition !== partitions[i]) {
        throw new LuxError('E_KAFKA', `cannot read the committed offset of ${topic}/${partitions[i]}: ${(tp as unknown as Error).message ?? 'no answer for it'}`);
      }
    });
    for (const tp of committed) {
      // No committed offset yet: back to the beginning, as auto.offset.reset=earliest would.
      const offset = tp.offset !== undefined && tp.offset >= 0 ? tp.offset : -2;
      // a seek that fails must fail the rewind: reading on from the current position would skip the aborted records
      await new Promise<void>((resolve, reject) =>
        consumer.seek({ topic, partition: tp.partition, offset }, 5000, (err) =>
          err ? reject(new LuxError('E_KAFKA', `cannot rewind ${topic}/${tp.partition} to offset ${offset}: ${err.message}`)) : resolve(),
        ),
      );
      this.positions.delete(tp.partition);
    }
  }

  // ── rebalance ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Before the partitions are read from: their state is restored (a failure ends the pipeline, never a partial start). */
  private async onPartitionsAssigned(tps: TopicPartition[]): Promise<void> {
    const partitions = tps.map((t) => t.partition);
    this.options.log.info({ partitions }, 'partitions assigned');
    for (const p of partitions) {
      this.left.delete(p);
      this.leaving.delete(p);
    }
    try {
      await this.onAssigned?.(partitions);
    } catch (err) {
      this.options.log.error({ partitions, err: (err as Error).message }, 'cannot take up the assigned partitions; stopping');
      this.fatal ??= err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Before partitions leave: produce everything in flight and commit, so the next owner starts exactly after us. */
  private async onPartitionsRevoking(tps: TopicPartition[]): Promise<void> {
    this.options.log.info({ partitions: tps.map((t) => t.partition) }, 'partitions revoked: committing before they move');
    if (this.loopDone === undefined || this.loopEnded) return;
    const partitions = tps.map((t) => t.partition);
    for (const p of partitions) this.leaving.add(p);
    await new Promise<void>((resolve) => this.quiesceWaiters.push(resolve));
    for (const p of partitions) this.positions.delete(p);
    await this.onRevoked?.(partitions);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));
/** A short blocking pause while librdkafka's own threads drain its queue. */
function waitMs(ms: number): void {
  Atomics.wait(waitCell, 0, 0, ms);
}

/** The settled value of `p`, waiting for it when `wait`, else only if it has already settled. */
async function settledOrNot<T>(p: Promise<T>, wait: boolean): Promise<T | undefined> {
  if (wait) return p;
  const marker = Symbol('pending');
  const v = await Promise.race([p, Promise.resolve(marker)]);
  return v === marker ? undefined : (v as T);
}

/** Replacing a producer that failed fatally: at most `max` times within `windowMs`. */
const PRODUCER_RENEWALS = { max: 3, windowMs: 10 * 60_000 } as const;

/** A fatal error of the transactional producer (its calls' errors carry the librdkafka error as `kafka`). */
function isProducerFatal(err: unknown): boolean {
  return (err as { kafka?: { isFatal?: boolean } }).kafka?.isFatal === true;
}

/** A librdkafka fatal error (fenced producer, fatal consumer state): the client is unusable and the pipeline ends. */
function isFatalError(err: unknown): boolean {
  return (err as { kafka?: { isFatal?: boolean } }).kafka?.isFatal === true || (err as { isFatal?: boolean }).isFatal === true;
}
