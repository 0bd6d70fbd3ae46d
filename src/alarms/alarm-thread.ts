// The alarm thread (a worker_threads Worker that stages the feed rings and moves the window state one transaction at a time) and AlarmEngine, its main-thread side.
//
// The thread decides episodes (raised/cleared) when the pipeline prepares a transaction; the main thread, where the
// reference snapshot lives, applies the maintenance lookup (suppressed) and the equipment object when it turns
// decisions into alarm JSON. Alarms travel as one message per transaction, never one per record.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { distModule } from '../paths.js';
import { alarmJson, NO_EQUIPMENT, type AlarmJson, type EquipmentProvider } from './alarm-json.js';
import { createChannel, createSignal, type FeedChannel } from './feed.js';
import { ALARM_INTERNALS } from '../config/internals.js';
import { NO_MAINTENANCE, type AlarmEvent, type MaintenanceLookup, type RuleOptions, type RuleSpec } from './rules.js';
import { AlarmCore, type AlarmCoreCounters, type ChangelogEntry } from './core.js';
import { AlarmStateError } from './state-codec.js';
import { restoreState } from './state-merge.js';
import { nameThread, THREAD_NAMES } from '../service/thread-name.js';
import { EngineThread, type RequestOf } from '../transport/engine-thread.js';

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

/**
 * A transaction's changelog entries as one transferable buffer: entry i is `bytes[ends[i-1], ends[i])`, its partition
 * `partitions[i]`, its equipment `equipment[i]` (-1: the partition's value); a tombstone has `tombstone[i]` = 1.
 */
interface WireEntries {
  partitions: Uint32Array;
  equipment: Float64Array;
  tombstone: Uint8Array;
  ends: Uint32Array;
  bytes: Uint8Array;
}

function toWire(entries: readonly ChangelogEntry[]): WireEntries {
  const n = entries.length;
  const w: WireEntries = {
    partitions: new Uint32Array(n),
    equipment: new Float64Array(n),
    tombstone: new Uint8Array(n),
    ends: new Uint32Array(n),
    bytes: new Uint8Array(entries.reduce((sum, e) => sum + (e.state?.length ?? 0), 0)),
  };
  let pos = 0;
  entries.forEach((e, i) => {
    w.partitions[i] = e.partition;
    w.equipment[i] = e.equipment ?? -1;
    if (e.state === null) w.tombstone[i] = 1;
    else {
      w.bytes.set(e.state, pos);
      pos += e.state.length;
    }
    w.ends[i] = pos;
  });
  return w;
}

function fromWire(w: WireEntries): ChangelogEntry[] {
  const bytes = Buffer.from(w.bytes.buffer, w.bytes.byteOffset, w.bytes.byteLength);
  const out: ChangelogEntry[] = new Array(w.partitions.length);
  for (let i = 0; i < out.length; i++) {
    const from = i === 0 ? 0 : w.ends[i - 1];
    out[i] = {
      partition: w.partitions[i],
      equipment: w.equipment[i] < 0 ? undefined : w.equipment[i],
      state: w.tombstone[i] === 1 ? null : bytes.subarray(from, w.ends[i]),
    };
  }
  return out;
}

type ToThread =
  | { type: 'ring'; channel: FeedChannel }
  | { type: 'assign'; partitions: number[] }
  | { type: 'prepare'; id: number; throughSeq: number; owned: number[] }
  | { type: 'settle'; id: number; committed: boolean }
  | { type: 'discard'; id: number }
  | { type: 'restore'; id: number; states: Uint8Array[] }
  | { type: 'forget'; id: number; partitions: number[] }
  | { type: 'stop' };

type FromThread =
  | { type: 'ready'; restored: string[] }
  | { type: 'prepared'; id: number; events: AlarmEvent[]; entries: WireEntries }
  | { type: 'settled'; id: number; counters: AlarmCoreCounters }
  | { type: 'restored'; id: number; rules: string[] }
  | { type: 'forgotten'; id: number; released: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'counters'; counters: AlarmCoreCounters }
  | { type: 'due' }
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
  /** a 'due' was posted and no prepare has come since */
  let dueSent = false;
  /** messages that change the state outside a transaction wait while one is open (an abort would undo them) */
  const held: ToThread[] = [];
  const post = (m: FromThread, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  const handle = (m: ToThread): void => {
    const now = Date.now();
    if (core.prepared && (m.type === 'assign' || m.type === 'restore' || m.type === 'forget')) {
      held.push(m);
      return;
    }
    try {
      switch (m.type) {
        case 'ring':
          core.attach(m.channel);
          break;
        case 'assign':
          core.assign(m.partitions, now);
          break;
        case 'prepare': {
          dueSent = false;
          const { events, entries } = core.prepare(m.throughSeq, now, m.owned);
          const wire = toWire(entries);
          post({ type: 'prepared', id: m.id, events, entries: wire }, [wire.bytes.buffer as ArrayBuffer]);
          break;
        }
        case 'settle':
        case 'discard':
          if (m.type === 'settle') core.settle(m.committed);
          else core.discard();
          post({ type: 'settled', id: m.id, counters: core.counters(now) });
          for (const h of held.splice(0)) handle(h);
          break;
        case 'restore':
          post({ type: 'restored', id: m.id, rules: restoreState(core, m.states, now) });
          break;
        case 'forget':
          post({ type: 'forgotten', id: m.id, released: core.forget(m.partitions) });
          break;
        case 'stop':
          stopping = true;
          Atomics.add(signal, 0, 1);
          Atomics.notify(signal, 0);
          break;
      }
    } catch (err) {
      if ('id' in m) post({ type: 'failed', id: m.id, message: (err as Error).message });
      else throw err;
    }
  };
  port.on('message', handle);
  post({ type: 'ready', restored });
  while (!stopping) {
    const seq = Atomics.load(signal, 0);
    const n = core.stage();
    const now = Date.now();
    if (!dueSent && !core.prepared && core.due(now)) {
      dueSent = true;
      post({ type: 'due' });
    }
    // only between transactions: the counters then describe committed state (an abort rolls them back)
    if (!core.prepared && now - lastCounters >= ALARM_INTERNALS.countersMs) {
      lastCounters = now;
      post({ type: 'counters', counters: core.counters(now) });
    }
    if (n === 0) {
      const r = waitAsync(signal, 0, seq, data.pollMs);
      if (r.async) await r.value;
    } else {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  post({ type: 'stopped' });
  port.close();
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'lux-alarm-thread') {
  nameThread(THREAD_NAMES.alarm);
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
  readonly onError?: (err: Error) => void;
  /** snapshots (`snapshotState()`, or assembled from a changelog) to start from */
  readonly restore?: Buffer | Uint8Array | readonly (Buffer | Uint8Array)[];
  /** the compiled thread module; default dist/src/alarms/alarm-thread.js */
  readonly workerPath?: string;
}

export interface AlarmEngineCounters extends AlarmCoreCounters {
  raised: number;
  cleared: number;
  suppressed: number;
}

/** What one transaction writes for the alarms: the alarm JSON, and the changelog entries of the window state. */
export interface PreparedAlarms {
  alarms: AlarmJson[];
  entries: ChangelogEntry[];
}

/** Starts the alarm thread, hands rings to producers, moves its state with the pipeline's transactions, keeps counters. */
export class AlarmEngine {
  private readonly options: AlarmEngineOptions;
  private readonly signal = createSignal();
  private readonly channels: FeedChannel[] = [];
  /** partitions assigned before start() */
  private readonly assigned: number[] = [];
  /** snapshots restored before start() */
  private readonly pendingRestore: Uint8Array[] = [];
  private readonly thread = new EngineThread<ToThread, FromThread>('alarm thread');
  private core: AlarmCoreCounters = {
    records: 0, failures: 0, lateDropped: 0, lateCounted: 0, deferred: 0, fullDropped: 0, openAlarms: 0, activeEquipment: 0, watermarkMs: -Infinity, staged: 0,
    rules: [],
  };
  /** the alarms of the prepared transaction, counted when it commits */
  private preparedAlarms: AlarmJson[] = [];
  /** the thread has windows to evaluate though no transaction came (records stopped flowing) */
  private dueFlag = false;
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
    const ch = createChannel(this.channels.length, this.signal, this.options.ringEntries ?? ALARM_INTERNALS.feedRingEntries);
    this.channels.push(ch);
    this.thread.post({ type: 'ring', channel: ch });
    return ch;
  }

  start(): Promise<void> {
    if (this.thread.started) return Promise.resolve();
    const o = this.options;
    const data: AlarmThreadData = {
      kind: 'lux-alarm-thread',
      rules: o.rules,
      idleTimeoutMs: o.idleTimeoutMs ?? ALARM_INTERNALS.idleTimeoutMs,
      pollMs: o.pollMs ?? ALARM_INTERNALS.pollMs,
      ruleOptions: o.ruleOptions ?? {},
      signal: this.signal,
      channels: this.channels.slice(),
      restore: [...(o.restore === undefined ? [] : Array.isArray(o.restore) ? o.restore : [o.restore]), ...this.pendingRestore].map(
        (b: Buffer | Uint8Array) => new Uint8Array(b),
      ),
      assigned: this.assigned.slice(),
    };
    return this.thread.start(o.workerPath ?? distModule('alarms/alarm-thread.js'), data, {
      ready: (m) => {
        this.restored = m.restored;
      },
      message: (m) => this.receive(m),
      error: o.onError,
    });
  }

  /** Declares the input partitions assigned to this process (they hold the watermark until seen or idle). */
  assign(partitions: number[]): void {
    if (!this.thread.post({ type: 'assign', partitions })) this.assigned.push(...partitions);
  }

  /** The thread has windows to evaluate though no transaction came: the pipeline should commit one for them. */
  get due(): boolean {
    return this.dueFlag;
  }

  /**
   * Opens the alarm side of a transaction: the thread applies the staged batches numbered <= `throughSeq`, evaluates
   * the windows, and returns the alarms decided and the changelog values of what changed in the partitions of
   * `owned`. Exactly one `settle` or `discard` must follow.
   */
  async prepare(throughSeq: number, owned: readonly number[]): Promise<PreparedAlarms> {
    this.dueFlag = false;
    const r = await this.request<{ events: AlarmEvent[]; entries: WireEntries }>({ type: 'prepare', throughSeq, owned: [...owned] });
    const maintenance = this.options.maintenance ?? NO_MAINTENANCE;
    const equipment = this.options.equipment ?? NO_EQUIPMENT;
    const now = Date.now();
    const alarms = r.events.map((ev) => {
      ev.suppressed = maintenance(ev.equipmentId, ev.windowEndMs);
      return alarmJson(ev, equipment, now);
    });
    this.preparedAlarms = alarms;
    return { alarms, entries: fromWire(r.entries) };
  }

  /** Closes the prepared transaction: kept when it committed, put back when it aborted. */
  async settle(committed: boolean): Promise<void> {
    await this.request<AlarmCoreCounters>({ type: 'settle', committed });
    if (committed) {
      for (const a of this.preparedAlarms) {
        if (a.state === 'raised') this.raised++;
        else this.cleared++;
        if (a.suppressed) this.suppressed++;
      }
    }
    this.preparedAlarms = [];
  }

  /**
   * After an abort, once every batch in flight has settled: puts back the prepared transaction if any, and drops every
   * staged entry (the rewound records come again).
   */
  async discard(): Promise<void> {
    await this.request<AlarmCoreCounters>({ type: 'discard' });
    this.preparedAlarms = [];
  }

  /**
   * Merges snapshots into the running state (those of newly assigned partitions, before any of their records
   * arrives); resolves with the rules restored. Before start(), they are restored when the thread starts.
   */
  restore(states: readonly (Buffer | Uint8Array)[]): Promise<string[]> {
    if (states.length === 0) return Promise.resolve([]);
    if (!this.thread.started) {
      for (const b of states) this.pendingRestore.push(new Uint8Array(b));
      return Promise.resolve([]);
    }
    const copies = states.map((b) => new Uint8Array(b));
    return this.request<string[]>({ type: 'restore', states: copies }, copies.map((c) => c.buffer as ArrayBuffer));
  }

  /** Drops the state of revoked partitions (after their last transaction settled); resolves with the slots released. */
  forget(partitions: readonly number[]): Promise<number> {
    if (!this.thread.started || partitions.length === 0) return Promise.resolve(0);
    return this.request<number>({ type: 'forget', partitions: [...partitions] });
  }

  counters(): AlarmEngineCounters {
    return { ...this.core, raised: this.raised, cleared: this.cleared, suppressed: this.suppressed };
  }

  /** Ends the thread; what no transaction settled is not kept (it is read again after a restart). */
  stop(): Promise<void> {
    return this.thread.stop({ type: 'stop' });
  }

  private request<T>(message: RequestOf<ToThread>, transfer?: ArrayBuffer[]): Promise<T> {
    return this.thread.request<T>(message, transfer);
  }

  private answer(id: number, value: unknown, error?: Error): void {
    this.thread.answer(id, value, error);
  }

  private receive(m: FromThread): void {
    switch (m.type) {
      case 'prepared':
        this.answer(m.id, { events: m.events, entries: m.entries });
        break;
      case 'settled':
        this.core = m.counters;
        this.answer(m.id, m.counters);
        break;
      case 'restored':
        this.answer(m.id, m.rules);
        break;
      case 'forgotten':
        this.answer(m.id, m.released);
        break;
      case 'failed':
        this.answer(m.id, undefined, new AlarmStateError(m.message));
        break;
      case 'counters':
        this.core = m.counters;
        break;
      case 'due':
        this.dueFlag = true;
        break;
      case 'ready':
      case 'stopped':
        break;
    }
  }
}
