// The source: one node-rdkafka consumer in the group (cooperative-sticky) over the input topics, read in batches, started at the committed offsets, rewound to them after a failed transaction.
import type { KafkaConsumer, KafkaConnection, LibrdKafkaError, Message, TopicPartition, TopicPartitionOffset } from '../kafka/client.js';
import {
  committedOffsets,
  connectClient,
  consumeMessages,
  createConsumer,
  disconnectClient,
  KAFKA_CODES,
  OFFSET_BEGINNING,
  queryWatermarks,
  seekPartition,
} from '../kafka/client.js';
import { isFatal } from '../errors.js';
import { KafkaError } from '../kafka/errors.js';
import { topicPartitions } from '../kafka/metadata.js';
import { classifyConsumeError, progressOf, type UndecompressableBatchError } from '../kafka/consume-errors.js';
import { KAFKA_FEATURES } from '../kafka/client.js';
import { SOURCE_INTERNALS } from '../config/internals.js';
import { TIMED_OUT, within } from '../within.js';
import { consumeNative, loadNative, nativeHandle, pluginProperties, type NativeBatches } from '../kafka/native.js';

export interface SourceOptions {
  conn: KafkaConnection;
  groupId: string;
  clientId: string;
  /** the topics read in the group: the raw topic first */
  topics: readonly string[];
  /** per-message wait inside a batch read; a batch returns at the first timeout */
  consumeTimeoutMs: number;
  /**
   * With the native read: the wait for each message after a batch's first (default consumeTimeoutMs, node-rdkafka's
   * rule). 0 hands over what has been fetched at once, rather than after a last wait for a message that is not there.
   */
  consumeRestMs?: number;
  /** librdkafka settings of this consumer (the connection's properties still win) */
  own?: Record<string, string | number | boolean>;
  /** the first message taken from a partition since it was assigned or rewound: where reading (re)started */
  firstRead?: (topic: string, partition: number, offset: number) => void;
  /** an attempt to read where assigned partitions start failed (the broker away, a transaction still open on them) */
  startRetry?: (topic: string, attempt: number, err: Error) => void;
  /**
   * Read batches through the native addon (native/lux_native.c: one buffer a batch) rather than node-rdkafka's
   * consume(n), which builds a JS object and two Buffers in C++ for every message. Without the addon the source says
   * why (`nativeUnavailable`) and reads through node-rdkafka: the same messages, at a higher CPU cost.
   */
  native?: boolean;
  nativeUnavailable?: (reason: string) => void;
}

/**
 * What the pipeline is told when partitions move. Both are awaited: an assignment is read from only once `assigned`
 * resolves (its state restored first), and revoked partitions leave once `revoking` resolves (their last commit made).
 */
export interface RebalanceHooks {
  assigned(partitions: TopicPartition[]): void | Promise<void>;
  revoking(partitions: TopicPartition[]): Promise<void>;
  /**
   * Taking up assigned partitions failed (`assigned` threw, or where they start could not be read: a fatal error) —
   * they are not read from — or `revoking` threw (the partitions left all the same). Not called once closing.
   */
  failed(err: Error, during: 'assignment' | 'revocation'): void;
}

/** What closing the consumer came to: whether it waited on rebalance handling in vain, and whether the close returned. */
export interface SourceClosed {
  /** the rebalance handling in progress did not finish within the wait: its hooks were left behind, its partitions acknowledged */
  rebalanceUnfinished: boolean;
  /** librdkafka's close returned within the wait (false: a pool thread is still inside it, and a normal exit would wait on it) */
  closed: boolean;
}

export class KafkaSource {
  readonly consumer: KafkaConsumer;
  private readonly options: SourceOptions;
  private hooks: RebalanceHooks | undefined;
  /** per topic, the partitions assigned: for lag, pause and rewind */
  private readonly assignedByTopic = new Map<string, Set<number>>();
  /** per topic, the next offset to read per partition, as far as the pipeline has taken messages */
  private readonly positions = new Map<string, Map<number, number>>();
  /** the rebalance handlers, one after the other; it never rejects (a handler's failure goes to `hooks.failed`) */
  private rebalanceChain: Promise<void> = Promise.resolve();
  private closing = false;
  /** set when the close stops waiting for rebalance handling: hooks still running are left behind, partitions acknowledged */
  private abandoned = false;
  private abandon: () => void = () => undefined;
  private readonly abandonedSignal = new Promise<'abandoned'>((resolve) => {
    this.abandon = () => {
      this.abandoned = true;
      resolve('abandoned');
    };
  });
  /** the native addon and this consumer's handle name, when batches are read through it */
  private readonly native: NativeBatches | undefined;
  private nativeClient: string | undefined;
  /** the batch read in flight (the consumer is not disconnected under it) */
  private reading: Promise<Message[]> | undefined;

  constructor(options: SourceOptions) {
    this.options = options;
    for (const t of options.topics) {
      this.assignedByTopic.set(t, new Set());
      this.positions.set(t, new Map());
    }
    const load = options.native ? loadNative() : undefined;
    this.native = load?.native;
    if (load?.reason) options.nativeUnavailable?.(load.reason);
    this.consumer = createConsumer(
      options.conn,
      options.clientId,
      {
        // librdkafka loads the addon as a plugin, whose interceptor lets it find this consumer's handle by name
        ...pluginProperties(load),
        'group.id': options.groupId,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'partition.assignment.strategy': 'cooperative-sticky',
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': SOURCE_INTERNALS.fetchWaitMaxMs,
        // Dynamic membership with a short session: a crashed instance's partitions move after 10 s. (Static
        // membership, group.instance.id, would hand them back at once on restart, but librdkafka treats the fencing
        // that follows a group coordinator outage as fatal: a broker restart would stop the daemon.)
        'session.timeout.ms': SOURCE_INTERNALS.sessionTimeoutMs,
        'heartbeat.interval.ms': SOURCE_INTERNALS.heartbeatIntervalMs,
        'socket.keepalive.enable': true,
        'reconnect.backoff.max.ms': SOURCE_INTERNALS.reconnectBackoffMaxMs,
        rebalance_cb: ((err: LibrdKafkaError, assignment: TopicPartition[]) => this.onRebalance(err, assignment)) as unknown as boolean,
        ...(options.own ?? {}),
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.setDefaultConsumeTimeout(options.consumeTimeoutMs);
  }

  /** The raw topic's partitions assigned to this instance. */
  get assigned(): ReadonlySet<number> {
    return this.assignedOf(this.options.topics[0]);
  }

  assignedOf(topic: string): ReadonlySet<number> {
    return this.assignedByTopic.get(topic) ?? new Set();
  }

  setHooks(hooks: RebalanceHooks): void {
    this.hooks = hooks;
  }

  /** Connects within `timeoutMs`; a broker that is down gives a KafkaError naming it, never a silent hang. */
  async connect(timeoutMs: number): Promise<void> {
    await connectClient(this.consumer, 'consumer', 'consumer', this.options.conn.brokers, timeoutMs);
    this.nativeClient = nativeHandle(this.native, this.consumer, 'consumer', this.options.nativeUnavailable);
  }

  /**
   * Whether a batch that is not full ends with a wait for one more message (node-rdkafka's consume(n), or a native
   * read with a rest wait): then the caller keeps batches about as large as the flow, so a trickle is not held back.
   */
  get waitsPerMessage(): boolean {
    return this.nativeClient === undefined || (this.options.consumeRestMs ?? this.options.consumeTimeoutMs) > 0;
  }

  /**
   * The batch size to ask for after a read of `read` messages for `asked` (at most `max`): the whole `max` when a read
   * hands over what is fetched; when it waits per message, as large as the flow — a full batch doubles it, a short one
   * shrinks it to twice what came (at least `min`), so a trickle is not held back waiting for a batch to fill.
   */
  nextBatchSize(read: number, asked: number, max: number, min: number): number {
    if (!this.waitsPerMessage) return max;
    return read >= asked ? Math.min(max, asked * 2) : Math.max(min, Math.min(max, read * 2));
  }

  /** Whether batches are read through the native addon. */
  get nativeConsume(): boolean {
    return this.nativeClient !== undefined;
  }

  /** Partition count of an input topic, or a KafkaError naming the missing topic. */
  async partitions(timeoutMs: number, topic: string = this.options.topics[0]): Promise<number> {
    const ids = await topicPartitions(this.consumer, 'consumer', topic, timeoutMs);
    if (ids.length === 0) throw new KafkaError(`topic '${topic}' does not exist on ${this.options.conn.brokers}`, { role: 'consumer', topic });
    return ids.length;
  }

  subscribe(): void {
    this.consumer.subscribe([...this.options.topics]);
  }

  /**
   * Reads up to `max` messages; resolves with what arrived before the first per-message timeout (natively: the first
   * within consumeTimeoutMs, the rest within consumeRestMs).
   */
  consumeBatch(max: number): Promise<Message[]> {
    if (this.nativeClient === undefined) return consumeMessages(this.consumer, max);
    const { consumeTimeoutMs, consumeRestMs } = this.options;
    const read = consumeNative(this.native!, this.nativeClient, max, consumeTimeoutMs, consumeRestMs ?? consumeTimeoutMs).catch((err: unknown) => {
      throw KafkaError.from('consume', err, 'consumer');
    });
    this.reading = read;
    return read;
  }

  /**
   * A consume error that will come back on every retry because a fetched batch cannot be decompressed (a codec this
   * build lacks, or bad compressed bytes), located from the consumer's own positions; undefined for any other error.
   */
  undecompressable(err: unknown): UndecompressableBatchError | undefined {
    for (const topic of this.options.topics) {
      const c = classifyConsumeError(err as Error, {
        topic,
        features: KAFKA_FEATURES,
        progress: progressOf(this.consumer, topic, [...this.assignedOf(topic)]),
      });
      if (c.kind === 'undecompressable' && (c.error.partitions.length > 0 || topic === this.options.topics[this.options.topics.length - 1])) return c.error;
    }
    return undefined;
  }

  /** The pipeline has taken these messages: the next offsets to read move past them. */
  advance(messages: readonly Message[]): void {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const positions = this.positions.get(m.topic);
      if (positions === undefined) continue;
      if (!positions.has(m.partition)) this.options.firstRead?.(m.topic, m.partition, m.offset);
      positions.set(m.partition, m.offset + 1);
    }
  }

  /** High watermark minus the next offset to read, per assigned partition of `topic` (from the client's cached watermarks). */
  lag(topic: string = this.options.topics[0]): Map<number, number> {
    const out = new Map<number, number>();
    const positions = this.positions.get(topic);
    for (const p of this.assignedOf(topic)) {
      try {
        const w = this.consumer.getWatermarkOffsets(topic, p);
        const next = positions?.get(p) ?? w.lowOffset;
        if (w.highOffset >= 0) out.set(p, Math.max(0, w.highOffset - next));
      } catch {
        // no cached watermark yet for a fresh assignment
      }
    }
    return out;
  }

  /**
   * Sends every assigned partition (as assigned now: the group may have rebalanced during an outage) back to its
   * committed offset, or to its beginning when nothing is committed yet (as auto.offset.reset=earliest would). A
   * partition whose committed offset cannot be read, or whose seek fails, fails the rewind: reading on from the
   * current position would skip the aborted records.
   */
  async rewind(): Promise<void> {
    for (const [topic, assigned] of this.assignedByTopic) {
      const partitions = [...assigned];
      if (partitions.length === 0) continue;
      const committed = await committedOffsets(this.consumer, topic, partitions, SOURCE_INTERNALS.committedTimeoutMs);
      for (const tp of committed) {
        const offset = tp.offset !== undefined && tp.offset >= 0 ? tp.offset : OFFSET_BEGINNING;
        await seekPartition(this.consumer, { topic, partition: tp.partition, offset }, SOURCE_INTERNALS.seekTimeoutMs);
        this.positions.get(topic)?.delete(tp.partition);
      }
    }
  }

  /**
   * Where partitions of `topic` start, as absolute offsets: the committed offset, or the partition's first offset when
   * nothing is committed yet (as auto.offset.reset=earliest would). The consumer reads committed offsets with
   * read_committed, so the broker answers only once no transaction holding offsets for them is open (a previous
   * owner's open transaction is aborted by its fencing or its timeout); until then, and while the broker is away,
   * this retries until it succeeds or the source closes. A fatal error is thrown as it is.
   */
  private async startPositions(topic: string, partitions: readonly number[]): Promise<TopicPartitionOffset[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const out: TopicPartitionOffset[] = [];
        for (const tp of await committedOffsets(this.consumer, topic, partitions, SOURCE_INTERNALS.committedTimeoutMs)) {
          const offset =
            tp.offset !== undefined && tp.offset >= 0
              ? tp.offset
              : (await queryWatermarks(this.consumer, topic, tp.partition, SOURCE_INTERNALS.committedTimeoutMs)).lowOffset;
          out.push({ topic, partition: tp.partition, offset });
        }
        return out;
      } catch (err) {
        if (isFatal(err) || this.closing) throw err;
        this.options.startRetry?.(topic, attempt, err as Error);
        await new Promise((r) => setTimeout(r, SOURCE_INTERNALS.startRetryPauseMs));
      }
    }
  }

  /** Forgets the read positions of partitions that left. */
  forget(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.positions.get(tp.topic)?.delete(tp.partition);
  }

  /** Waits for any rebalance handling in progress (revocations finish their transaction first). */
  settled(): Promise<void> {
    return this.rebalanceChain;
  }

  /**
   * Closes the consumer once the rebalance handling in progress has finished — or after `timeoutMs` of waiting for it:
   * a handler that waits on a loop which has already ended must not hold the close. Its hooks are then left behind and
   * its partitions acknowledged at once (librdkafka's close waits for that acknowledgement), as are those of every
   * rebalance after it; the partitions it did not let go are reassigned by the group when this member leaves.
   */
  async disconnect(timeoutMs: number): Promise<SourceClosed> {
    this.closing = true;
    const rebalanceUnfinished = (await within(this.rebalanceChain, timeoutMs)) === TIMED_OUT;
    if (rebalanceUnfinished) this.abandon();
    await this.reading?.catch(() => undefined);
    const closed = await disconnectClient(this.consumer, timeoutMs);
    return { rebalanceUnfinished, closed };
  }

  /**
   * Every rebalance is acknowledged to librdkafka — an assignment with incrementalAssign, a revocation with
   * incrementalUnassign — whatever its hooks do: they may throw, or never finish once the close has given up on them.
   * An unacknowledged rebalance holds librdkafka's consumer close forever (its pool thread blocked in
   * rd_kafka_consumer_close, and with it the process's exit, which joins that pool: seen in CI, found with gdb), and a
   * handler that rejects would end the process as an unhandled rejection.
   */
  private onRebalance(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    // Dispatched asynchronously by node-rdkafka: the assignment only changes when we call incremental(Un)assign, so a
    // new assignment is read from only after its state is restored, and a revocation can first finish the open
    // transaction (nothing lost, nothing twice) and only then let partitions go.
    const code = err?.code;
    this.rebalanceChain = this.rebalanceChain
      .then(() => {
        if (code === KAFKA_CODES.ERR__ASSIGN_PARTITIONS) return this.onAssigned(assignment);
        if (code === KAFKA_CODES.ERR__REVOKE_PARTITIONS) return this.onRevoked(assignment);
        return undefined;
      })
      .catch((e: unknown) => this.fail(e, code === KAFKA_CODES.ERR__REVOKE_PARTITIONS ? 'revocation' : 'assignment'));
  }

  private async onAssigned(assignment: TopicPartition[]): Promise<void> {
    let start: TopicPartitionOffset[] | undefined;
    let failure: unknown;
    try {
      const outcome = await this.unlessAbandoned(async () => {
        await this.hooks?.assigned(assignment);
        // Started at absolute offsets read here rather than left to librdkafka (an OffsetFetch, then
        // auto.offset.reset for a partition with nothing committed): under load, a partition with nothing committed
        // was seen read twice from its beginning, its first records written twice (test/pipeline/exactly-once.test.ts,
        // the SIGKILL case, about one run in thirty on a loaded machine).
        const out: TopicPartitionOffset[] = [];
        for (const topic of new Set(assignment.map((tp) => tp.topic))) {
          out.push(...(await this.startPositions(topic, assignment.filter((tp) => tp.topic === topic).map((tp) => tp.partition))));
        }
        return out;
      });
      if (outcome !== 'abandoned') start = outcome;
    } catch (err) {
      // not read from: the pipeline ends with this error (a restart resumes from the last commit)
      failure = err;
    }
    if (start !== undefined && this.take(start, assignment)) return;
    this.decline(assignment);
    if (failure !== undefined) this.fail(failure, 'assignment');
  }

  /** Assigns `start` and reads from it; false when librdkafka refuses (the consumer closing). */
  private take(start: TopicPartitionOffset[], assignment: TopicPartition[]): boolean {
    try {
      this.consumer.incrementalAssign(start);
    } catch {
      return false;
    }
    for (const tp of assignment) this.assignedByTopic.get(tp.topic)?.add(tp.partition);
    // a partition paused by an earlier revocation of it may keep that pause: taken back, it is read again
    try {
      this.consumer.resume(assignment.map(({ topic, partition }) => ({ topic, partition })));
    } catch {
      // not paused
    }
    return true;
  }

  /**
   * Acknowledges an assignment that is not taken up: assigned and paused (nothing is read; the pipeline is ending),
   * or, once the consumer is closing — when librdkafka treats any assignment call as an unassignment and node-rdkafka
   * refuses incrementalAssign — unassigned.
   */
  private decline(assignment: TopicPartition[]): void {
    const tps = assignment.map(({ topic, partition }) => ({ topic, partition }));
    if (!this.closing) {
      try {
        this.consumer.incrementalAssign(tps);
        this.consumer.pause(tps);
        return;
      } catch {
        // closing after all: unassigned below
      }
    }
    try {
      this.consumer.incrementalUnassign(tps);
    } catch {
      // the consumer is closed: nothing waits for an acknowledgement
    }
  }

  private async onRevoked(assignment: TopicPartition[]): Promise<void> {
    // Paused at once: records fetched but not yet read are dropped (librdkafka's pause barrier), so nothing of these
    // partitions is read after the revocation's last commit; their next owner reads them.
    const tps = assignment.map(({ topic, partition }) => ({ topic, partition }));
    try {
      this.consumer.pause(tps);
    } catch {
      // the consumer is closing: nothing more is read anyway
    }
    let failure: unknown;
    try {
      await this.unlessAbandoned(() => this.hooks?.revoking(assignment));
    } catch (err) {
      failure = err;
    }
    for (const tp of assignment) this.assignedByTopic.get(tp.topic)?.delete(tp.partition);
    try {
      // allowed by node-rdkafka while the consumer closes, which is when librdkafka revokes everything
      this.consumer.incrementalUnassign(tps);
    } catch {
      // the consumer is closed: nothing waits for an acknowledgement
    }
    if (failure !== undefined) this.fail(failure, 'revocation');
  }

  /** `run`'s result — or 'abandoned' once the close stops waiting for it (then it is not started, or left running). */
  private async unlessAbandoned<T>(run: () => T | Promise<T>): Promise<T | 'abandoned'> {
    if (this.abandoned) return 'abandoned';
    return Promise.race([Promise.resolve().then(run), this.abandonedSignal]);
  }

  private fail(err: unknown, during: 'assignment' | 'revocation'): void {
    if (this.closing) return;
    try {
      this.hooks?.failed(err instanceof Error ? err : new Error(String(err)), during);
    } catch {
      // a hook that throws must not reject the chain
    }
  }
}

export type { Message, TopicPartitionOffset };
