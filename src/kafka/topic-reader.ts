// Reads a topic (read_committed, no consumer group) from its beginning up to the high watermarks it has when the read starts: how state topics are restored.
import { randomUUID } from 'node:crypto';
import { KafkaError } from './errors.js';
import {
  connectClient,
  consumeMessages,
  createConsumer,
  disconnectClient,
  OFFSET_BEGINNING,
  queryWatermarks,
  type KafkaConnection,
  type Message,
} from './client.js';
import { topicPartitions } from './metadata.js';

export interface ReadToEndOptions {
  /** gives up with a KafkaError after this long */
  timeoutMs: number;
  /** what the reader is, for errors and client.id (e.g. "alarm state") */
  what: string;
  /** messages per consume call */
  batch?: number;
}

/**
 * Calls `onMessage` for every message of every non-empty partition of `topic`, in offset order per partition, up to
 * the high watermark each had when the read began. A topic just created may not have its metadata or leaders
 * everywhere yet: each step is tried again until the deadline, then the last error names it. A topic that does not
 * exist is an error.
 */
export async function readToEnd(conn: KafkaConnection, topic: string, onMessage: (m: Message) => void, options: ReadToEndOptions): Promise<void> {
  const { timeoutMs, what } = options;
  const consumer = createConsumer(
    conn,
    `lux-${what.replace(/\W+/g, '-')}-reader`,
    {
      // librdkafka wants a group id for a consumer; nothing joins or commits with it (assign, not subscribe)
      'group.id': `lux-reader-${randomUUID()}`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const deadline = Date.now() + timeoutMs;
  await connectClient(consumer, `${what} reader`, 'consumer', conn.brokers, timeoutMs);
  try {
    const ends = await highWatermarks(consumer, topic, what, deadline);
    if (ends.size === 0) return;
    consumer.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: OFFSET_BEGINNING })));
    consumer.setDefaultConsumeTimeout(200);
    const done = new Set<number>();
    while (done.size < ends.size) {
      if (Date.now() > deadline) throw new KafkaError(`reading the ${what} from '${topic}' took longer than ${timeoutMs} ms`, { role: 'consumer', topic, retriable: true });
      const batch = await consumeMessages(consumer, options.batch ?? 500);
      for (const m of batch) {
        onMessage(m);
        // read_committed stops at the last stable offset: transaction markers fill the gap up to the high watermark
        if (m.offset + 1 >= (ends.get(m.partition) ?? 0)) done.add(m.partition);
      }
      if (batch.length === 0) {
        // Only control records (commit markers) remain before the high watermark: nothing more to read there.
        const positions = consumer.position([...ends.keys()].map((partition) => ({ topic, partition })));
        for (const p of positions) if (p.offset !== undefined && p.offset >= (ends.get(p.partition) ?? 0) - 1) done.add(p.partition);
      }
    }
  } finally {
    await disconnectClient(consumer);
  }
}

/** The high watermark of every non-empty partition of `topic`, retried until `deadline` (a topic just created). */
async function highWatermarks(consumer: ReturnType<typeof createConsumer>, topic: string, what: string, deadline: number): Promise<Map<number, number>> {
  for (let attempt = 1; ; attempt++) {
    const left = Math.max(1000, deadline - Date.now());
    try {
      const partitions = await topicPartitions(consumer, 'consumer', topic, left);
      if (partitions.length === 0) throw new KafkaError(`${what} topic '${topic}' does not exist`, { role: 'consumer', topic });
      const ends = new Map<number, number>();
      for (const p of partitions) {
        const w = await queryWatermarks(consumer, topic, p, left);
        if (w.highOffset > w.lowOffset) ends.set(p, w.highOffset);
      }
      return ends;
    } catch (err) {
      if (Date.now() + 250 * attempt > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}
