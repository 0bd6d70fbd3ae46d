// The alarm window changelog in Kafka: the keys of a partition's values in the compacted state topic, and reading them back when the partition is assigned.
import type { KafkaConnection } from '../kafka/client.js';
import { readToEnd } from '../kafka/topic-reader.js';
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
export async function readChangelog(conn: KafkaConnection, topic: string, groupId: string, partitions: Iterable<number>, timeoutMs = 30000): Promise<Map<number, PartitionChangelog>> {
  const wanted = new Set(partitions);
  const latest = new Map<string, { partition: number; value: Buffer | null }>();
  if (wanted.size === 0) return new Map();
  await readToEnd(
    conn,
    topic,
    (m) => {
      const key = m.key?.toString();
      if (key === undefined) return;
      const partition = partitionOfKey(groupId, key);
      if (wanted.has(partition)) latest.set(key, { partition, value: m.value });
    },
    { timeoutMs, what: 'alarm state' },
  );
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
}
