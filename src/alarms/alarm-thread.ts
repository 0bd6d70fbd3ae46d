// The alarm thread: a worker_threads Worker that polls the feed rings, counts failures into windows, advances the watermark and posts alarms; plus its state snapshot and the main-thread AlarmEngine.
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
  records = 0;
  failures = 0;

  constructor(specs: readonly RuleSpec[], idleTimeoutMs: number = WATERMARK_DEFAULTS.idleTimeoutMs, options: RuleOptions = {}) {
    this.rules = new RuleSet(specs, NO_MAINTENANCE, options);
    this.watermark = new WatermarkTracker(idleTimeoutMs);
    this.buf = new Uint32Array(ALARM_THREAD_DEFAULTS.pollEntries * ENTRY_WORDS);
  }

  attach(channel: FeedChannel): void {
    this.readers.push(new FeedReader(channel));
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
    for (let i = 0; i < n; i++) {
      const w = i * ENTRY_WORDS;
      const pf = buf[w + E_PARTITION_FLAGS];
      const t = entryTime(buf, i);
      wm.observe(pf & 0xffff, t, nowMs);
      const flags = pf >>> 16;
      if ((flags & FLAG_PROGRESS) !== 0) {
        this.records += buf[w + E_EQUIPMENT];
        continue;
      }
      this.records++;
      if ((flags & FLAG_FAILURE) !== 0) {
        this.failures++;
        rules.addFailure(buf[w + E_EQUIPMENT], t);
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

const MAGIC = 0x4c584153; // "LXAS"
const VERSION = 1;

class ByteWriter {
  buf = Buffer.alloc(4096);
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
    return this.buf.subarray(0, this.pos);
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
}

/**
 * Serializes the core's state: partitions' event-time maxima, and per rule its frontier, every active equipment
 * (newest bucket, open alarm, bucket counts) and its deferred events. Drain the rings first for a consistent cut.
 */
export function snapshotState(core: AlarmCore): Buffer {
  const w = new ByteWriter();
  w.u32(MAGIC);
  w.u32(VERSION);
  const wm = core.watermark.exportState();
  w.f64(wm.floor);
  w.u32(wm.partitions.length);
  for (const [p, t] of wm.partitions) {
    w.u32(p);
    w.f64(t);
  }
  w.u32(core.rules.rules.length);
  for (const rule of core.rules.rules) {
    const st = rule.store;
    w.str(rule.spec.name);
    w.f64(st.windowMs);
    w.f64(st.slideMs);
    w.f64(st.lastBucket);
    w.u32(st.ring);
    w.u32(st.active);
    for (let s = 0; s < st.highWater; s++) {
      if (st.used[s] === 0) continue;
      w.u32(st.keys[s]);
      w.f64(st.head[s]);
      w.f64(st.open[s]);
      for (let i = 0; i < st.ring; i++) w.u32(st.counts[s * st.ring + i]);
    }
    const d = st.exportDeferred();
    w.u32(d.eq.length);
    for (let i = 0; i < d.eq.length; i++) {
      w.u32(d.eq[i]);
      w.f64(d.bucket[i]);
      w.u32(d.n[i]);
    }
  }
  return Buffer.from(w.done());
}

/**
 * Restores `snapshotState` output into a fresh core. Rules are matched by name; a rule whose window_ms or slide_ms
 * changed since the snapshot starts empty (its old buckets would mean something else). Returns the rules restored.
 */
export function restoreState(core: AlarmCore, snapshot: Buffer | Uint8Array, nowMs: number = Date.now()): string[] {
  const r = new ByteReader(Buffer.isBuffer(snapshot) ? snapshot : Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength));
  if (r.u32() !== MAGIC) throw new AlarmStateError('bad magic (not an LXAS alarm snapshot)');
  const version = r.u32();
  if (version !== VERSION) throw new AlarmStateError(`unsupported version ${version}`);
  const floor = r.f64();
  const np = r.u32();
  const partitions: Array<[number, number]> = [];
  for (let i = 0; i < np; i++) partitions.push([r.u32(), r.f64()]);
  core.watermark.importState({ partitions, floor }, nowMs);
  const restored: string[] = [];
  const nr = r.u32();
  for (let i = 0; i < nr; i++) {
    const name = r.str();
    const windowMs = r.f64();
    const slideMs = r.f64();
    const lastBucket = r.f64();
    const ring = r.u32();
    const active = r.u32();
    const counts = new Uint32Array(ring);
    const rule = core.rules.rules.find((x) => x.spec.name === name);
    const st = rule !== undefined && rule.store.windowMs === windowMs && rule.store.slideMs === slideMs ? rule.store : undefined;
    if (st !== undefined) st.lastBucket = lastBucket;
    for (let a = 0; a < active; a++) {
      const eq = r.u32();
      const head = r.f64();
      const open = r.f64();
      for (let j = 0; j < ring; j++) counts[j] = r.u32();
      if (st !== undefined) {
        const lowB = lastBucket - st.k + 1; // NaN before the frontier: nothing is below it
        for (let b = head - ring + 1; b <= head; b++) {
          const n = counts[((b % ring) + ring) % ring];
          if (n > 0 && !(b < lowB)) st.addBucket(eq, b, n);
        }
      }
      if (st !== undefined && open === open) {
        const s = st.slotFor(eq, head);
        if (s >= 0) st.open[s] = open;
      }
    }
    const nd = r.u32();
    for (let d = 0; d < nd; d++) {
      const eq = r.u32();
      const b = r.f64();
      const n = r.u32();
      if (st !== undefined) st.addBucket(eq, b, n);
    }
    if (st !== undefined) restored.push(name);
  }
  return restored;
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
  readonly restore: Uint8Array | null;
  readonly assigned: readonly number[];
}

type ToThread =
  | { type: 'ring'; channel: FeedChannel }
  | { type: 'assign'; partitions: number[] }
  | { type: 'revoke'; partitions: number[] }
  | { type: 'flush'; id: number }
  | { type: 'snapshot'; id: number }
  | { type: 'stop' };

type FromThread =
  | { type: 'ready'; restored: string[] }
  | { type: 'alarms'; events: AlarmEvent[] }
  | { type: 'counters'; counters: AlarmCoreCounters }
  | { type: 'flushed'; id: number; counters: AlarmCoreCounters }
  | { type: 'snapshot'; id: number; state: Uint8Array }
  | { type: 'stopped' };

/** Atomics.waitAsync (Node >= 16), typed here because the project's lib is ES2023. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, t: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

async function runThread(data: AlarmThreadData): Promise<void> {
  const port = parentPort!;
  const core = new AlarmCore(data.rules, data.idleTimeoutMs, data.ruleOptions);
  const restored = data.restore === null ? [] : restoreState(core, data.restore);
  for (const ch of data.channels) core.attach(ch);
  core.watermark.assign(data.assigned, Date.now());
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
        core.watermark.assign(m.partitions, now);
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
        core.drain(now);
        pump(now);
        const b = snapshotState(core);
        const state = new Uint8Array(b.byteLength);
        state.set(b);
        post({ type: 'snapshot', id: m.id, state }, [state.buffer as ArrayBuffer]);
        break;
      }
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
  /** a `snapshot()` to start from */
  readonly restore?: Buffer | Uint8Array;
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
  /** rules whose state came from `restore` */
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
      restore: o.restore === undefined ? null : new Uint8Array(o.restore),
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
    return this.request<AlarmCoreCounters>('flush').then(() => this.counters());
  }

  /** The window state after draining the rings, for a compacted changelog topic. */
  snapshot(): Promise<Buffer> {
    return this.request<Uint8Array>('snapshot').then((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
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

  private request<T>(type: 'flush' | 'snapshot'): Promise<T> {
    const w = this.worker;
    if (w === null) return Promise.reject(new LuxError('E_INTERNAL', `alarm engine: ${type} before start()`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: never) => void, reject });
      w.postMessage({ type, id } satisfies ToThread);
    });
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
        this.settle(m.id, m.state);
        break;
      case 'ready':
      case 'stopped':
        break;
    }
  }
}
