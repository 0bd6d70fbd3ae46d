// The alarm window changelog in Kafka: the keys of a partition's values in the compacted state topic, and reading them back when the partition is assigned.
import Kafka from 'node-rdkafka';
import { LuxError } from '../errors.js';
import type { ChangelogEntry } from './state-codec.js';

/**
 * The key of an input partition's own value (its event-time mark and frontiers), `<group_id>:<partition>`: every
 * instance of a consumer group writes and reads the same keys, so whichever instance is assigned a partition next
 * takes up its window state.
 */
export function partitionKey(groupId: string, partition: number): string {
  return `${groupId}:${partition}`;
}

/** The key of one equipment's windows in an input partition, `<group_id>:<partition>:e<equipment>`. */
export function equipmentKey(groupId: string, partition: number, equipment: number): string {
  return `${groupId}:${partition}:e${equipment}`;
}

/** The key of one changelog entry. */
export function changelogKey(groupId: string, entry: Pick<ChangelogEntry, 'partition' | 'equipment'>): string {
  return entry.equipment === undefined ? partitionKey(groupId, entry.partition) : equipmentKey(groupId, entry.partition, entry.equipment);
}

/** One partition's changelog as the state topic holds it: its own value, if any, and its equipment's values. */
export interface PartitionChangelog {
  partition: Buffer | undefined;
  equipment: Buffer[];
}

/** The partition a state-topic key belongs to, for `groupId`; -1 for another group's key or a malformed one. */
function partitionOfKey(groupId: string, key: string): number {
  if (!key.startsWith(groupId) || key.charCodeAt(groupId.length) !== 58 /* : */) return -1;
  const rest = key.slice(groupId.length + 1);
  const m = /^(\d+)(?::e\d+)?$/.exec(rest);
  return m === null ? -1 : Number(m[1]);
}

/**
 * Reads the state topic from the beginning up to its high watermarks (read_committed) and returns, per partition
 * asked for, the last value under its own key and under each of its equipment keys (tombstones are absent). A
 * partition with nothing written is absent from the map.
 */
export async function readChangelog(brokers: string, topic: string, groupId: string, partitions: Iterable<number>, timeoutMs = 30000): Promise<Map<number, PartitionChangelog>> {
  const wanted = new Set(partitions);
  const latest = new Map<string, { partition: number; value: Buffer | null }>();
  if (wanted.size === 0) return new Map();
  const consumer = new Kafka.KafkaConsumer(
    {
      'metadata.broker.list': brokers,
      'group.id': `lux-alarm-state-reader-${process.pid}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const deadline = Date.now() + timeoutMs;
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: timeoutMs }, (err) => (err ? reject(new LuxError('E_KAFKA', `cannot read the alarm state from '${topic}': ${err.message}`)) : resolve())),
  );
  try {
    const ends = await stateTopicEnds(consumer, topic, deadline);
    if (ends.size === 0) return new Map();
    consumer.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: -2 /* beginning */ })));
    consumer.setDefaultConsumeTimeout(200);
    const done = new Set<number>();
    while (done.size < ends.size) {
      if (Date.now() > deadline) throw new LuxError('E_KAFKA', `reading the alarm state from '${topic}' took longer than ${timeoutMs} ms`);
      const batch = await new Promise<Kafka.Message[]>((resolve, reject) => consumer.consume(500, (err, m) => (err ? reject(err) : resolve(m))));
      for (const m of batch) {
        const key = m.key?.toString();
        if (key !== undefined) {
          const partition = partitionOfKey(groupId, key);
          if (wanted.has(partition)) latest.set(key, { partition, value: m.value });
        }
        // read_committed stops at the last stable offset: transaction markers fill the gap up to the high watermark
        if (m.offset + 1 >= (ends.get(m.partition) ?? 0)) done.add(m.partition);
      }
      if (batch.length === 0) {
        // Only control records (commit markers) remain before the high watermark: nothing more to read there.
        const positions = consumer.position([...ends.keys()].map((partition) => ({ topic, partition })));
        for (const p of positions) if (p.offset !== undefined && p.offset >= (ends.get(p.partition) ?? 0) - 1) done.add(p.partition);
      }
    }
    const found = new Map<number, PartitionChangelog>();
    for (const [key, { partition, value }] of latest) {
      if (value === null || value === undefined) continue;
      let c = found.get(partition);
      if (c === undefined) {
        c = { partition: undefined, equipment: [] };
        found.set(partition, c);
      }
      if (key === partitionKey(groupId, partition)) c.partition = value;
      else c.equipment.push(value);
    }
    return found;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/**
 * The high watermark of every non-empty partition of the state topic. A topic just created may not have its metadata
 * or its partition leaders everywhere yet: each step is tried again until `deadline`, then the last error names it.
 */
async function stateTopicEnds(consumer: Kafka.KafkaConsumer, topic: string, deadline: number): Promise<Map<number, number>> {
  for (let attempt = 1; ; attempt++) {
    const left = Math.max(1000, deadline - Date.now());
    try {
      const md = await new Promise<Kafka.Metadata>((resolve, reject) =>
        consumer.getMetadata({ topic, timeout: left }, (err, d) => (err ? reject(err) : resolve(d))),
      );
      const topicPartitions = md.topics.find((t) => t.name === topic)?.partitions.map((p) => p.id) ?? [];
      if (topicPartitions.length === 0) throw new LuxError('E_KAFKA', `alarm state topic '${topic}' does not exist`);
      const ends = new Map<number, number>();
      for (const p of topicPartitions) {
        const w = await new Promise<Kafka.WatermarkOffsets>((resolve, reject) =>
          consumer.queryWatermarkOffsets(topic, p, left, (err, o) =>
            err ? reject(new LuxError('E_KAFKA', `alarm state topic '${topic}' partition ${p}: ${err.message}`)) : resolve(o),
          ),
        );
        if (w.highOffset > w.lowOffset) ends.set(p, w.highOffset);
      }
      return ends;
    } catch (err) {
      if (Date.now() + 250 * attempt > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}
