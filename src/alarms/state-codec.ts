// The alarm window state as bytes: snapshots of input partitions (restore, tests) and the per-transaction changelog (one value per changed equipment and one per partition), and its reassembly into a snapshot.
//
// Snapshot layout (little endian), version 2:
//   u32 magic, u32 version, u32 partitions, then per partition u32 partition, f64 largest event time (-Infinity: none);
//   u32 rules, then per rule: str name, f64 window_ms, f64 slide_ms, f64 frontier (last evaluated window end, in
//   buckets; NaN before the first), u32 ring, u32 slots, then per slot u32 equipment, u32 partition, f64 newest
//   bucket, f64 open alarm's raise end (NaN: none), f64 last window decided for it, ring × u32 counts (bucket b at
//   b mod ring); u32 deferred, then per deferred event u32 equipment, u32 partition, f64 bucket, u32 count.
//
// The changelog (written by every transaction that changes a partition, into a compacted topic):
// - the partition's value, under `<group_id>:<partition>`: u32 magic "LXAP", u32 version 1, u32 partition, f64 its
//   largest event time, u32 rules, then per rule str name, f64 window_ms, f64 slide_ms, u32 ring, f64 frontier;
// - one value per equipment the partition owns, under `<group_id>:<partition>:e<equipment>`: u32 magic "LXAE",
//   u32 version 1, u32 partition, u32 equipment, u32 rules, then per rule str name, f64 window_ms, f64 slide_ms,
//   u32 ring, u32 has slot, [the slot as in a snapshot], u32 deferred, then per deferred event f64 bucket, u32 count;
//   a tombstone when the partition no longer owns anything of that equipment (evicted, or moved to another partition).
// Compaction keeps the last value of each key, which is the partition's state as of its last transaction; no value
// outgrows a Kafka message, however many equipment are active.

import { LuxError } from '../errors.js';
import type { RuleSet } from './rules.js';
import type { WatermarkTracker } from './watermark.js';
import type { WindowStore } from './windows.js';

/** What the codec reads of the alarm core (core.ts): its rules' window stores and its event-time marks. */
export interface AlarmStateHolder {
  readonly rules: RuleSet;
  readonly watermark: WatermarkTracker;
}

const MAGIC = 0x4c584153; // "LXAS"
const VERSION = 2;
const PARTITION_MAGIC = 0x4c584150; // "LXAP"
const EQUIPMENT_MAGIC = 0x4c584145; // "LXAE"
const CHANGELOG_VERSION = 1;
/** bytes of a slot record: equipment, partition, head, open, done (4 + 4 + 8 + 8 + 8), then the ring's counts */
const slotBytes = (ring: number): number => 32 + 4 * ring;

export class AlarmStateError extends LuxError {
  constructor(message: string) {
    super('E_INTERNAL', `alarm state: ${message}`);
    this.name = 'AlarmStateError';
  }
}

class ByteWriter {
  buf = Buffer.alloc(256);
  pos = 0;
  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = Buffer.alloc(size);
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }
  u32(v: number): void {
    this.need(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }
  /** Writes a u32 placeholder; returns its position for `patch`. */
  reserve(): number {
    this.u32(0);
    return this.pos - 4;
  }
  patch(at: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, at);
  }
  f64(v: number): void {
    this.need(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.bytes(b);
  }
  bytes(b: Uint8Array): void {
    this.need(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class ByteReader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new AlarmStateError(`truncated at byte ${this.pos} (needs ${n} more of ${this.buf.length})`);
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  str(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
}

/** The state of one input partition, as a snapshot. */
export interface PartitionState {
  readonly partition: number;
  readonly state: Buffer;
}

/** A snapshot's head: magic, version, the partitions' event-time marks, and the number of rules that follow. */
function writeSnapshotHeader(w: ByteWriter, marks: ReadonlyArray<readonly [number, number]>, rules: number): void {
  w.u32(MAGIC);
  w.u32(VERSION);
  w.u32(marks.length);
  for (const [p, t] of marks) {
    w.u32(p);
    w.f64(t);
  }
  w.u32(rules);
}

function writeSlot(w: ByteWriter, st: WindowStore, s: number): void {
  w.u32(st.keys[s]);
  w.u32(st.part[s]);
  w.f64(st.head[s]);
  w.f64(st.open[s]);
  w.f64(st.done[s]);
  for (let j = 0; j < st.ring; j++) w.u32(st.counts[s * st.ring + j]);
}

/**
 * Encodes one snapshot per group of partitions (every partition, as one snapshot, when `groups` is null), in one pass
 * over the slots.
 */
function encode(core: AlarmStateHolder, groups: readonly (readonly number[])[] | null): Buffer[] {
  const writers = groups === null ? [new ByteWriter()] : groups.map(() => new ByteWriter());
  // writer index by partition (-1: not wanted); null: everything goes to writer 0
  let route: Int32Array | null = null;
  if (groups !== null) {
    let size = 0;
    for (const g of groups) for (const p of g) if (p + 1 > size) size = p + 1;
    route = new Int32Array(size).fill(-1);
    groups.forEach((g, i) => {
      for (const p of g) route![p] = i;
    });
  }
  const to = (p: number): number => (route === null ? 0 : p < route.length ? route[p] : -1);
  const wm = core.watermark;
  writers.forEach((w, i) => {
    const marks: Array<[number, number]> =
      groups === null ? wm.exportState().partitions : [...new Set(groups[i])].map((p) => [p, wm.maxTimeOf(p)]);
    writeSnapshotHeader(w, marks, core.rules.rules.length);
  });
  const counts = new Uint32Array(writers.length);
  const at = new Array<number>(writers.length);
  for (const rule of core.rules.rules) {
    const st = rule.store;
    writers.forEach((w, i) => {
      w.str(rule.spec.name);
      w.f64(st.windowMs);
      w.f64(st.slideMs);
      w.f64(st.lastBucket);
      w.u32(st.ring);
      at[i] = w.reserve();
    });
    counts.fill(0);
    for (let s = 0; s < st.highWater; s++) {
      if (st.used[s] === 0) continue;
      const i = to(st.part[s]);
      if (i < 0) continue;
      writeSlot(writers[i], st, s);
      counts[i]++;
    }
    writers.forEach((w, i) => {
      w.patch(at[i], counts[i]);
      at[i] = w.reserve();
    });
    counts.fill(0);
    const d = st.exportDeferred();
    for (let k = 0; k < d.eq.length; k++) {
      const i = to(d.part[k]);
      if (i < 0) continue;
      const w = writers[i];
      w.u32(d.eq[k]);
      w.u32(d.part[k]);
      w.f64(d.bucket[k]);
      w.u32(d.n[k]);
      counts[i]++;
    }
    writers.forEach((w, i) => w.patch(at[i], counts[i]));
  }
  return writers.map((w) => w.done());
}

/**
 * Serializes the state of the given input partitions as one snapshot (of every partition when omitted): their
 * event-time maxima, and per rule its frontier and the active equipment and deferred events those partitions own.
 */
export function snapshotState(core: AlarmStateHolder, partitions?: readonly number[]): Buffer {
  return encode(core, partitions === undefined ? null : [partitions])[0];
}

/** One snapshot per partition, in one pass. A partition that owns nothing still gets a (small, empty) snapshot. */
export function snapshotPartitions(core: AlarmStateHolder, partitions: readonly number[]): PartitionState[] {
  const unique = [...new Set(partitions)];
  const states = encode(core, unique.map((p) => [p]));
  return unique.map((partition, i) => ({ partition, state: states[i] }));
}

export interface ParsedRule {
  name: string;
  windowMs: number;
  slideMs: number;
  lastBucket: number;
  ring: number;
  slots: number;
  /** byte offset of the first slot */
  slotsAt: number;
  deferred: number;
  deferredAt: number;
}

export interface ParsedSnapshot {
  buf: Buffer;
  watermarks: Array<[number, number]>;
  rules: ParsedRule[];
}

function asBuffer(b: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads a snapshot's headers and finds its sections (slots are fixed-size records, skipped over). */
export function parseSnapshot(snapshot: Buffer | Uint8Array): ParsedSnapshot {
  const buf = asBuffer(snapshot);
  const r = new ByteReader(buf);
  if (r.u32() !== MAGIC) throw new AlarmStateError('bad magic (not an LXAS alarm snapshot)');
  const version = r.u32();
  if (version !== VERSION) throw new AlarmStateError(`unsupported snapshot version ${version} (this build reads ${VERSION})`);
  const np = r.u32();
  const watermarks: Array<[number, number]> = [];
  for (let i = 0; i < np; i++) {
    const p = r.u32();
    if (p > 65535) throw new AlarmStateError(`partition ${p} at byte ${r.pos - 4} is outside 0..65535`);
    watermarks.push([p, r.f64()]);
  }
  const rules: ParsedRule[] = [];
  const nr = r.u32();
  for (let i = 0; i < nr; i++) {
    const name = r.str();
    const windowMs = r.f64();
    const slideMs = r.f64();
    const lastBucket = r.f64();
    const ring = r.u32();
    const slots = r.u32();
    const slotsAt = r.pos;
    r.skip(slots * slotBytes(ring));
    const deferred = r.u32();
    const deferredAt = r.pos;
    r.skip(deferred * 20);
    rules.push({ name, windowMs, slideMs, lastBucket, ring, slots, slotsAt, deferred, deferredAt });
  }
  return { buf, watermarks, rules };
}

// ── the changelog

/** One changelog value: a partition's (`equipment` undefined) or one equipment's of a partition; null is a tombstone. */
export interface ChangelogEntry {
  partition: number;
  equipment: number | undefined;
  state: Buffer | null;
}

/** The partition's value: its largest event time and every rule's frontier. */
export function encodePartitionValue(core: AlarmStateHolder, partition: number): Buffer {
  const w = new ByteWriter();
  w.u32(PARTITION_MAGIC);
  w.u32(CHANGELOG_VERSION);
  w.u32(partition);
  w.f64(core.watermark.maxTimeOf(partition));
  w.u32(core.rules.rules.length);
  for (const rule of core.rules.rules) {
    w.str(rule.spec.name);
    w.f64(rule.store.windowMs);
    w.f64(rule.store.slideMs);
    w.u32(rule.store.ring);
    w.f64(rule.store.lastBucket);
  }
  return w.done();
}

/** Deferred events of each equipment, per rule, as indexes into the rule's exported list (built once a transaction). */
export type DeferredIndex = Array<{ list: ReturnType<WindowStore['exportDeferred']>; byEquipment: Map<number, number[]> }>;

export function indexDeferred(core: AlarmStateHolder): DeferredIndex {
  return core.rules.rules.map((rule) => {
    const list = rule.store.exportDeferred();
    const byEquipment = new Map<number, number[]>();
    for (let k = 0; k < list.eq.length; k++) {
      const a = byEquipment.get(list.eq[k]);
      if (a === undefined) byEquipment.set(list.eq[k], [k]);
      else a.push(k);
    }
    return { list, byEquipment };
  });
}

/**
 * The value of `equipment` in `partition`: per rule, its slot if the partition owns it and its deferred events read
 * from the partition; null (a tombstone) when the partition holds nothing of it.
 */
export function encodeEquipmentValue(core: AlarmStateHolder, partition: number, equipment: number, deferred: DeferredIndex): Buffer | null {
  const w = new ByteWriter();
  w.u32(EQUIPMENT_MAGIC);
  w.u32(CHANGELOG_VERSION);
  w.u32(partition);
  w.u32(equipment);
  const rulesAt = w.reserve();
  let rules = 0;
  core.rules.rules.forEach((rule, i) => {
    const st = rule.store;
    const s = st.find(equipment);
    const slot = s >= 0 && st.part[s] === partition ? s : -1;
    const d = deferred[i];
    const mine = (d.byEquipment.get(equipment) ?? []).filter((k) => d.list.part[k] === partition);
    if (slot < 0 && mine.length === 0) return;
    rules++;
    w.str(rule.spec.name);
    w.f64(st.windowMs);
    w.f64(st.slideMs);
    w.u32(st.ring);
    w.u32(slot < 0 ? 0 : 1);
    if (slot >= 0) writeSlot(w, st, slot);
    w.u32(mine.length);
    for (const k of mine) {
      w.f64(d.list.bucket[k]);
      w.u32(d.list.n[k]);
    }
  });
  if (rules === 0) return null;
  w.patch(rulesAt, rules);
  return w.done();
}

/**
 * One partition's snapshot from its changelog values: the partition's value (its event-time mark and frontiers) and
 * its equipment values. An equipment value of a rule whose window, slide or ring differ from the partition's value
 * (written under another configuration) is left out; so is a rule the partition's value does not list. Without a
 * partition's value, the frontiers are unknown (NaN) and the rules those of the equipment values.
 */
export function assembleSnapshot(partition: number, partitionValue: Buffer | undefined, equipmentValues: readonly Buffer[]): Buffer {
  interface Rule { windowMs: number; slideMs: number; ring: number; frontier: number; slots: Buffer[]; deferred: Buffer[] }
  const rules = new Map<string, Rule>();
  let mark = -Infinity;
  if (partitionValue !== undefined) {
    const r = new ByteReader(partitionValue);
    if (r.u32() !== PARTITION_MAGIC) throw new AlarmStateError(`partition ${partition}: bad magic in its changelog value`);
    const version = r.u32();
    if (version !== CHANGELOG_VERSION) throw new AlarmStateError(`partition ${partition}: unsupported changelog version ${version}`);
    const p = r.u32();
    if (p !== partition) throw new AlarmStateError(`partition ${partition}: its changelog value names partition ${p}`);
    mark = r.f64();
    for (let i = 0, n = r.u32(); i < n; i++) {
      const name = r.str();
      rules.set(name, { windowMs: r.f64(), slideMs: r.f64(), ring: r.u32(), frontier: r.f64(), slots: [], deferred: [] });
    }
  }
  for (const value of equipmentValues) {
    const r = new ByteReader(value);
    if (r.u32() !== EQUIPMENT_MAGIC) throw new AlarmStateError(`partition ${partition}: bad magic in an equipment value`);
    const version = r.u32();
    if (version !== CHANGELOG_VERSION) throw new AlarmStateError(`partition ${partition}: unsupported changelog version ${version}`);
    const p = r.u32();
    const eq = r.u32();
    if (p !== partition) throw new AlarmStateError(`partition ${partition}: the value of equipment ${eq} names partition ${p}`);
    for (let i = 0, n = r.u32(); i < n; i++) {
      const name = r.str();
      const windowMs = r.f64();
      const slideMs = r.f64();
      const ring = r.u32();
      let rule = rules.get(name);
      if (rule === undefined && partitionValue === undefined) {
        rule = { windowMs, slideMs, ring, frontier: NaN, slots: [], deferred: [] };
        rules.set(name, rule);
      }
      const fits = rule !== undefined && rule.windowMs === windowMs && rule.slideMs === slideMs && rule.ring === ring;
      if (r.u32() === 1) {
        const at = r.pos;
        r.skip(slotBytes(ring));
        if (fits) rule!.slots.push(value.subarray(at, at + slotBytes(ring)));
      }
      for (let k = 0, nd = r.u32(); k < nd; k++) {
        const bucket = r.f64();
        const count = r.u32();
        if (!fits) continue;
        const d = Buffer.alloc(20);
        d.writeUInt32LE(eq, 0);
        d.writeUInt32LE(partition, 4);
        d.writeDoubleLE(bucket, 8);
        d.writeUInt32LE(count, 16);
        rule!.deferred.push(d);
      }
    }
  }
  const w = new ByteWriter();
  writeSnapshotHeader(w, [[partition, mark]], rules.size);
  for (const [name, rule] of rules) {
    w.str(name);
    w.f64(rule.windowMs);
    w.f64(rule.slideMs);
    w.f64(rule.frontier);
    w.u32(rule.ring);
    w.u32(rule.slots.length);
    for (const b of rule.slots) w.bytes(b);
    w.u32(rule.deferred.length);
    for (const b of rule.deferred) w.bytes(b);
  }
  return w.done();
}
