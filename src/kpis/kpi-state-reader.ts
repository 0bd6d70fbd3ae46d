// Reading the KPI merge's committed state back when shards are assigned: the last value of each of their keys in the compacted state topic.
import type { KafkaConnection } from '../kafka/client.js';
import { readToEnd } from '../kafka/topic-reader.js';

/** The shard a relative state key belongs to (`s<shard>` or `s<shard>:a:...`), or -1. */
export function shardOfStateKey(relative: string): number {
  const m = /^s(\d+)(?::|$)/.exec(relative);
  return m === null ? -1 : Number(m[1]);
}

/**
 * Reads the state topic from its beginning to its end (read_committed) and returns, per shard asked for, the last
 * value of each of its keys under `prefix` (tombstones and other groups' keys left out).
 */
export async function readKpiState(conn: KafkaConnection, topic: string, prefix: string, shards: readonly number[], timeoutMs: number): Promise<Map<number, Uint8Array[]>> {
  const wanted = new Set(shards);
  const latest = new Map<string, { shard: number; value: Buffer | null }>();
  if (wanted.size > 0) {
    await readToEnd(
      conn,
      topic,
      (m) => {
        const key = m.key?.toString();
        if (key === undefined || !key.startsWith(prefix)) return;
        const shard = shardOfStateKey(key.slice(prefix.length));
        if (wanted.has(shard)) latest.set(key, { shard, value: m.value ?? null });
      },
      { timeoutMs, what: 'KPI state' },
    );
  }
  const out = new Map<number, Uint8Array[]>();
  for (const { shard, value } of latest.values()) {
    if (value === null) continue;
    let list = out.get(shard);
    if (list === undefined) out.set(shard, (list = []));
    list.push(value);
  }
  return out;
}
