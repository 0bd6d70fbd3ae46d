// Which shard (partition of the partials topic) a (dimension, key) belongs to: FNV-1a 32 of the KPI's Kafka key `<dimension>:<key>`, modulo the shard count.
//
// Stable by construction: it depends on the key's text only, never on a process, a worker's interning or a Node
// version, so every instance and every restart sends a key's partials to the same shard, where one merger sees
// them all. Ids are hashed digit by digit without building their decimal string (the batch path allocates nothing).
import { DIMENSIONS, type Dimension } from './names.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/** FNV-1a over `bytes`, continuing from `h`. */
export function fnvBytes(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME) >>> 0;
  return h;
}

/** FNV-1a over the decimal digits of a u32, continuing from `h`. */
export function fnvDecimal(h: number, n: number): number {
  let p = 1;
  while (p * 10 <= n) p *= 10;
  for (; p >= 1; p /= 10) {
    const d = Math.floor(n / p) % 10;
    h = Math.imul(h ^ (48 + d), FNV_PRIME) >>> 0;
  }
  return h;
}

/** The hash state after `<dimension>:`, per dimension code. */
export const PREFIX_HASH: readonly number[] = DIMENSIONS.map((d) => fnvBytes(FNV_OFFSET, utf8.encode(`${d}:`)));

/** Hash of `<dimension>:<id>` for cell and equipment. */
export function hashOfId(dim: number, id: number): number {
  return fnvDecimal(PREFIX_HASH[dim], id);
}

/** Hash of `<dimension>:<text>` for region and vendor (allocates: once per distinct string). */
export function hashOfText(dim: number, text: string): number {
  return fnvBytes(PREFIX_HASH[dim], utf8.encode(text));
}

/** The shard of a KPI key, from its dimension name and key text (tools and tests). */
export function shardOfKey(dimension: Dimension, key: string, shards: number): number {
  return fnvBytes(FNV_OFFSET, utf8.encode(`${dimension}:${key}`)) % shards;
}
