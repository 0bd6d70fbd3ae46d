// Alarm window checkpoints: one key per input partition in the compacted state topic, read back when the partition is assigned.
import Kafka from 'node-rdkafka';
import { LuxError } from '../errors.js';

/**
 * The checkpoint key of one input partition: every instance of a consumer group writes and reads the same keys, so
 * whichever instance is assigned a partition next takes up its window state.
 */
export function checkpointKey(groupId: string, partition: number): string {
  return `${groupId}:${partition}`;
}

/**
 * Reads the state topic from the beginning up to its high watermarks (read_committed) and returns, per key asked
 * for, the last value written under it; a key with none (never checkpointed) or whose last value is a tombstone is
 * absent from the map.
 */
export async function readCheckpoint(brokers: string, topic: string, keys: Iterable<string>, timeoutMs = 30000): Promise<Map<string, Buffer>> {
  const wanted = new Set(keys);
  const latest = new Map<string, Buffer | null>();
  if (wanted.size === 0) return new Map();
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      'group.id': `lux-checkpoint-reader-${process.pid}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const deadline = Date.now() + timeoutMs;
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: timeoutMs }, (err) => (err ? reject(new LuxError('E_KAFKA', `cannot read checkpoints from '${topic}': ${err.message}`)) : resolve())),
  );
  try {
    const md = await new Promise<Kafka.Metadata>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: timeoutMs }, (err, d) => (err ? reject(err) : resolve(d))),
    );
    const partitions = md.topics.find((t) => t.name === topic)?.partitions.map((p) => p.id) ?? [];
    if (partitions.length === 0) throw new LuxError('E_KAFKA', `checkpoint topic '${topic}' does not exist`);
    const ends = new Map<number, number>();
    for (const p of partitions) {
      const w = await new Promise<Kafka.WatermarkOffsets>((resolve, reject) =>
        consumer.queryWatermarkOffsets(topic, p, timeoutMs, (err, o) => (err ? reject(err) : resolve(o))),
      );
      if (w.highOffset > w.lowOffset) ends.set(p, w.highOffset);
    }
    if (ends.size === 0) return new Map();
    consumer.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: -2 /* beginning */ })));
    consumer.setDefaultConsumeTimeout(200);
    const done = new Set<number>();
    while (done.size < ends.size) {
      if (Date.now() > deadline) throw new LuxError('E_KAFKA', `reading checkpoints from '${topic}' took longer than ${timeoutMs} ms`);
      const batch = await new Promise<Kafka.Message[]>((resolve, reject) => consumer.consume(500, (err, m) => (err ? reject(err) : resolve(m))));
      for (const m of batch) {
        const key = m.key?.toString();
        if (key !== undefined && wanted.has(key)) latest.set(key, m.value);
        // read_committed stops at the last stable offset: transaction markers fill the gap up to the high watermark
        if (m.offset + 1 >= (ends.get(m.partition) ?? 0)) done.add(m.partition);
      }
      if (batch.length === 0) {
        // Only control records (commit markers) remain before the high watermark: nothing more to read there.
        const positions = consumer.position([...ends.keys()].map((partition) => ({ topic, partition })));
        for (const p of positions) if (p.offset !== undefined && p.offset >= (ends.get(p.partition) ?? 0) - 1) done.add(p.partition);
      }
    }
    const found = new Map<string, Buffer>();
    for (const [key, value] of latest) if (value !== null && value !== undefined) found.set(key, value);
    return found;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
