// The loop that drives the stages in data-path order: source (consume) → transport (dispatch to the decode workers) → sink (write each pass, commit when due); start, stop, pause and rebalances.
import { Piscina } from 'piscina';
import type { KafkaConnection, Message, TopicPartition } from './kafka/client.js';
import { isFatal, LuxError } from './errors.js';
import { isProducerFatal, KafkaError } from './kafka/errors.js';
import { distModule } from './paths.js';
import { PIPELINE_INTERNALS, SINK_INTERNALS } from './config/internals.js';
import { KafkaSource } from './source/kafka-consumer.js';
import { RingViews, createRingShared, type RingSizes } from './transport/batch-ring.js';
import { warmUpMessages } from './transport/warm-up.js';
import { InflightBatches, type DecodedPass } from './transport/inflight.js';
import type { ReferenceVersion } from './enrich/reference.js';
import { loadRecordJson } from './enrich/native-record-json.js';
import { loadKpiPartials } from './kpis/native-batch-partials.js';
import { PassWriter, type WrittenPass } from './sink/pass-writer.js';
import { TransactionalSink } from './sink/transactional-producer.js';
import { TransactionCycle } from './sink/transaction-cycle.js';
import type { TransactionSide } from './sink/transaction-side.js';
import { PipelineCounters } from './metrics/pipeline-counters.js';
import type { LatencySnapshot, LoopSpan } from './metrics/latency.js';
import type { UndecompressableBatchError } from './kafka/consume-errors.js';
import { TIMED_OUT, within } from './within.js';

export { PipelineCounters } from './metrics/pipeline-counters.js';
export type { WrittenPass } from './sink/pass-writer.js';

export interface PipelineOptions {
  conn: KafkaConnection;
  groupId: string;
  clientId: string;
  transactionalId: string;
  topics: { raw: string; enriched: string; dlq: string };
  workers: number;
  ring: RingSizes;
  /** a transaction commits at least this often while records flow */
  commitIntervalMs: number;
  transactionTimeoutMs: number;
  /** SIGTERM: time allowed to drain in-flight batches and commit */
  drainTimeoutMs: number;
  /** per-message wait of a batch read */
  consumeTimeoutMs: number;
  /** the native read's wait for each message after a batch's first (SourceOptions.consumeRestMs) */
  consumeRestMs?: number;
  /** librdkafka settings of the consumer and the producer (the connection's properties still win) */
  consumerOwn?: Record<string, string | number | boolean>;
  producerOwn?: Record<string, string | number | boolean>;
  /** passes go to librdkafka through the native batch produce (default true; see TransactionalSink) */
  nativeProduce?: boolean;
  /** batches are read through the native batch consume (default true; see KafkaSource) */
  nativeConsume?: boolean;
  /** the decode workers write records' JSON through the native serializer (default true; enrich/native-record-json.ts) */
  nativeJson?: boolean;
  /** the decode workers fold KPI partials through the native accumulator (default true; kpis/native-batch-partials.ts) */
  nativeKpis?: boolean;
  /** what the workers need besides the ring: the compiled decoder, the first reference snapshot, the alarm feed */
  workerData: Record<string, unknown>;
  /** the reference data in force now; each batch is enriched against the version current when it is dispatched */
  reference: () => ReferenceVersion;
  /** what every transaction carries besides the records (alarms and their state, KPIs, queued alarms), in this order */
  sides?: readonly TransactionSide[];
  /** further input topics read in the same group and committed in the same transactions (the KPI partials) */
  inputs?: readonly SideInput[];
  hooks?: PipelineHooks;
  log: PipelineLog;
}

/** What the pipeline tells the rest of the daemon; every hook is optional. */
export interface PipelineHooks {
  /**
   * Raw partitions newly assigned, before any of their records is read (awaited: their state is restored first; a
   * failure ends the pipeline).
   */
  assigned?(partitions: number[]): void | Promise<void>;
  /** Raw partitions about to leave, after their last commit. */
  revoked?(partitions: number[]): void | Promise<void>;
  /** each batch's consume-to-dispatch time (ms) */
  dispatched?(ms: number): void;
  /** how long one step of the loop, the source or the sink took (ms): consume calls, transactional calls, waits */
  timed?(span: LoopSpan, ms: number): void;
  /** each decoded pass once written into the open transaction (all passes of a batch go into the same one) */
  written?(pass: DecodedPass): void;
  /** each latency report a worker sends */
  workerLatency?(report: LatencySnapshot): void;
  /** after each commit, the passes it made visible */
  committed?(passes: WrittenPass[], committedAt: number): void;
  /** a fetched batch cannot be decompressed: its partition reads nothing past it (told on every retry) */
  inputStuck?(error: UndecompressableBatchError): void;
  /** each frame written to the dead-letter topic, with its reason (dead letters are rare: no per-record cost) */
  deadLettered?(m: Message, reason: string): void;
}

/**
 * A further input topic, read by the same consumer (one group, one assignment, one rewind) and handed over whole
 * messages at a time; the side that reads it commits its offsets itself (`SideOutput.offsets`).
 */
export interface SideInput {
  readonly topic: string;
  /** messages read from the topic, in offset order per partition (never one of them before a rewind's re-read) */
  receive(messages: readonly Message[]): void;
  /** partitions newly assigned, before any of their messages is read (awaited; a failure ends the pipeline) */
  assigned?(partitions: number[]): void | Promise<void>;
  /** partitions about to leave, after their last commit */
  revoked?(partitions: number[]): void | Promise<void>;
}

export interface PipelineLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class Pipeline {
  readonly counters = new PipelineCounters();
  private readonly o: PipelineOptions;
  private readonly source: KafkaSource;
  private readonly sink: TransactionalSink;
  private readonly views: RingViews;
  private readonly batches: InflightBatches;
  private readonly writer: PassWriter;
  private readonly cycle: TransactionCycle;
  private pool: Piscina | undefined;
  /** the decode workers write JSON through the native serializer (decided at start) */
  private jsonNative = false;
  private kpisNative = false;
  private stopping = false;
  private quiesceWaiters: (() => void)[] = [];
  private batchSize: number = PIPELINE_INTERNALS.batchStart;
  /** the last read filled its batch: the input is behind, and commits are spaced (TransactionCycle.due) */
  private backlog = false;
  private loopDone: Promise<void> | undefined;
  private loopEnded = false;
  private consumedAt = 0;
  /** Kafka timestamp of the oldest message consumed and not yet committed (a stalled pipeline shows here) */
  private oldestPending: number | undefined;
  private consumeCall: Promise<Message[]> | undefined;
  /** partitions being revoked whose last window state is not written yet */
  private readonly leaving = new Set<number>();
  /** partitions whose last window state is written: later transactions leave their keys alone (until assigned again) */
  private readonly left = new Set<number>();
  /** an error outside the loop (restoring an assignment's state) that must end it */
  private fatal: Error | undefined;
  /** the further input topics by name */
  private readonly inputs: ReadonlyMap<string, SideInput>;

  constructor(options: PipelineOptions) {
    this.o = options;
    this.inputs = new Map((options.inputs ?? []).map((i) => [i.topic, i]));
    const hooks = options.hooks ?? {};
    this.source = new KafkaSource({
      conn: options.conn,
      groupId: options.groupId,
      clientId: options.clientId,
      topics: [options.topics.raw, ...(options.inputs ?? []).map((i) => i.topic)],
      consumeTimeoutMs: options.consumeTimeoutMs,
      consumeRestMs: options.consumeRestMs,
      own: options.consumerOwn,
      firstRead: (topic, partition, offset) => options.log.info({ topic, partition, offset }, 'reading from offset'),
      startRetry: (topic, attempt, err) => options.log.warn({ topic, attempt, err: err.message }, 'cannot read where the assigned partitions start yet; retrying'),
      native: options.nativeConsume ?? true,
      nativeUnavailable: (reason) => options.log.warn({ reason }, 'the native batch consume is not available: reading through node-rdkafka (same messages, more CPU)'),
    });
    this.sink = new TransactionalSink({
      conn: options.conn,
      clientId: options.clientId,
      transactionalId: options.transactionalId,
      transactionTimeoutMs: options.transactionTimeoutMs,
      callTimeoutMs: Math.max(SINK_INTERNALS.callTimeoutMinMs, Math.min(options.transactionTimeoutMs, SINK_INTERNALS.callTimeoutMaxMs)),
      onRetry: (call, attempt, err) => options.log.warn({ call, attempt, err: err.message }, 'transactional call failed; retrying it (the broker may be away)'),
      timed: (call, ms) => options.hooks?.timed?.(call === 'begin' ? 'transaction_begin' : call === 'offsets' ? 'transaction_offsets' : 'transaction_commit', ms),
      own: options.producerOwn,
      native: options.nativeProduce ?? true,
      nativeUnavailable: (reason) => options.log.warn({ reason }, 'the native batch produce is not available: producing through node-rdkafka, one call a record (same output, more CPU)'),
    });
    this.views = new RingViews(createRingShared(options.ring));
    this.batches = new InflightBatches(this.views, options.reference);
    this.writer = new PassWriter({ sink: this.sink, views: this.views, topics: options.topics, counters: this.counters, deadLettered: options.hooks?.deadLettered });
    this.cycle = new TransactionCycle({
      sink: this.sink,
      writer: this.writer,
      sides: options.sides ?? [],
      consumer: () => this.source.consumer,
      context: () => ({ throughSeq: this.batches.lastWritten, owned: [...this.source.assigned].filter((p) => !this.left.has(p)) }),
      commitIntervalMs: options.commitIntervalMs,
      backlog: () => this.backlog,
      transactionalId: options.transactionalId,
      counters: this.counters,
      log: options.log,
      recovery: {
        halt: async () => {
          // a consume in flight ends first (what it read is dropped), so no message read before the rewind is dispatched
          await this.consumeCall?.catch(() => undefined);
          await this.batches.discard();
          this.counters.inflight = 0;
          this.oldestPending = undefined;
        },
        rewind: () => this.source.rewind(),
      },
      timedSides: (ms) => options.hooks?.timed?.('transaction_sides', ms),
      onCommitted: (passes, committedAt) => {
        const head = this.batches.head;
        this.oldestPending = head === undefined ? undefined : (head.messages[head.start].timestamp ?? committedAt);
        hooks.committed?.(passes, committedAt);
      },
    });
    this.source.setHooks({
      assigned: (tps) => this.onPartitionsAssigned(tps),
      revoking: (tps) => this.onPartitionsRevoking(tps),
      failed: (err, during) => {
        this.o.log.error({ err: err.message, during }, during === 'assignment' ? 'cannot take up the assigned partitions; stopping' : 'handing over the revoked partitions failed; stopping');
        this.fatal ??= err;
      },
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

  /** Per-partition lag of the raw topic. */
  lag(): Map<number, number> {
    return this.source.lag();
  }

  /** Connects, checks the topics, subscribes and runs until `stop()`. */
  async start(connectTimeoutMs: number): Promise<void> {
    const { log } = this.o;
    this.pool = new Piscina({
      filename: distModule('transport/decode-worker.js'),
      minThreads: this.o.workers,
      maxThreads: this.o.workers,
      concurrentTasksPerWorker: 1,
      // first in, first out: by default a task shifted off the queue when no worker is free goes back to its tail,
      // so batches ran out of order (one worker: 0, 2, 4, 6, 1, …) and the loop, which writes the head batch first,
      // waited on a head that ran behind later ones
      stricterFIFO: true,
      idleTimeout: Infinity,
      atomics: 'sync',
      workerData: { ring: this.views.shared, ...this.o.workerData, nativeJson: this.nativeJson(), nativeKpis: this.nativeKpis() },
    });
    this.batches.attach(this.pool);
    // the decode workers warm up while the clients connect: the first records do not run through cold code
    const warming = this.warmUp();
    warming.catch(() => undefined); // awaited below; a connect that fails first must not leave it unhandled
    await this.sink.connect(connectTimeoutMs);
    await this.source.connect(connectTimeoutMs);
    await this.source.partitions(connectTimeoutMs);
    await warming;
    this.source.subscribe();
    log.info({ topic: this.o.topics.raw, group: this.o.groupId, transactionalId: this.o.transactionalId, workers: this.o.workers, nativeProduce: this.sink.nativeProduce, nativeConsume: this.source.nativeConsume, nativeJson: this.jsonNative, nativeKpis: this.kpisNative }, 'pipeline started');
    this.loopDone = this.loop();
  }

  /** Whether the decode workers write JSON natively: asked for (pipeline.native_json) and the addon loads here. */
  private nativeJson(): boolean {
    return (this.jsonNative = this.nativeChoice(this.o.nativeJson, loadRecordJson, 'the native record serializer is not available: the decode workers write JSON in JavaScript (same bytes, more CPU)'));
  }

  /** Whether the decode workers fold KPI partials natively: asked for (pipeline.native_kpis) and the addon loads here. */
  private nativeKpis(): boolean {
    return (this.kpisNative = this.nativeChoice(this.o.nativeKpis, loadKpiPartials, 'the native KPI batch partials are not available: the decode workers fold KPIs in JavaScript (same bytes, more CPU)'));
  }

  /** A native path is used when asked for (unset: yes) and its addon loads here; asked for but missing, `fallback` is warned. */
  private nativeChoice(asked: boolean | undefined, load: () => { addon?: unknown; reason?: string }, fallback: string): boolean {
    if (asked === false) return false;
    const { addon, reason } = load();
    if (addon === undefined) this.o.log.warn({ reason }, fallback);
    return addon !== undefined;
  }

  /** Synthetic frames through every step of each decode worker, with no effect (transport/warm-up.ts). */
  private async warmUp(): Promise<void> {
    const { frames, rounds } = PIPELINE_INTERNALS.warmUp;
    const t0 = performance.now();
    const messages = warmUpMessages(this.o.reference(), Math.min(frames, this.o.ring.maxMessages), this.o.topics.raw);
    const took = await this.batches.warm(messages, rounds, this.o.workers);
    this.o.log.debug({ frames: messages.length, rounds: took.map((ms) => Math.round(ms)), ms: Math.round(performance.now() - t0) }, 'decode workers warmed up');
  }

  /** Resolves when the loop ends (after stop, or with the error that ended it). */
  get done(): Promise<void> {
    return this.loopDone ?? Promise.resolve();
  }

  /**
   * The Kafka clients whose close had not returned when stop() gave up waiting: their librdkafka thread is still inside
   * it, and a normal exit of the process (which joins libuv's pool) would wait for it — the caller ends the process
   * otherwise.
   */
  readonly unclosed: string[] = [];

  /** Where stop() is (for the daemon's stop deadline to say what it waited on). */
  stopStage = 'running';

  /** Drains in-flight batches, commits, and disconnects; aborts instead when the drain takes longer than allowed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopStage = 'draining in-flight batches and committing';
    const { log, drainTimeoutMs } = this.o;
    const outcome = await within(this.done.then(() => 'drained' as const, () => 'failed' as const), drainTimeoutMs);
    if (outcome === TIMED_OUT) {
      log.warn({ drainTimeoutMs }, 'drain took too long: aborting the open transaction; its records will be processed again after restart');
      this.stopStage = 'aborting the open transaction';
      await this.sink.abort().catch(() => undefined);
    }
    this.stopStage = 'closing the consumer';
    const waitedMs = PIPELINE_INTERNALS.disconnectTimeoutMs;
    const source = await this.source.disconnect(waitedMs);
    if (source.rebalanceUnfinished) {
      log.warn({ waitedMs }, 'a rebalance was still being handled at stop: its partitions were let go and the consumer closed anyway (everything read was committed or aborted above)');
    }
    if (!source.closed) this.unclosed.push('consumer');
    this.stopStage = 'closing the producer';
    if (!(await this.sink.disconnect(waitedMs))) this.unclosed.push('producer');
    if (this.unclosed.length > 0) log.error({ clients: this.unclosed, waitedMs }, 'a Kafka client\'s close did not return: librdkafka still holds a thread in it');
    this.stopStage = 'ending the decode workers';
    await this.pool?.destroy();
    this.stopStage = 'stopped';
    log.info({ framesIn: this.counters.framesIn, recordsOut: this.counters.recordsOut, deadLetters: this.counters.deadLetters }, 'pipeline stopped');
  }

  // ── the loop ─────────────────────────────────────────────────────────────────────────────────────────────────

  private async loop(): Promise<void> {
    try {
      await this.run();
    } finally {
      // ended, committed or failed: a revocation waiting for the loop to quiesce goes on (and one arriving later
      // finds the loop ended) — it must not wait for good, holding the rebalance and the consumer's close
      this.loopEnded = true;
      for (const w of this.quiesceWaiters.splice(0)) w();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping || this.batches.length > 0 || this.cycle.committing !== undefined) {
      if (this.fatal !== undefined) throw this.fatal;
      try {
        await this.step();
      } catch (err) {
        // Anything but a fatal error: abort what the open transaction holds and read again from the last commit.
        // Exactly once holds (nothing uncommitted is visible), and the daemon stays up through transient states. A
        // producer that failed fatally is replaced in the recovery.
        if (isFatal(err) && !isProducerFatal(err)) throw err;
        if (this.cycle.committing !== undefined) await this.cycle.committing.catch(() => undefined);
        this.o.log.warn({ err: (err as Error).message }, 'pipeline step failed');
        await this.cycle.recover(err);
        await sleep(PIPELINE_INTERNALS.stepFailedPauseMs);
      }
    }
    if (this.cycle.committing !== undefined) await this.cycle.committing;
    await this.cycle.commit();
  }

  /** One turn of the loop: consume and dispatch, write what is decoded, commit when due. */
  private async step(): Promise<void> {
    if (this.quiesceWaiters.length > 0) {
      await this.quiesce();
      return;
    }
    let consumed = 0;
    if (!this.stopping && this.batches.free > 0 && !this.cycle.recovering) {
      consumed = await this.consumeAndDispatch();
    }
    const idle = consumed === 0 || this.batches.free === 0;
    const committing = this.cycle.committing;
    if (committing !== undefined) {
      // Workers keep decoding while the commit is in flight; writing resumes once the next transaction can open.
      if (idle) await this.waitForCommit(committing);
    } else {
      // Write every batch that is decoded, in order; wait on the head only when nothing else can progress.
      await this.writeDecoded(this.batches.length > 0 && idle);
      if (this.cycle.due(this.stopping)) this.cycle.startCommit();
    }
    this.noteRingFull();
    if (consumed === 0 && this.batches.length === 0 && !this.stopping) this.sink.poll();
  }

  /** A rebalance waits for this: everything in flight written and committed, so the partitions leave exactly after it. */
  private async quiesce(): Promise<void> {
    if (this.cycle.committing !== undefined) await this.cycle.committing;
    while (this.batches.length > 0) await this.writeDecoded(true);
    await this.cycle.commit();
    // the leaving partitions' last state is committed (or rewound to the last commit): from here on their next
    // owner writes it
    for (const p of this.leaving) this.left.add(p);
    this.leaving.clear();
    const waiters = this.quiesceWaiters;
    this.quiesceWaiters = [];
    for (const w of waiters) w();
  }

  private noteRingFull(): void {
    // While the ring is full the loop does not consume; librdkafka keeps fetching into its own queue only up to
    // queued.max.messages.kbytes (a quarter of the memory budget), then stops. The partitions are not paused: a pause
    // drops what was fetched and a resume fetches again from every partition, the first partition of each fetch
    // refilling the ring while the others starved (seen: a backlog's partition 1 not read for seconds, committed
    // nothing, while partition 0 advanced a thousand frames). A producer that falls behind fills its own queue
    // (queue.buffering.max.kbytes); produce then waits, the loop stops writing, and the ring fills.
    this.counters.paused = this.batches.free === 0;
  }

  private async consumeAndDispatch(): Promise<number> {
    let messages: Message[];
    let asked = 0;
    this.backlog = false;
    const epoch = this.cycle.epoch;
    try {
      const t0 = performance.now();
      asked = this.batchSize;
      this.consumeCall = this.source.consumeBatch(asked);
      messages = await this.consumeCall;
      // behind: the read filled its batch (librdkafka held at least a slot's worth). A full ring as well was tried as
      // the sign: at full speed it rarely held when asked, and the throughput fell back to committing at once.
      this.backlog = messages.length > 0 && messages.length >= asked;
      this.consumedAt = Date.now();
      this.o.hooks?.timed?.('consume_call', performance.now() - t0);
    } catch (err) {
      // A fatal consumer error leaves the client unusable: end with a clear error (systemd restarts the service,
      // which resumes from the last commit) rather than retry forever.
      if (isFatal(err)) throw new KafkaError(`the consumer failed fatally: ${(err as Error).message}`, { role: 'consumer', fatal: true, cause: err });
      const stuck = this.source.undecompressable(err);
      if (stuck !== undefined) {
        // the same batch fails on every retry: said once (by the hook's owner), never a silent retry loop
        this.o.hooks?.inputStuck?.(stuck);
        await sleep(PIPELINE_INTERNALS.consumeFailedPauseMs);
        return 0;
      }
      this.o.log.warn({ err: (err as Error).message }, 'consume failed; retrying');
      await sleep(PIPELINE_INTERNALS.consumeFailedPauseMs);
      return 0;
    } finally {
      this.consumeCall = undefined;
    }
    // A recovery began meanwhile: these messages come again from the offsets it rewinds to.
    if (epoch !== this.cycle.epoch) return 0;
    if (this.inputs.size > 0 && messages.length > 0) messages = this.routeInputs(messages);
    const n = messages.length;
    if (n > 0 && this.oldestPending === undefined) this.oldestPending = messages[0].timestamp ?? Date.now();
    this.batchSize = this.source.nextBatchSize(n, asked, this.o.ring.maxMessages, PIPELINE_INTERNALS.batchMin);
    if (n === 0) return 0;
    this.counters.framesIn += n;
    let from = 0;
    while (from < n) {
      if (this.batches.free === 0) {
        // Wait for the oldest batch, write it, reuse its slot.
        await this.writeDecoded(true);
        // a recovery (the commit that writeDecoded waited for failed) discarded what was in flight and rewound: the
        // rest of these messages come again from the committed offsets
        if (epoch !== this.cycle.epoch) return from;
        continue;
      }
      this.o.hooks?.dispatched?.(Date.now() - this.consumedAt);
      from += this.batches.dispatch(messages, from);
      this.counters.inflight = this.batches.length;
    }
    this.source.advance(messages);
    return n;
  }

  /** Waits for the commit in flight (timed: while it runs, nothing is written). */
  private async waitForCommit(committing: Promise<void>): Promise<void> {
    const t0 = performance.now();
    await committing;
    this.o.hooks?.timed?.('commit_wait', performance.now() - t0);
  }

  /** Hands the messages of the further input topics to their readers; returns the raw topic's. */
  private routeInputs(messages: Message[]): Message[] {
    const raw = this.o.topics.raw;
    let mixed = false;
    for (let i = 0; i < messages.length; i++) {
      if (messages[i].topic !== raw) {
        mixed = true;
        break;
      }
    }
    if (!mixed) return messages;
    const rawOnes: Message[] = [];
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      if (m.topic === raw) rawOnes.push(m);
      else {
        let list = byTopic.get(m.topic);
        if (list === undefined) byTopic.set(m.topic, (list = []));
        list.push(m);
      }
    }
    for (const [topic, list] of byTopic) {
      this.inputs.get(topic)?.receive(list);
      this.source.advance(list);
    }
    return rawOnes;
  }

  /** Writes the decoded head batches into the open transaction, in order; with `wait`, waits for the head first. */
  private async writeDecoded(wait: boolean): Promise<void> {
    if (this.cycle.committing !== undefined) await this.waitForCommit(this.cycle.committing);
    for (;;) {
      const pass = await this.batches.nextPass(wait);
      if (pass === undefined) return;
      if (pass.result.latency !== undefined) this.o.hooks?.workerLatency?.(pass.result.latency);
      await this.cycle.open();
      this.writer.write(pass);
      this.o.hooks?.written?.(pass);
      // a pass that stopped early (the slot's JSON area was full) is continued: wait for the rest of the slot
      wait = !this.batches.written(pass);
      this.counters.inflight = this.batches.length;
    }
  }

  // ── rebalance ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Before the partitions are read from: their state is restored (a failure ends the pipeline, never a partial start). */
  private async onPartitionsAssigned(tps: TopicPartition[]): Promise<void> {
    const partitions = tps.filter((t) => t.topic === this.o.topics.raw).map((t) => t.partition);
    this.o.log.info({ partitions }, 'partitions assigned');
    for (const p of partitions) {
      this.left.delete(p);
      this.leaving.delete(p);
    }
    try {
      await this.o.hooks?.assigned?.(partitions);
      for (const input of this.inputs.values()) {
        const mine = tps.filter((t) => t.topic === input.topic).map((t) => t.partition);
        if (mine.length > 0) await input.assigned?.(mine);
      }
    } catch (err) {
      this.o.log.error({ partitions, err: (err as Error).message }, 'cannot take up the assigned partitions; stopping');
      this.fatal ??= err instanceof Error ? err : new LuxError('E_INTERNAL', String(err));
    }
  }

  /** Before partitions leave: write everything in flight and commit, so the next owner starts exactly after us. */
  private async onPartitionsRevoking(tps: TopicPartition[]): Promise<void> {
    const partitions = tps.filter((t) => t.topic === this.o.topics.raw).map((t) => t.partition);
    this.o.log.info({ partitions }, 'partitions revoked: committing before they move');
    if (this.loopDone === undefined || this.loopEnded) return;
    for (const p of partitions) this.leaving.add(p);
    await new Promise<void>((resolve) => this.quiesceWaiters.push(resolve));
    this.source.forget(tps);
    await this.o.hooks?.revoked?.(partitions);
    for (const input of this.inputs.values()) {
      const mine = tps.filter((t) => t.topic === input.topic).map((t) => t.partition);
      if (mine.length > 0) await input.revoked?.(mine);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
