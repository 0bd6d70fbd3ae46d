// The report's reader: one consumer outside any group (built and called through src/kafka) that finds a period's offsets with offsetsForTimes and reads them, with errors naming broker, topic and option.
import { randomUUID } from 'node:crypto';
import { LuxError } from '../errors.js';
import {
  connectClient,
  consumeMessages,
  createConsumer,
  disconnectClient,
  kafkaCall,
  kafkaConnection,
  queryWatermarks,
  type KafkaConsumer,
  type Message,
  type TopicPartitionOffset,
} from '../kafka/client.js';
import { topicPartitions } from '../kafka/metadata.js';
import { REPORT_DEFAULTS } from './report-defaults.js';

/** A message as the report reads it: headers flattened to strings. */
export interface ReadMessage {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Offsets [start, end) of one partition. */
export interface PartitionRange {
  partition: number;
  start: number;
  end: number;
}

export class TopicReader {
  private readonly consumer: KafkaConsumer;
  private readonly eof = new Set<number>();

  constructor(
    readonly brokers: string,
    private readonly timeoutMs: number = REPORT_DEFAULTS.brokerTimeoutMs,
    extra: Record<string, string | number | boolean> = {},
  ) {
    this.consumer = createConsumer(
      kafkaConnection(brokers, extra),
      'lux-report',
      {
        // a group id is required by librdkafka; nothing is committed under it (assign, not subscribe)
        'group.id': `lux-report-${randomUUID()}`,
        'enable.auto.commit': false,
        'enable.partition.eof': true,
        'isolation.level': 'read_committed',
        'allow.auto.create.topics': false,
        'socket.connection.setup.timeout.ms': timeoutMs,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.consumer.on('partition.eof', (p) => this.eof.add(p.partition));
  }

  async connect(): Promise<void> {
    try {
      await connectClient(this.consumer, 'report reader', 'consumer', this.brokers, this.timeoutMs);
    } catch (e) {
      throw new LuxError('E_KAFKA', `cannot reach the Kafka brokers at ${this.brokers} within ${this.timeoutMs} ms: ${(e as Error).message.replace(/^.*: /, '')}`, { cause: e });
    }
  }

  /** The topic's partitions; a missing topic is an error naming it and the option that gave it. */
  async partitions(topic: string, option: string): Promise<number[]> {
    const partitions = await topicPartitions(this.consumer, 'consumer', topic, this.timeoutMs);
    if (partitions.length === 0) throw new LuxError('E_KAFKA', `topic '${topic}' (${option}) does not exist on ${this.brokers}`);
    return partitions;
  }

  /** Per partition, the first offset whose timestamp is at or after `atMs`; the high watermark when there is none. */
  async offsetsAt(topic: string, partitions: number[], atMs: number): Promise<Map<number, number>> {
    const found = await kafkaCall<TopicPartitionOffset[]>(
      `${topic}: cannot find the offsets of ${new Date(atMs).toISOString()}`,
      'consumer',
      (cb) => this.consumer.offsetsForTimes(partitions.map((partition) => ({ topic, partition, offset: atMs })), this.timeoutMs, cb),
      { topic },
    );
    const out = new Map<number, number>();
    for (const p of partitions) {
      const o = found.find((x) => x.partition === p)?.offset ?? -1;
      out.set(p, o >= 0 ? o : await this.highWatermark(topic, p));
    }
    return out;
  }

  async highWatermark(topic: string, partition: number): Promise<number> {
    return (await queryWatermarks(this.consumer, topic, partition, this.timeoutMs)).highOffset;
  }

  /** The offset ranges of the messages written in [fromMs, toMs), by Kafka timestamp. */
  async period(topic: string, partitions: number[], fromMs: number, toMs: number): Promise<PartitionRange[]> {
    const [starts, ends] = await Promise.all([this.offsetsAt(topic, partitions, fromMs), this.offsetsAt(topic, partitions, toMs)]);
    return partitions.map((partition) => ({ partition, start: starts.get(partition)!, end: ends.get(partition)! }));
  }

  /**
   * Reads the ranges (each partition up to its end, its end of log, or `limit` messages) and hands each message to
   * `onMessage`. Resolves with the count read.
   */
  async read(topic: string, ranges: PartitionRange[], onMessage: (m: ReadMessage) => void, limit = Infinity): Promise<number> {
    const open = ranges.filter((r) => r.end > r.start);
    if (open.length === 0) return 0;
    const ends = new Map(open.map((r) => [r.partition, r.end]));
    const counts = new Map(open.map((r) => [r.partition, 0]));
    const done = new Set<number>();
    this.eof.clear();
    this.consumer.assign(open.map((r) => ({ topic, partition: r.partition, offset: r.start })));
    let read = 0;
    let lastProgress = Date.now();
    try {
      while (done.size < open.length) {
        const batch = await consumeMessages(this.consumer, 1_000);
        if (batch.length > 0) lastProgress = Date.now();
        for (const m of batch) {
          if (done.has(m.partition)) continue;
          if (m.offset >= ends.get(m.partition)!) {
            done.add(m.partition);
            continue;
          }
          onMessage(toReadMessage(m));
          read++;
          const n = counts.get(m.partition)! + 1;
          counts.set(m.partition, n);
          if (n >= limit || m.offset + 1 >= ends.get(m.partition)!) done.add(m.partition);
        }
        for (const p of this.eof) if (ends.has(p)) done.add(p);
        this.eof.clear();
        if (done.size < open.length && Date.now() - lastProgress > REPORT_DEFAULTS.readIdleMs) {
          const waiting = open.filter((r) => !done.has(r.partition)).map((r) => r.partition);
          throw new LuxError('E_KAFKA', `${topic}: no message nor end of partition for ${REPORT_DEFAULTS.readIdleMs} ms on partitions ${waiting.join(', ')} (${this.brokers})`);
        }
      }
    } finally {
      this.consumer.unassign();
    }
    return read;
  }

  async close(): Promise<void> {
    await disconnectClient(this.consumer);
  }
}

function toReadMessage(m: Message): ReadMessage {
  const headers: Record<string, string> = {};
  for (const h of m.headers ?? []) {
    for (const [k, v] of Object.entries(h)) headers[k] = typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('utf8');
  }
  return { topic: m.topic, partition: m.partition, offset: m.offset, timestamp: m.timestamp ?? 0, value: m.value ?? null, headers };
}
