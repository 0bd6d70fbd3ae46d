// The reference-data topic consumer (main thread, node-rdkafka): reads every partition of the compacted topic from its beginning, no consumer group, and hands the messages on per batch.
//
// No offsets are committed: every start replays the whole (compacted) topic, which is the table's current content.
// `start()` resolves once every partition has been read up to its high watermark as it stood at start; the consumer then
// keeps following. Callbacks only turn messages into plain text records and pass the batch on (parsing and building
// happen in the builder thread), so the main thread spends microseconds per message.
import { randomUUID } from 'node:crypto';
import {
  connectClient,
  createConsumer,
  disconnectClient,
  kafkaConnection,
  OFFSET_BEGINNING,
  queryWatermarks,
  type KafkaConsumer,
  type LibrdKafkaError,
  type Message,
} from '../kafka/client.js';
import { readMetadata } from '../kafka/metadata.js';
import { REFDATA_INTERNALS } from '../config/internals.js';
import type { Logger } from '../service/logger.js';
import type { RawUpdate } from './refdata-update.js';

export interface RefdataTopicOptions {
  readonly brokers: string;
  readonly topic: string;
  readonly log: Logger;
  /** receives each consumed batch, in partition order per partition */
  readonly onBatch: (batch: RawUpdate[]) => void;
  /** told how long each consume callback took on the main thread (ms) */
  readonly onCallbackMs?: (ms: number) => void;
  /** messages per consume call */
  readonly batchSize?: number;
  /** how often to look for the topic (absent at start) or for new partitions, ms */
  readonly metadataIntervalMs?: number;
  /** extra librdkafka settings */
  readonly extra?: Readonly<Record<string, string | number | boolean>>;
  readonly timeoutMs?: number;
}

const DEFAULTS = {
  batchSize: REFDATA_INTERNALS.topicBatchSize,
  metadataIntervalMs: REFDATA_INTERNALS.topicMetadataIntervalMs,
  timeoutMs: REFDATA_INTERNALS.topicTimeoutMs,
};

export class RefdataTopic {
  private readonly consumer: KafkaConsumer;
  private readonly opts: RefdataTopicOptions;
  /** next offset to read per assigned partition */
  private readonly next = new Map<number, number>();
  /** partitions still replaying → the high watermark to reach */
  private readonly replayTo = new Map<number, number>();
  private replayed: (() => void) | undefined;
  private running = false;
  private consuming = false;
  private metadataTimer: NodeJS.Timeout | undefined;
  /** messages read since start */
  messages = 0;

  constructor(opts: RefdataTopicOptions) {
    this.opts = opts;
    this.consumer = createConsumer(
      kafkaConnection(opts.brokers, { ...opts.extra }),
      'lux-refdata',
      {
        // librdkafka wants a group id for a consumer; nothing joins or commits with it (assign, not subscribe)
        'group.id': `lux-refdata-${randomUUID()}`,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'enable.partition.eof': true,
        'isolation.level': 'read_committed',
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('partition.eof', (e: { partition: number; offset: number }) => this.reached(e.partition, e.offset));
  }

  /** Connects, assigns every partition from its beginning and resolves once they are replayed up to their high watermarks. */
  async start(): Promise<void> {
    const timeout = this.opts.timeoutMs ?? DEFAULTS.timeoutMs;
    await connectClient(this.consumer, 'reference-data topic consumer', 'consumer', this.opts.brokers, timeout);
    this.consumer.setDefaultConsumeTimeout(100);
    this.running = true;
    const done = new Promise<void>((resolve) => (this.replayed = resolve));
    await this.refreshPartitions(true);
    this.metadataTimer = setInterval(() => void this.refreshPartitions(false).catch((e) => this.opts.log.warn({ err: (e as Error).message }, 'reference-data topic metadata')), this.opts.metadataIntervalMs ?? DEFAULTS.metadataIntervalMs);
    this.metadataTimer.unref();
    this.checkReplayed();
    this.loop();
    await done;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.metadataTimer);
    this.replayed?.();
    await disconnectClient(this.consumer, DEFAULTS.timeoutMs);
  }

  /** Assigns partitions not yet assigned (all of them at start) from their beginning; notes their high watermarks. */
  private async refreshPartitions(first: boolean): Promise<void> {
    const topic = this.opts.topic;
    const timeout = this.opts.timeoutMs ?? DEFAULTS.timeoutMs;
    const md = await readMetadata(this.consumer, 'consumer', timeout, topic);
    const t = md.topics.find((x) => x.name === topic);
    const ids = (t?.partitions ?? []).map((p) => p.id).filter((id) => !this.next.has(id));
    if (ids.length === 0) {
      if (first && (t === undefined || t.partitions.length === 0)) {
        this.opts.log.warn({ topic }, 'reference-data topic does not exist (yet): no updates to replay; it will be read once it appears');
      }
      return;
    }
    for (const id of ids) {
      const high = (await queryWatermarks(this.consumer, topic, id, timeout)).highOffset;
      this.next.set(id, OFFSET_BEGINNING);
      if (first && high > 0) this.replayTo.set(id, high);
    }
    // assign replaces the assignment: known partitions continue from where they are
    this.consumer.assign(
      [...this.next].map(([partition, offset]) => ({ topic, partition, offset })),
    );
    if (!first) this.opts.log.info({ topic, partitions: ids }, 'reference-data topic: new partitions assigned from their beginning');
  }

  private loop(): void {
    if (!this.running || this.consuming) return;
    this.consuming = true;
    this.consumer.consume(this.opts.batchSize ?? DEFAULTS.batchSize, (err: LibrdKafkaError | null | undefined, messages: Message[]) => {
      const t0 = performance.now();
      this.consuming = false;
      if (!this.running) return;
      if (err) {
        this.opts.log.warn({ topic: this.opts.topic, err: err.message }, 'reference-data topic: consume failed; retrying');
        setTimeout(() => this.loop(), 1000).unref();
        return;
      }
      if (messages.length > 0) {
        const batch: RawUpdate[] = new Array(messages.length);
        for (let i = 0; i < messages.length; i++) {
          const m = messages[i];
          batch[i] = {
            key: m.key === null || m.key === undefined ? null : typeof m.key === 'string' ? m.key : m.key.toString('utf8'),
            value: m.value === null || m.value === undefined ? null : m.value.toString('utf8'),
            partition: m.partition,
            offset: m.offset,
            timestamp: m.timestamp,
          };
          this.next.set(m.partition, m.offset + 1);
        }
        this.messages += messages.length;
        this.opts.onBatch(batch);
        for (const m of messages) this.reached(m.partition, m.offset + 1);
        this.opts.onCallbackMs?.(performance.now() - t0);
      }
      setImmediate(() => this.loop());
    });
  }

  /** A partition's read position reached `offset`: its replay may be complete. */
  private reached(partition: number, offset: number): void {
    const to = this.replayTo.get(partition);
    if (to !== undefined && offset >= to) {
      this.replayTo.delete(partition);
      this.checkReplayed();
    }
  }

  private checkReplayed(): void {
    if (this.replayTo.size === 0 && this.replayed !== undefined) {
      const r = this.replayed;
      this.replayed = undefined;
      r();
    }
  }
}


