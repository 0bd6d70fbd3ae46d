// The end-to-end benchmark's Kafka side: fresh topics, the preload producer, committed group offsets and whole-topic reads (read_committed).
import { randomUUID } from 'node:crypto';
import {
  connectClient,
  createConsumer,
  createProducer,
  disconnectClient,
  KAFKA_CODES,
  kafkaConnection,
  OFFSET_BEGINNING,
  queryWatermarks,
  type KafkaConsumer,
  type KafkaProducer,
  type LibrdKafkaError,
  type Message,
} from '../../src/kafka/client.js';
import { topicPartitions } from '../../src/kafka/metadata.js';
import { createTopics as createProductTopics, deleteTopics as deleteProductTopics } from '../../src/kafka/topics.js';

const TIMEOUT_MS = 30_000;

function fail(what: string, err: LibrdKafkaError | Error): Error {
  return new Error(`${what}: ${err.message}`, { cause: err });
}

function call(what: string, fn: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(fail(what, err)) : resolve())));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A name no other run (or engineer sharing the broker) has used: `lux-bench-<what>-<time>-<random>`. */
export function uniqueName(what: string): string {
  return `lux-bench-${what}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** Creates the topics and waits until every partition has a leader. */
export async function createTopics(brokers: string, names: string[], partitions: number, config: Record<string, string> = {}): Promise<void> {
  await createProductTopics(kafkaConnection(brokers), names.map((name) => ({ name, partitions, config })), TIMEOUT_MS, 'lux-bench-admin');
}

/** Deletes the run's own topics (the broker is shared: a benchmark leaves nothing behind unless told to). */
export async function deleteTopics(brokers: string, names: string[]): Promise<void> {
  await deleteProductTopics(kafkaConnection(brokers), names, TIMEOUT_MS, 'lux-bench-admin');
}

/**
 * An idempotent producer for the preload: keyed frames, the produce time as the message timestamp. No delivery report
 * per message (two million JS events would outlast any wait on a loaded machine): after the flush, the topic's end
 * offsets must add up to the frames sent (idempotence: no duplicates; a lost message shows as a shortfall).
 */
export class PreloadProducer {
  private readonly producer: KafkaProducer;
  sent = 0;
  private fatal: Error | undefined;

  constructor(private readonly brokers: string, private readonly topic: string) {
    this.producer = createProducer(kafkaConnection(brokers), 'lux-bench-preload', {
      'enable.idempotence': true,
      'linger.ms': 5,
      'compression.codec': 'lz4',
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 200_000,
      'queue.buffering.max.kbytes': 262_144,
      dr_cb: false,
    });
    this.producer.on('event.error', (err: LibrdKafkaError) => {
      if (err.isFatal) this.fatal ??= fail(`produce to ${topic}`, err);
    });
  }

  async connect(): Promise<void> {
    await call('connect', (cb) => this.producer.connect({ timeout: TIMEOUT_MS }, cb));
    this.producer.setPollInterval(100);
  }

  /** Produces one frame, waiting while librdkafka's queue is full. */
  async send(value: Buffer, key: string): Promise<void> {
    if (this.fatal !== undefined) throw this.fatal;
    for (;;) {
      try {
        this.producer.produce(this.topic, null, value, key, Date.now());
        this.sent++;
        return;
      } catch (err) {
        if ((err as LibrdKafkaError).code !== KAFKA_CODES.ERR__QUEUE_FULL) throw fail(`produce to ${this.topic}`, err as Error);
        this.producer.poll();
        await sleep(5);
      }
    }
  }

  /** Flushes, checks that the topic holds every frame sent, then disconnects. */
  async close(): Promise<void> {
    try {
      await call('flush', (cb) => this.producer.flush(120_000, cb));
      if (this.fatal !== undefined) throw this.fatal;
      const partitions = await topicPartitions(this.producer, 'producer', this.topic, TIMEOUT_MS);
      let held = 0;
      for (const p of partitions) held += (await queryWatermarks(this.producer, this.topic, p, TIMEOUT_MS)).highOffset;
      if (held !== this.sent) throw new Error(`${this.topic}: holds ${held} frames after the flush, ${this.sent} were sent`);
    } finally {
      this.producer.setPollInterval(0);
      await new Promise<void>((resolve) => this.producer.disconnect(5000, () => resolve()));
    }
  }
}

/** Reads a consumer group's committed offsets and a topic's end offsets, without joining the group. */
export class OffsetWatch {
  private readonly consumer: KafkaConsumer;

  constructor(private readonly brokers: string, group: string, private readonly topic: string, private readonly partitions: number) {
    this.consumer = createConsumer(kafkaConnection(brokers), 'lux-bench-watch', { 'group.id': group, 'enable.auto.commit': false, 'isolation.level': 'read_committed' });
  }

  private lastCommitted = 0;

  async connect(): Promise<void> {
    await connectClient(this.consumer, 'offset watch', 'consumer', this.brokers, TIMEOUT_MS);
  }

  /** Sum over partitions of the group's committed offsets (= messages consumed and committed, on a fresh topic). */
  committed(): Promise<number> {
    const tps = Array.from({ length: this.partitions }, (_, partition) => ({ topic: this.topic, partition }));
    return new Promise((resolve, reject) =>
      this.consumer.committed(tps, 10_000, (err, out) => {
        // read_committed waits while a transaction holding offsets is open; a copier committing back to back keeps
        // one open almost always, so a timeout is "nothing newer yet", not a failure
        if (err && err.code === KAFKA_CODES.ERR__TIMED_OUT) resolve(this.lastCommitted);
        else if (err) reject(fail(`committed offsets of ${this.topic}`, err));
        else resolve((this.lastCommitted = out.reduce((s, tp) => s + (tp.offset !== undefined && tp.offset > 0 ? tp.offset : 0), 0)));
      }),
    );
  }

  /** Sum over partitions of the high watermarks (for a non-transactional topic: its message count). */
  async endOffsets(topic: string = this.topic): Promise<number> {
    let sum = 0;
    for (let p = 0; p < this.partitions; p++) {
      sum += (await queryWatermarks(this.consumer, topic, p, 10_000)).highOffset;
    }
    return sum;
  }

  async close(): Promise<void> {
    await disconnectClient(this.consumer);
  }
}

export interface TopicReader {
  /** called once per consumed batch, with the time the batch arrived */
  onBatch(messages: Message[], receivedAt: number): void;
}

export interface ReadOptions {
  isolation: 'read_committed' | 'read_uncommitted';
  /** stop once every partition is at its end (true), or keep going until `stop()` */
  untilEnd: boolean;
  /** consumer settings for a latency probe: fetch as soon as anything is there */
  lowLatency?: boolean;
  /** with untilEnd: give up (throw) after this long (default 300 s) */
  timeoutMs?: number;
}

/** A consumer on every partition of a topic from the beginning, outside any group; nothing is committed. */
export class TopicConsumer {
  private readonly consumer: KafkaConsumer;
  private stopped = false;

  constructor(private readonly brokers: string, private readonly topic: string, private readonly options: ReadOptions) {
    this.consumer = createConsumer(
      kafkaConnection(brokers),
      'lux-bench-reader',
      {
        'group.id': `lux-bench-reader-${randomUUID()}`,
        'enable.auto.commit': false,
        'enable.partition.eof': true,
        'isolation.level': options.isolation,
        ...(options.lowLatency === true ? { 'fetch.wait.max.ms': 5, 'fetch.min.bytes': 1 } : { 'fetch.wait.max.ms': 100 }),
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.setDefaultConsumeTimeout(options.lowLatency === true ? 5 : 100);
  }

  /** Reads until every partition is at its end (untilEnd) or `stop()`; resolves with the messages read. */
  async run(reader: TopicReader): Promise<number> {
    const atEnd = new Set<number>();
    // Both events arrive in log order before the batch callback: a record after an end means it was not the end.
    this.consumer.on('partition.eof', (p) => atEnd.add(p.partition));
    this.consumer.on('data', (m) => atEnd.delete(m.partition));
    await connectClient(this.consumer, 'topic reader', 'consumer', this.brokers, TIMEOUT_MS);
    let count = 0;
    try {
      const ids = await topicPartitions(this.consumer, 'consumer', this.topic, TIMEOUT_MS);
      if (ids.length === 0) throw new Error(`topic ${this.topic} does not exist`);
      const n = ids.length;
      const deadline = this.options.untilEnd ? Date.now() + (this.options.timeoutMs ?? 300_000) : Infinity;
      this.consumer.assign(ids.map((partition) => ({ topic: this.topic, partition, offset: OFFSET_BEGINNING })));
      while (!this.stopped) {
        const batch = await new Promise<Message[]>((resolve, reject) => this.consumer.consume(5000, (err, m) => (err ? reject(fail(`consume ${this.topic}`, err)) : resolve(m))));
        if (batch.length > 0) {
          const now = Date.now();
          count += batch.length;
          reader.onBatch(batch, now);
        }
        if (this.options.untilEnd && atEnd.size >= n) break;
        if (Date.now() > deadline) throw new Error(`${this.topic}: read ${count} messages but not the end of all ${n} partitions within ${this.options.timeoutMs} ms`);
        if (batch.length === 0) await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      await disconnectClient(this.consumer);
    }
    return count;
  }

  stop(): void {
    this.stopped = true;
  }
}

/** True when a broker at `brokers` answers a metadata request within `timeoutMs`. */
export async function brokerAnswers(brokers: string, timeoutMs = 5000): Promise<boolean> {
  const client = createProducer(kafkaConnection(brokers), 'lux-bench-probe', { log_level: 0 });
  try {
    await connectClient(client, 'probe', 'producer', brokers, timeoutMs);
    return true;
  } catch {
    return false;
  } finally {
    await disconnectClient(client, 2000);
  }
}
