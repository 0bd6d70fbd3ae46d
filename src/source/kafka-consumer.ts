// The raw-topic source: a node-rdkafka consumer in a group (cooperative-sticky), read in batches, paused and resumed per partition.
import Kafka from 'node-rdkafka';
import type { LibrdKafkaError, Message, TopicPartition, TopicPartitionOffset } from 'node-rdkafka';
import { LuxError } from '../errors.js';

export interface SourceOptions {
  brokers: string;
  groupId: string;
  clientId: string;
  topic: string;
  /** per-message wait inside a batch read; a batch returns at the first timeout */
  consumeTimeoutMs: number;
  extra?: Record<string, string | number | boolean>;
}

/**
 * What the pipeline is told when partitions move. Both are awaited: an assignment is read from only once `assigned`
 * resolves (its state restored first), and revoked partitions leave once `revoking` resolves (their last commit made).
 */
export interface RebalanceHooks {
  assigned(partitions: TopicPartition[]): void | Promise<void>;
  revoking(partitions: TopicPartition[]): Promise<void>;
}

export class KafkaSource {
  readonly consumer: Kafka.KafkaConsumer;
  private readonly options: SourceOptions;
  private hooks: RebalanceHooks | undefined;
  /** partition → assigned, for lag and pause bookkeeping */
  readonly assigned = new Set<number>();
  /** partitions being revoked: paused until they leave, never resumed */
  private readonly revoking = new Set<number>();
  private rebalanceChain: Promise<void> = Promise.resolve();

  constructor(options: SourceOptions) {
    this.options = options;
    this.consumer = new Kafka.KafkaConsumer(
      {
        'metadata.broker.list': options.brokers,
        'group.id': options.groupId,
        'client.id': options.clientId,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'partition.assignment.strategy': 'cooperative-sticky',
        'isolation.level': 'read_committed',
        'fetch.wait.max.ms': 20,
        // Dynamic membership with a short session: a crashed instance's partitions move after 10 s. (Static
        // membership, group.instance.id, would hand them back at once on restart, but librdkafka treats the fencing
        // that follows a group coordinator outage as fatal: a broker restart would stop the daemon.)
        'session.timeout.ms': 10000,
        'heartbeat.interval.ms': 2000,
        'socket.keepalive.enable': true,
        'reconnect.backoff.max.ms': 5000,
        rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => this.onRebalance(err, assignment),
        ...(options.extra ?? {}),
      } as Kafka.ConsumerGlobalConfig,
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.setDefaultConsumeTimeout(options.consumeTimeoutMs);
  }

  setHooks(hooks: RebalanceHooks): void {
    this.hooks = hooks;
  }

  /** Connects within `timeoutMs`; a broker that is down gives a LuxError naming it, never a silent hang. */
  async connect(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.consumer.connect({ timeout: timeoutMs }, (err) => {
        if (err) reject(new LuxError('E_KAFKA', `cannot connect the consumer to ${this.options.brokers} within ${timeoutMs} ms: ${err.message}`));
        else resolve();
      });
    });
  }

  /** Partition count of the source topic, or a LuxError naming the missing topic. */
  async partitions(timeoutMs: number): Promise<number> {
    const md = await new Promise<Kafka.Metadata>((resolve, reject) => {
      this.consumer.getMetadata({ topic: this.options.topic, timeout: timeoutMs }, (err, data) => (err ? reject(err) : resolve(data)));
    });
    const t = md.topics.find((x) => x.name === this.options.topic);
    if (t === undefined || t.partitions.length === 0) throw new LuxError('E_KAFKA', `topic '${this.options.topic}' does not exist on ${this.options.brokers}`);
    return t.partitions.length;
  }

  subscribe(): void {
    this.consumer.subscribe([this.options.topic]);
  }

  /** Reads up to `max` messages; resolves with what arrived before the first per-message timeout. */
  consumeBatch(max: number): Promise<Message[]> {
    return new Promise((resolve, reject) => {
      this.consumer.consume(max, (err, messages) => {
        if (err) reject(err);
        else resolve(messages);
      });
    });
  }

  pause(partitions: number[]): void {
    if (partitions.length > 0) this.consumer.pause(partitions.map((partition) => ({ topic: this.options.topic, partition })));
  }

  resume(partitions: number[]): void {
    const resumed = this.revoking.size === 0 ? partitions : partitions.filter((p) => !this.revoking.has(p));
    if (resumed.length > 0) this.consumer.resume(resumed.map((partition) => ({ topic: this.options.topic, partition })));
  }

  /** High watermark minus the next offset to read, per assigned partition (from the client's cached watermarks). */
  lag(position: (partition: number) => number | undefined): Map<number, number> {
    const out = new Map<number, number>();
    for (const p of this.assigned) {
      try {
        const w = this.consumer.getWatermarkOffsets(this.options.topic, p);
        const next = position(p) ?? w.lowOffset;
        if (w.highOffset >= 0) out.set(p, Math.max(0, w.highOffset - next));
      } catch {
        // no cached watermark yet for a fresh assignment
      }
    }
    return out;
  }

  /** Waits for any rebalance handling in progress (revocations finish their transaction first). */
  settled(): Promise<void> {
    return this.rebalanceChain;
  }

  async disconnect(timeoutMs: number): Promise<void> {
    await this.rebalanceChain.catch(() => undefined);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.consumer.disconnect(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private onRebalance(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    // Dispatched asynchronously by node-rdkafka: the assignment only changes when we call incremental(Un)assign, so a
    // new assignment is read from only after its state is restored, and a revocation can first finish the open
    // transaction (nothing lost, nothing twice) and only then let partitions go.
    const code = err?.code;
    this.rebalanceChain = this.rebalanceChain.then(async () => {
      if (code === Kafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        for (const tp of assignment) this.revoking.delete(tp.partition);
        await this.hooks?.assigned(assignment);
        this.consumer.incrementalAssign(assignment);
        for (const tp of assignment) this.assigned.add(tp.partition);
        // a partition paused by an earlier revocation of it may keep that pause: taken back, it is read again
        try {
          this.consumer.resume(assignment.map(({ topic, partition }) => ({ topic, partition })));
        } catch {
          // not paused
        }
      } else if (code === Kafka.CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
        // Paused at once: records fetched but not yet read are dropped (librdkafka's pause barrier), so nothing of
        // these partitions is read after the revocation's last commit; their next owner reads them.
        for (const tp of assignment) this.revoking.add(tp.partition);
        try {
          this.consumer.pause(assignment.map(({ topic, partition }) => ({ topic, partition })));
        } catch {
          // the consumer is closing: nothing more is read anyway
        }
        try {
          await this.hooks?.revoking(assignment);
        } finally {
          for (const tp of assignment) {
            this.assigned.delete(tp.partition);
            this.revoking.delete(tp.partition);
          }
          if (this.consumer.isConnected()) this.consumer.incrementalUnassign(assignment);
        }
      }
    });
  }
}

export type { Message, TopicPartitionOffset };
