// The alarm thread: a worker_threads Worker that polls the feed rings, counts failures into windows, advances the watermark and posts alarms; plus its per-partition state snapshots and the main-thread AlarmEngine.
//
// The thread decides episodes (raised/cleared); the main thread, where the reference snapshot lives, applies the
// maintenance lookup (suppressed) and the equipment object when it turns decisions into alarm JSON. Alarms travel
// as one message per evaluation pass, never one per record.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { LuxError } from '../errors.js';
import { distModule } from '../paths.js';
import { alarmJson, NO_EQUIPMENT, type AlarmJson, type EquipmentProvider } from './alarm-json.js';
import {
  createChannel,
  createSignal,
  E_EQUIPMENT,
  E_PARTITION_FLAGS,
  ENTRY_WORDS,
  entryTime,
  FEED_DEFAULTS,
  FeedReader,
  FLAG_FAILURE,
  FLAG_PROGRESS,
  type FeedChannel,
} from './feed.js';
import { NO_MAINTENANCE, RuleSet, type AlarmEvent, type MaintenanceLookup, type RuleOptions, type RuleSpec } from './rules.js';
import { WATERMARK_DEFAULTS, WatermarkTracker } from './watermark.js';

export const ALARM_THREAD_DEFAULTS = {
  /** how long the idle thread sleeps between polls when no flush wakes it */
  pollMs: 50,
  /** entries popped from one ring per poll */
  pollEntries: 16 * 1024,
} as const;

export class AlarmStateError extends LuxError {
  constructor(message: string) {
    super('E_INTERNAL', `alarm state snapshot: ${message}`);
    this.name = 'AlarmStateError';
  }
}

/** Counters of the alarm core (thread side). */
export interface AlarmCoreCounters {
  records: number;
  failures: number;
  lateDropped: number;
  lateCounted: number;
  deferred: number;
  fullDropped: number;
  openAlarms: number;
  activeEquipment: number;
  watermarkMs: number;
}

/** The thread's logic without the thread: rings in, decisions out. Usable directly in tests and benchmarks. */
export class AlarmCore {
  readonly rules: RuleSet;
  readonly watermark: WatermarkTracker;
  readonly readers: FeedReader[] = [];
  private readonly buf: Uint32Array;
  /** 1 for partitions forgotten (revoked) and not assigned again: their late entries are dropped, not counted */
  private closed = new Uint8Array(0);
  records = 0;
  failures = 0;
  /** entries of forgotten partitions that still arrived (dropped: the partition's next owner counts them) */
  closedDropped = 0;

  constructor(specs: readonly RuleSpec[], idleTimeoutMs: number = WATERMARK_DEFAULTS.idleTimeoutMs, options: RuleOptions = {}) {
    this.rules = new RuleSet(specs, NO_MAINTENANCE, options);
    this.watermark = new WatermarkTracker(idleTimeoutMs);
    this.buf = new Uint32Array(ALARM_THREAD_DEFAULTS.pollEntries * ENTRY_WORDS);
  }

  attach(channel: FeedChannel): void {
    this.readers.push(new FeedReader(channel));
  }

  /** Input partitions assigned: each holds the watermark until it sends or idles out, and its entries count again. */
  assign(partitions: readonly number[], nowMs: number): void {
    this.admit(partitions);
    this.watermark.assign(partitions, nowMs);
  }

  /** Lets entries of `partitions` count again (after `forget`); restoreState calls it for what it restores. */
  admit(partitions: readonly number[]): void {
    for (const p of partitions) if (p < this.closed.length) this.closed[p] = 0;
  }

  /**
   * Drops the state of revoked partitions: the equipment they own (open alarms included), their deferred events and
   * their watermarks; later entries from them are dropped until they are assigned again. Call it once their last
   * snapshot is taken, so a later assignment restores that snapshot into nothing and counts nothing twice.
   * Returns the slots released.
   */
  forget(partitions: readonly number[]): number {
    if (partitions.length === 0) return 0;
    let size = this.closed.length;
    for (const p of partitions) if (p + 1 > size) size = p + 1;
    if (size > this.closed.length) {
      const c = new Uint8Array(size);
      c.set(this.closed);
      this.closed = c;
    }
    for (const p of partitions) this.closed[p] = 1;
    let released = 0;
    for (const rule of this.rules.rules) released += rule.store.forget(this.closed);
    this.watermark.revoke(partitions);
    return released;
  }

  /** Pops every ring until empty; returns the entries consumed. */
  drain(nowMs: number): number {
    let total = 0;
    for (let r = 0; r < this.readers.length; r++) {
      const reader = this.readers[r];
      for (;;) {
        const n = reader.poll(this.buf);
        if (n === 0) break;
        this.consume(this.buf, n, nowMs);
        total += n;
      }
    }
    return total;
  }

  /** Applies `n` polled entries. The per-entry path allocates nothing. */
  consume(buf: Uint32Array, n: number, nowMs: number): void {
    const wm = this.watermark;
    const rules = this.rules;
    const closed = this.closed;
    for (let i = 0; i < n; i++) {
      const w = i * ENTRY_WORDS;
      const pf = buf[w + E_PARTITION_FLAGS];
      const p = pf & 0xffff;
      if (closed[p] === 1) {
        this.closedDropped++;
        continue;
      }
      const t = entryTime(buf, i);
      wm.observe(p, t, nowMs);
      const flags = pf >>> 16;
      if ((flags & FLAG_PROGRESS) !== 0) {
        this.records += buf[w + E_EQUIPMENT];
        continue;
      }
      this.records++;
      if ((flags & FLAG_FAILURE) !== 0) {
        this.failures++;
        rules.addFailure(buf[w + E_EQUIPMENT], t, p);
      }
    }
  }

  /** Evaluates every window the watermark has passed. */
  advance(nowMs: number, out: AlarmEvent[] = []): AlarmEvent[] {
    return this.rules.advance(this.watermark.watermark(nowMs), out);
  }

  counters(nowMs: number): AlarmCoreCounters {
    let lateDropped = 0;
    let lateCounted = 0;
    let deferred = 0;
    let fullDropped = 0;
    let active = 0;
    for (const r of this.rules.rules) {
      lateDropped += r.store.lateDropped;
      lateCounted += r.store.lateCounted;
      deferred += r.store.deferredCount;
      fullDropped += r.store.fullDropped;
      active += r.store.active;
    }
    return {
      records: this.records,
      failures: this.failures,
      lateDropped,
      lateCounted,
      deferred,
      fullDropped,
      openAlarms: this.rules.openAlarms(),
      activeEquipment: active,
      watermarkMs: this.watermark.watermark(nowMs),
    };
  }
}

// ── snapshot: the window state as bytes, for a compacted changelog topic
//
// A snapshot covers a set of input partitions: their watermark entries, and per rule the slots and deferred events
// those partitions own (windows.ts: the partition of an equipment's latest failure). The checkpoint writes one per
// partition, so a partition's state can follow it to whichever instance is assigned it next. Layout (little endian):
//   u32 magic, u32 version, u32 partitions, then per partition u32 partition, f64 largest event time (-Infinity: none);
//   u32 rules, then per rule: str name, f64 window_ms, f64 slide_ms, f64 frontier (last evaluated window end, in
//   buckets; NaN before the first), u32 ring, u32 slots, then per slot u32 equipment, u32 partition, f64 newest bucket,
//   f64 open alarm's raise end (NaN: none), f64 last window decided for it, ring × u32 counts (bucket b at b mod ring);
//   u32 deferred, then per deferred event u32 equipment, u32 partition, f64 bucket, u32 count.

const MAGIC = 0x4c584153; // "LXAS"
const VERSION = 2;

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
    this.need(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

class ByteReader {
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

/** The state of one input partition, as checkpointed. */
export interface PartitionState {
  readonly partition: number;
  readonly state: Buffer;
}

/**
 * Encodes one snapshot per group of partitions (every partition, as one snapshot, when `groups` is null), in one pass
 * over the slots. Drain the rings first for a consistent cut.
 */
function encode(core: AlarmCore, groups: readonly (readonly number[])[] | null): Buffer[] {
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
      groups === null
        ? wm.exportState().partitions
        : [...new Set(groups[i])].map((p) => [p, p < wm.known.length && wm.known[p] === 1 ? wm.maxTime[p] : -Infinity]);
    w.u32(MAGIC);
    w.u32(VERSION);
    w.u32(marks.length);
    for (const [p, t] of marks) {
      w.u32(p);
      w.f64(t);
    }
    w.u32(core.rules.rules.length);
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
      const w = writers[i];
      w.u32(st.keys[s]);
      w.u32(st.part[s]);
      w.f64(st.head[s]);
      w.f64(st.open[s]);
      w.f64(st.done[s]);
      for (let j = 0; j < st.ring; j++) w.u32(st.counts[s * st.ring + j]);
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
export function snapshotState(core: AlarmCore, partitions?: readonly number[]): Buffer {
  return encode(core, partitions === undefined ? null : [partitions])[0];
}

/**
 * One snapshot per partition, in one pass: what the checkpoint writes under `<group>:<partition>`. A partition that
 * owns nothing still gets a (small, empty) snapshot, so a stale one is overwritten.
 */
export function snapshotPartitions(core: AlarmCore, partitions: readonly number[]): PartitionState[] {
  const unique = [...new Set(partitions)];
  const states = encode(core, unique.map((p) => [p]));
  return unique.map((partition, i) => ({ partition, state: states[i] }));
}

interface ParsedRule {
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

interface ParsedSnapshot {
  buf: Buffer;
  watermarks: Array<[number, number]>;
  rules: ParsedRule[];
}

/** Reads a snapshot's headers and finds its sections (slots are fixed-size records, skipped over). */
function parseSnapshot(snapshot: Buffer | Uint8Array): ParsedSnapshot {
  const buf = Buffer.isBuffer(snapshot) ? snapshot : Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  const r = new ByteReader(buf);
  if (r.u32() !== MAGIC) throw new AlarmStateError('bad magic (not an LXAS alarm snapshot)');
  const version = r.u32();
  if (version !== VERSION) throw new AlarmStateError(`unsupported version ${version} (this build reads ${VERSION})`);
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
    r.skip(slots * (32 + 4 * ring));
    const deferred = r.u32();
    const deferredAt = r.pos;
    r.skip(deferred * 20);
    rules.push({ name, windowMs, slideMs, lastBucket, ring, slots, slotsAt, deferred, deferredAt });
  }
  return { buf, watermarks, rules };
}

/**
 * Merges snapshots into a core, fresh or running (the state of newly assigned partitions): their partitions'
 * event-time maxima, and per rule their equipment and deferred events. Rules are matched by name; a rule whose
 * window_ms or slide_ms changed since the snapshot is skipped (its old buckets would mean something else).
 *
 * The frontier: a rule that has none yet takes the oldest restored one, so nothing restored is late; its restored
 * slots remember the frontier of their own snapshot and are not decided again for windows it had already evaluated
 * (no second raise). A rule that already has a frontier keeps it: restored buckets it has moved past are late
 * (counted in lateDropped), restored open alarms stay open and clear normally. Restore each partition once, after
 * `forget` (or at start): the counts add up, they are never replaced. Returns the rules restored.
 */
export function restoreState(core: AlarmCore, snapshots: Buffer | Uint8Array | readonly (Buffer | Uint8Array)[], nowMs: number = Date.now()): string[] {
  const list = Array.isArray(snapshots) ? (snapshots as readonly (Buffer | Uint8Array)[]) : [snapshots as Buffer | Uint8Array];
  const parsed = list.map(parseSnapshot);
  const stores = core.rules.rules.map((rule) => rule.store);
  const match = (pr: ParsedRule) => {
    const i = core.rules.rules.findIndex((x) => x.spec.name === pr.name);
    const st = i < 0 ? undefined : stores[i];
    return st !== undefined && st.windowMs === pr.windowMs && st.slideMs === pr.slideMs ? st : undefined;
  };
  // the frontier first: rules without one take the oldest restored frontier
  for (const st of stores) {
    let min = NaN;
    for (const p of parsed) {
      for (const pr of p.rules) {
        if (match(pr) === st && pr.lastBucket === pr.lastBucket && !(pr.lastBucket >= min)) min = pr.lastBucket;
      }
    }
    st.adoptFrontier(min);
  }
  const restored = new Set<string>();
  for (const p of parsed) {
    core.admit(p.watermarks.map(([partition]) => partition));
    core.watermark.importState({ partitions: p.watermarks, floor: -Infinity }, nowMs);
    const r = new ByteReader(p.buf);
    for (const pr of p.rules) {
      const st = match(pr);
      if (st === undefined) continue;
      restored.add(pr.name);
      const ring = pr.ring;
      const counts = new Uint32Array(ring);
      const lowSnap = pr.lastBucket - st.k + 1; // NaN before the snapshot's first evaluation: nothing is spent
      r.pos = pr.slotsAt;
      for (let a = 0; a < pr.slots; a++) {
        const eq = r.u32();
        const part = r.u32();
        const head = r.f64();
        const open = r.f64();
        const done = Math.max(r.f64(), pr.lastBucket === pr.lastBucket ? pr.lastBucket : -Infinity);
        for (let j = 0; j < ring; j++) counts[j] = r.u32();
        const existed = st.find(eq) >= 0;
        for (let b = head - ring + 1; b <= head; b++) {
          const n = counts[((b % ring) + ring) % ring];
          // buckets below the snapshot's own frontier window are spent; the rest count (or are late here)
          if (n > 0 && !(b < lowSnap)) st.addBucket(eq, b, n, part);
        }
        const last = st.lastBucket;
        if (last !== last || (open !== open && !(done > last))) continue;
        // the slot must exist to hold an open alarm, or the windows its snapshot had already decided
        let s = st.find(eq);
        if (s < 0) {
          s = st.slotFor(eq, head < last ? head : last);
          if (s < 0) continue;
          st.part[s] = part;
        }
        if (open === open && st.open[s] !== st.open[s]) st.open[s] = open;
        if (!existed && done > st.done[s]) st.done[s] = done;
      }
      r.pos = pr.deferredAt;
      for (let d = 0; d < pr.deferred; d++) {
        const eq = r.u32();
        const part = r.u32();
        const b = r.f64();
        st.addBucket(eq, b, r.u32(), part);
      }
    }
  }
  return [...restored];
}

// ── the worker entry

/** workerData of the alarm thread. */
interface AlarmThreadData {
  readonly kind: 'lux-alarm-thread';
  readonly rules: readonly RuleSpec[];
  readonly idleTimeoutMs: number;
  readonly pollMs: number;
  readonly ruleOptions: RuleOptions;
  readonly signal: SharedArrayBuffer;
  readonly channels: readonly FeedChannel[];
  readonly restore: readonly Uint8Array[];
  readonly assigned: readonly number[];
}

type ToThread =
  | { type: 'ring'; channel: FeedChannel }
  | { type: 'assign'; partitions: number[] }
  | { type: 'revoke'; partitions: number[] }
  | { type: 'flush'; id: number }
  /** partitions null: one snapshot of everything; else one per partition, then `leaving` forgotten in the same turn */
  | { type: 'snapshot'; id: number; partitions: number[] | null; leaving: number[] }
  | { type: 'restore'; id: number; states: Uint8Array[] }
  | { type: 'forget'; id: number; partitions: number[] }
  | { type: 'stop' };

type FromThread =
  | { type: 'ready'; restored: string[] }
  | { type: 'alarms'; events: AlarmEvent[] }
  | { type: 'counters'; counters: AlarmCoreCounters }
  | { type: 'flushed'; id: number; counters: AlarmCoreCounters }
  | { type: 'snapshot'; id: number; states: Array<{ partition: number; state: Uint8Array }> }
  | { type: 'restored'; id: number; rules: string[] }
  | { type: 'forgotten'; id: number; released: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'stopped' };

/** Atomics.waitAsync (Node >= 16), typed here because the project's lib is ES2023. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, t: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

async function runThread(data: AlarmThreadData): Promise<void> {
  const port = parentPort!;
  const core = new AlarmCore(data.rules, data.idleTimeoutMs, data.ruleOptions);
  const restored = data.restore.length === 0 ? [] : restoreState(core, data.restore);
  for (const ch of data.channels) core.attach(ch);
  core.assign(data.assigned, Date.now());
  const signal = new Int32Array(data.signal);
  let stopping = false;
  let lastCounters = 0;
  const post = (m: FromThread, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  const pump = (now: number): void => {
    const events = core.advance(now);
    if (events.length > 0) post({ type: 'alarms', events });
    if (events.length > 0 || now - lastCounters >= 1000) {
      lastCounters = now;
      post({ type: 'counters', counters: core.counters(now) });
    }
  };
  port.on('message', (m: ToThread) => {
    const now = Date.now();
    switch (m.type) {
      case 'ring':
        core.attach(m.channel);
        break;
      case 'assign':
        core.assign(m.partitions, now);
        break;
      case 'revoke':
        core.watermark.revoke(m.partitions);
        break;
      case 'flush':
        core.drain(now);
        pump(now);
        post({ type: 'flushed', id: m.id, counters: core.counters(now) });
        break;
      case 'snapshot': {
        // Drained and evaluated first: the alarms this pass decides reach the main thread before the snapshot, so
        // they go into the same transaction. Leaving partitions are forgotten in the same turn, so nothing about
        // them is decided after their last snapshot (their next owner decides it, once).
        core.drain(now);
        pump(now);
        const taken =
          m.partitions === null ? [{ partition: -1, state: snapshotState(core) }] : snapshotPartitions(core, m.partitions);
        core.forget(m.leaving);
        const states = taken.map(({ partition, state: b }) => {
          const state = new Uint8Array(b.byteLength);
          state.set(b);
          return { partition, state };
        });
        post({ type: 'snapshot', id: m.id, states }, states.map((x) => x.state.buffer as ArrayBuffer));
        break;
      }
      case 'restore':
        try {
          post({ type: 'restored', id: m.id, rules: restoreState(core, m.states, now) });
        } catch (err) {
          post({ type: 'failed', id: m.id, message: (err as Error).message });
        }
        break;
      case 'forget':
        // entries already in the rings count before the state goes (without evaluating: no decision after the
        // partitions' last snapshot)
        core.drain(now);
        post({ type: 'forgotten', id: m.id, released: core.forget(m.partitions) });
        break;
      case 'stop':
        stopping = true;
        Atomics.add(signal, 0, 1);
        Atomics.notify(signal, 0);
        break;
    }
  });
  post({ type: 'ready', restored });
  while (!stopping) {
    const seq = Atomics.load(signal, 0);
    const now = Date.now();
    const n = core.drain(now);
    pump(now);
    if (n === 0) {
      const r = waitAsync(signal, 0, seq, data.pollMs);
      if (r.async) await r.value;
    } else {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  const now = Date.now();
  core.drain(now);
  pump(now);
  post({ type: 'stopped' });
  port.close();
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'lux-alarm-thread') {
  void runThread(workerData as AlarmThreadData);
}

// ── the main-thread side

type SnapshotReply = Array<{ partition: number; state: Uint8Array }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export interface AlarmEngineOptions {
  readonly rules: readonly RuleSpec[];
  /** wall-clock ms without records after which a partition no longer holds the watermark back */
  readonly idleTimeoutMs?: number;
  /** entries per producer ring */
  readonly ringEntries?: number;
  readonly pollMs?: number;
  readonly ruleOptions?: RuleOptions;
  /** the equipment object (SPEC section 3) of an alarm, or null */
  readonly equipment?: EquipmentProvider;
  /** is the equipment under maintenance at the window end (suppressed alarms) */
  readonly maintenance?: MaintenanceLookup;
  /** every evaluation pass's alarms, as one batch */
  readonly onAlarms?: (alarms: AlarmJson[]) => void;
  readonly onError?: (err: Error) => void;
  /** snapshots (`snapshot()` or `snapshotPartitions()` output) to start from */
  readonly restore?: Buffer | Uint8Array | readonly (Buffer | Uint8Array)[];
  /** the compiled thread module; default dist/src/alarms/alarm-thread.js */
  readonly workerPath?: string;
}

export interface AlarmEngineCounters extends AlarmCoreCounters {
  raised: number;
  cleared: number;
  suppressed: number;
}

/** Starts the alarm thread, hands rings to producers, turns its decisions into alarm JSON, keeps counters. */
export class AlarmEngine {
  private readonly options: AlarmEngineOptions;
  private readonly signal = createSignal();
  private readonly channels: FeedChannel[] = [];
  /** partitions assigned before start() */
  private readonly assigned: number[] = [];
  /** snapshots restored before start() */
  private readonly pendingRestore: Uint8Array[] = [];
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  private stopped: Promise<void> | null = null;
  private core: AlarmCoreCounters = {
    records: 0, failures: 0, lateDropped: 0, lateCounted: 0, deferred: 0, fullDropped: 0, openAlarms: 0, activeEquipment: 0, watermarkMs: -Infinity,
  };
  raised = 0;
  cleared = 0;
  suppressed = 0;
  /** rules whose state came from the `restore` option or a `restore()` before start */
  restored: string[] = [];

  constructor(options: AlarmEngineOptions) {
    this.options = options;
  }

  /** A new ring for one producer (a decode worker): pass the channel to it and wrap it in a FeedWriter there. */
  addProducer(): FeedChannel {
    const ch = createChannel(this.channels.length, this.signal, this.options.ringEntries ?? FEED_DEFAULTS.ringEntries);
    this.channels.push(ch);
    this.worker?.postMessage({ type: 'ring', channel: ch } satisfies ToThread);
    return ch;
  }

  start(): Promise<void> {
    if (this.worker !== null) return Promise.resolve();
    const o = this.options;
    const data: AlarmThreadData = {
      kind: 'lux-alarm-thread',
      rules: o.rules,
      idleTimeoutMs: o.idleTimeoutMs ?? WATERMARK_DEFAULTS.idleTimeoutMs,
      pollMs: o.pollMs ?? ALARM_THREAD_DEFAULTS.pollMs,
      ruleOptions: o.ruleOptions ?? {},
      signal: this.signal,
      channels: this.channels.slice(),
      restore: [...(o.restore === undefined ? [] : Array.isArray(o.restore) ? o.restore : [o.restore]), ...this.pendingRestore].map(
        (b: Buffer | Uint8Array) => new Uint8Array(b),
      ),
      assigned: this.assigned.slice(),
    };
    const worker = new Worker(o.workerPath ?? distModule('alarms/alarm-thread.js'), { workerData: data });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: FromThread) => {
        if (m.type === 'ready') {
          ready = true;
          this.restored = m.restored;
          resolve();
        } else this.receive(m);
      });
      worker.on('error', (err) => {
        if (!ready) reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
        o.onError?.(err);
      });
      worker.on('exit', (code) => {
        const err = new LuxError('E_INTERNAL', `alarm thread exited with code ${code}`);
        if (!ready) reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      });
    });
  }

  /** Declares the input partitions assigned to this process (they hold the watermark until seen or idle). */
  assign(partitions: number[]): void {
    if (this.worker === null) this.assigned.push(...partitions);
    else this.worker.postMessage({ type: 'assign', partitions } satisfies ToThread);
  }

  revoke(partitions: number[]): void {
    this.worker?.postMessage({ type: 'revoke', partitions } satisfies ToThread);
  }

  /** Drains every ring, evaluates, and resolves once the resulting alarms have been delivered to `onAlarms`. */
  flush(): Promise<AlarmEngineCounters> {
    return this.request<AlarmCoreCounters>({ type: 'flush' }).then(() => this.counters());
  }

  /** The whole window state (every partition) after draining the rings and evaluating. */
  snapshot(): Promise<Buffer> {
    return this.request<SnapshotReply>({ type: 'snapshot', partitions: null, leaving: [] }).then((r) => toBuffer(r[0].state));
  }

  /**
   * One snapshot per partition after draining the rings and evaluating (the alarms decided reach `onAlarms` first);
   * the `leaving` partitions are then forgotten in the same step, so nothing is decided for them after these
   * snapshots. Every partition asked for gets a snapshot, empty when it owns nothing.
   */
  snapshotPartitions(partitions: readonly number[], leaving: readonly number[] = []): Promise<PartitionState[]> {
    return this.request<SnapshotReply>({ type: 'snapshot', partitions: [...partitions], leaving: [...leaving] }).then((r) =>
      r.map(({ partition, state }) => ({ partition, state: toBuffer(state) })),
    );
  }

  /**
   * Merges snapshots into the running state (those of newly assigned partitions, before any of their records
   * arrives); resolves with the rules restored. Before start(), they are restored when the thread starts.
   */
  restore(states: readonly (Buffer | Uint8Array)[]): Promise<string[]> {
    if (states.length === 0) return Promise.resolve([]);
    if (this.worker === null) {
      for (const b of states) this.pendingRestore.push(new Uint8Array(b));
      return Promise.resolve([]);
    }
    const copies = states.map((b) => new Uint8Array(b));
    return this.request<string[]>({ type: 'restore', states: copies }, copies.map((c) => c.buffer as ArrayBuffer));
  }

  /** Drops the state of revoked partitions (after their last snapshot is committed); resolves with the slots released. */
  forget(partitions: readonly number[]): Promise<number> {
    if (this.worker === null || partitions.length === 0) return Promise.resolve(0);
    return this.request<number>({ type: 'forget', partitions: [...partitions] });
  }

  counters(): AlarmEngineCounters {
    return { ...this.core, raised: this.raised, cleared: this.cleared, suppressed: this.suppressed };
  }

  /** Drains, evaluates one last time, and ends the thread. */
  stop(): Promise<void> {
    const w = this.worker;
    if (w === null) return Promise.resolve();
    if (this.stopped === null) {
      this.stopped = new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.postMessage({ type: 'stop' } satisfies ToThread);
      });
    }
    return this.stopped;
  }

  private request<T>(message: DistributiveOmit<Extract<ToThread, { id: number }>, 'id'>, transfer?: ArrayBuffer[]): Promise<T> {
    const w = this.worker;
    if (w === null) return Promise.reject(new LuxError('E_INTERNAL', `alarm engine: ${message.type} before start()`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: never) => void, reject });
      w.postMessage({ ...message, id } as ToThread, transfer);
    });
  }

  private fail(id: number, message: string): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    w.reject(new AlarmStateError(message));
  }

  private settle(id: number, value: unknown): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    (w.resolve as (v: unknown) => void)(value);
  }

  private receive(m: FromThread): void {
    switch (m.type) {
      case 'alarms': {
        const maintenance = this.options.maintenance ?? NO_MAINTENANCE;
        const equipment = this.options.equipment ?? NO_EQUIPMENT;
        const now = Date.now();
        const out: AlarmJson[] = new Array(m.events.length);
        for (let i = 0; i < m.events.length; i++) {
          const ev = m.events[i];
          ev.suppressed = maintenance(ev.equipmentId, ev.windowEndMs);
          if (ev.state === 'raised') this.raised++;
          else this.cleared++;
          if (ev.suppressed) this.suppressed++;
          out[i] = alarmJson(ev, equipment, now);
        }
        this.options.onAlarms?.(out);
        break;
      }
      case 'counters':
        this.core = m.counters;
        break;
      case 'flushed':
        this.core = m.counters;
        this.settle(m.id, m.counters);
        break;
      case 'snapshot':
        this.settle(m.id, m.states);
        break;
      case 'restored':
        this.settle(m.id, m.rules);
        break;
      case 'forgotten':
        this.settle(m.id, m.released);
        break;
      case 'failed':
        this.fail(m.id, m.message);
        break;
      case 'ready':
      case 'stopped':
        break;
    }
  }
}
