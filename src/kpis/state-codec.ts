// The merge's compacted state as bytes: one value per shard (frontier, raw partitions' marks, late-counted offset) and one per open KPI alarm, under keys relative to the caller's prefix.
//
// shard value, key `s<shard>`:
//   "LXKS", u8 version 1, varint shard, varint window_ms, u8 flags (1: a window was closed),
//   [varint closed_through_ms: the end of the last window closed, epoch ms],
//   varint late_counted_through + 1 (0: none; the partials offset through which late records were counted),
//   varint raw partitions, varint marks, each varint partition, u8 flags (1 idle, 2 has a time), [varint time]
// open alarm, key `s<shard>:a:<rule>:<dimension>:<key>` (a tombstone once it clears):
//   "LXKA", u8 version 1, varint shard, string rule, u8 dimension, string key, varint raise window end (epoch ms)
//
// The frontier is kept as a time, not a window index, so a restart with another kpis.window_ms still knows which
// windows were emitted. Window aggregates are not state: the partials offsets committed with these values point at
// the first message any open window needs, and reading on from there rebuilds them.
import { ByteReader, ByteWriter, writeHeader } from './leb128.js';
import { KpiFormatError, type KpiBytesOrigin } from './errors.js';
import { DIMENSIONS, DIM_COUNT, type Dimension } from './names.js';
import type { PartitionMark } from './partials-codec.js';

const SHARD_MAGIC = 0x4c584b53; // "LXKS"
const ALARM_MAGIC = 0x4c584b41; // "LXKA"
const STATE_VERSION = 1;
const HAS_FRONTIER = 1;
const MARK_IDLE = 1;
const MARK_TIME = 2;

/** A shard's merge position. */
export interface ShardState {
  shard: number;
  windowMs: number;
  /** end (epoch ms) of the last window closed; -Infinity before the first */
  closedThroughMs: number;
  /** partials offset through which late records were counted; -1 none */
  lateCountedThrough: number;
  rawPartitions: number;
  marks: PartitionMark[];
}

/** An open KPI alarm of a shard's key. */
export interface OpenKpiAlarm {
  rule: string;
  dimension: Dimension;
  key: string;
  /** window end (epoch ms) of its raise: its alarm_id's last part */
  raiseEndMs: number;
}

export function shardStateKey(shard: number): string {
  return `s${shard}`;
}

/** The state key of an open alarm, relative to the prefix (also the core's map key). */
export function alarmStateKey(shard: number, a: Pick<OpenKpiAlarm, 'rule' | 'dimension' | 'key'>): string {
  return `s${shard}:a:${a.rule}:${a.dimension}:${a.key}`;
}

export function encodeShardState(s: ShardState): Buffer {
  const w = new ByteWriter(64 + s.marks.length * 12);
  writeHeader(w, SHARD_MAGIC, STATE_VERSION);
  w.uint(s.shard);
  w.uint(s.windowMs);
  const has = s.closedThroughMs > -Infinity;
  w.u8(has ? HAS_FRONTIER : 0);
  if (has) w.uint(s.closedThroughMs);
  w.uint(s.lateCountedThrough + 1);
  w.uint(s.rawPartitions);
  w.uint(s.marks.length);
  for (const m of s.marks) {
    const hasTime = m.timeMs > -Infinity;
    w.uint(m.partition);
    w.u8((m.idle ? MARK_IDLE : 0) | (hasTime ? MARK_TIME : 0));
    if (hasTime) w.uint(m.timeMs);
  }
  return Buffer.from(w.buf.buffer, 0, w.pos);
}

export function encodeAlarmState(shard: number, a: OpenKpiAlarm): Buffer {
  const w = new ByteWriter(64 + a.rule.length + a.key.length * 3);
  writeHeader(w, ALARM_MAGIC, STATE_VERSION);
  w.uint(shard);
  w.text(a.rule);
  w.u8(DIMENSIONS.indexOf(a.dimension));
  w.text(a.key);
  w.uint(a.raiseEndMs);
  return Buffer.from(w.buf.buffer, 0, w.pos);
}

export type StateValue = ({ kind: 'shard' } & ShardState) | ({ kind: 'alarm'; shard: number } & OpenKpiAlarm);

/** Reads one value of the state topic; `origin` names it in errors (its key, its offset). */
export function decodeStateValue(bytes: Uint8Array, origin: KpiBytesOrigin = { what: 'KPI state value' }): StateValue {
  const r = new ByteReader(bytes, origin);
  if (bytes.length < 4) r.fail('truncated', 'truncated: shorter than a magic');
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  if (magic === SHARD_MAGIC) {
    r.header(SHARD_MAGIC, STATE_VERSION, 'KPI shard state');
    const shard = r.uint('shard');
    const windowMs = r.uint('window_ms');
    if (windowMs < 1) r.fail('bad_value', 'window_ms 0');
    const flags = r.u8('flags');
    if (flags > HAS_FRONTIER) r.fail('bad_value', `unknown flags ${flags}`);
    const closedThroughMs = flags & HAS_FRONTIER ? r.uint('closed_through_ms') : -Infinity;
    const lateCountedThrough = r.uint('late_counted_through') - 1;
    const rawPartitions = r.uintMax('raw partitions', 0x10000);
    const marks: PartitionMark[] = [];
    for (let i = 0, n = r.uintMax('mark count', r.remaining); i < n; i++) {
      const partition = r.uintMax('partition', 0xffff);
      const mf = r.u8('mark flags');
      if (mf > (MARK_IDLE | MARK_TIME)) r.fail('bad_value', `mark ${i}: unknown flags ${mf}`);
      marks.push({ partition, timeMs: mf & MARK_TIME ? r.uint('time') : -Infinity, idle: (mf & MARK_IDLE) !== 0 });
    }
    r.done('KPI shard state');
    return { kind: 'shard', shard, windowMs, closedThroughMs, lateCountedThrough, rawPartitions, marks };
  }
  if (magic === ALARM_MAGIC) {
    r.header(ALARM_MAGIC, STATE_VERSION, 'KPI alarm state');
    const shard = r.uint('shard');
    const rule = r.text('rule');
    const dim = r.u8('dimension');
    if (dim >= DIM_COUNT) r.fail('bad_value', `dimension ${dim} is not 0..3`);
    const key = r.text('key');
    const raiseEndMs = r.uint('raise window end');
    r.done('KPI alarm state');
    return { kind: 'alarm', shard, rule, dimension: DIMENSIONS[dim], key, raiseEndMs };
  }
  throw new KpiFormatError(origin, 'bad_magic', 'bad magic (neither a KPI shard state nor a KPI alarm state)');
}
