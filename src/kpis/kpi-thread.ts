// The KPI thread (a worker_threads Worker running KpiMergeCore) and KpiEngine, its main-thread side: partials messages in, one transaction's KPIs, alarm decisions, offsets and state out.
//
// Messages of the partials topic travel to the thread one Kafka message at a time (never one per record), their
// bytes copied and transferred. A transaction's output comes back packed: the KPI values and state values each in
// one transferred buffer, with their keys and ends beside. The main thread, which holds the reference data, turns
// alarm decisions into alarm JSON (kpiAlarmJson: suppression and the equipment object).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LuxError } from '../errors.js';
import { distModule } from '../paths.js';
import type { KpiAlarmDecision } from './kpi-json.js';
import { KpiMergeCore, type CellRank, type KpiMergeCounters, type KpiMergeOptions, type KpiPrepared } from './merge-core.js';
import { nameThread, THREAD_NAMES } from '../service/thread-name.js';
import { EngineThread, type RequestOf } from '../transport/engine-thread.js';

export const KPI_THREAD_DEFAULTS = {
  /** how often the thread reports its counters between transactions */
  countersMs: 1000,
} as const;

/** An error the KPI thread reported for a request (its name and, for bytes that do not read, the reason). */
export class KpiThreadError extends LuxError {
  readonly reason: string | undefined;
  constructor(name: string, message: string, reason: string | undefined) {
    super('E_INTERNAL', message);
    this.name = name;
    this.reason = reason;
  }
}

// ── what crosses the thread boundary

interface WireValues {
  keys: string[];
  /** 1: a tombstone (null value) */
  nulls: Uint8Array;
  ends: Uint32Array;
  bytes: Uint8Array;
}

function packValues(entries: ReadonlyArray<{ key: string; value: Buffer | null }>): WireValues {
  const n = entries.length;
  let size = 0;
  for (const e of entries) size += e.value?.length ?? 0;
  const w: WireValues = { keys: new Array<string>(n), nulls: new Uint8Array(n), ends: new Uint32Array(n), bytes: new Uint8Array(size) };
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    w.keys[i] = e.key;
    if (e.value === null) w.nulls[i] = 1;
    else {
      w.bytes.set(e.value, pos);
      pos += e.value.length;
    }
    w.ends[i] = pos;
  }
  return w;
}

function unpackValues(w: WireValues): Array<{ key: string; value: Buffer | null }> {
  const bytes = Buffer.from(w.bytes.buffer, w.bytes.byteOffset, w.bytes.byteLength);
  const out = new Array<{ key: string; value: Buffer | null }>(w.keys.length);
  for (let i = 0; i < out.length; i++) {
    const from = i === 0 ? 0 : w.ends[i - 1];
    out[i] = { key: w.keys[i], value: w.nulls[i] === 1 ? null : bytes.subarray(from, w.ends[i]) };
  }
  return out;
}

interface WirePrepared {
  kpis: WireValues;
  alarms: KpiAlarmDecision[];
  offsets: Array<{ shard: number; offset: number }>;
  state: WireValues;
  worstCells: CellRank[];
  counters: KpiMergeCounters;
}

type ToThread =
  | { type: 'assign'; id: number; shard: number; values: Uint8Array[] }
  | { type: 'forget'; id: number; shard: number }
  | { type: 'receive'; shard: number; offset: number; bytes: Uint8Array }
  | { type: 'prepare'; id: number; nowMs: number }
  | { type: 'settle'; id: number; committed: boolean }
  | { type: 'discard'; id: number }
  | { type: 'stop' };

type FromThread =
  | { type: 'ready' }
  | { type: 'done'; id: number; counters: KpiMergeCounters }
  | { type: 'prepared'; id: number; prepared: WirePrepared }
  | { type: 'failed'; id: number; name: string; message: string; reason?: string }
  | { type: 'counters'; counters: KpiMergeCounters }
  | { type: 'due' }
  | { type: 'stopped' };

interface KpiThreadData {
  readonly kind: 'lux-kpi-thread';
  readonly options: KpiMergeOptions;
  readonly countersMs: number;
}

// ── the worker entry

function runThread(data: KpiThreadData): void {
  const port = parentPort!;
  const core = new KpiMergeCore(data.options);
  /** the first message that did not read: the next prepare fails with it (its transaction cannot be whole) */
  let rejected: Error | null = null;
  /** a 'due' was posted and no prepare has come since */
  let dueSent = false;
  const post = (m: FromThread, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  const failure = (id: number, err: unknown): FromThread => {
    const e = err as Error & { reason?: string };
    return { type: 'failed', id, name: e.name ?? 'Error', message: e.message ?? String(err), reason: e.reason };
  };
  // Staged messages are applied as soon as the thread is free between transactions, so a prepare (which the commit
  // waits for) only closes windows.
  let applyScheduled = false;
  const applySoon = (): void => {
    if (applyScheduled) return;
    applyScheduled = true;
    setImmediate(() => {
      applyScheduled = false;
      if (core.prepared || core.stagedMessages === 0) return;
      try {
        core.applyStaged();
      } catch (err) {
        rejected ??= err as Error;
      }
      checkDue();
    });
  };
  const checkDue = (): void => {
    if (!dueSent && !core.prepared && core.due()) {
      dueSent = true;
      post({ type: 'due' });
    }
  };
  const timer = setInterval(() => {
    if (!core.prepared) post({ type: 'counters', counters: core.counters() });
  }, data.countersMs);
  port.on('message', (m: ToThread) => {
    switch (m.type) {
      case 'receive':
        try {
          core.receive(m.shard, m.offset, m.bytes);
        } catch (err) {
          rejected ??= err as Error;
        }
        applySoon();
        return;
      case 'stop':
        clearInterval(timer);
        post({ type: 'stopped' });
        port.close();
        return;
    }
    try {
      switch (m.type) {
        case 'assign':
          core.assign(m.shard, m.values);
          post({ type: 'done', id: m.id, counters: core.counters() });
          checkDue();
          break;
        case 'forget':
          core.forget(m.shard);
          post({ type: 'done', id: m.id, counters: core.counters() });
          break;
        case 'prepare': {
          dueSent = false;
          if (rejected !== null) {
            const err = rejected;
            rejected = null;
            throw err;
          }
          const p = core.prepare(m.nowMs);
          const wire: WirePrepared = { kpis: packValues(p.kpis), alarms: p.alarms, offsets: p.offsets, state: packValues(p.state), worstCells: p.worstCells, counters: p.counters };
          post({ type: 'prepared', id: m.id, prepared: wire }, [wire.kpis.bytes.buffer as ArrayBuffer, wire.state.bytes.buffer as ArrayBuffer]);
          break;
        }
        case 'settle':
          core.settle(m.committed);
          post({ type: 'done', id: m.id, counters: core.counters() });
          applySoon();
          checkDue();
          break;
        case 'discard':
          core.discard();
          rejected = null; // what it rejected is read again after the rewind
          post({ type: 'done', id: m.id, counters: core.counters() });
          break;
      }
    } catch (err) {
      post(failure(m.id, err));
    }
  });
  post({ type: 'ready' });
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'lux-kpi-thread') {
  nameThread(THREAD_NAMES.kpi);
  runThread(workerData as KpiThreadData);
}

// ── the main-thread side

export interface KpiEngineOptions extends KpiMergeOptions {
  readonly countersMs?: number;
  readonly onError?: (err: Error) => void;
  /** the compiled thread module; default dist/src/kpis/kpi-thread.js */
  readonly workerPath?: string;
}

const NO_COUNTERS: KpiMergeCounters = {
  windowsClosed: 0, kpisEmitted: 0, lateRecords: 0, messagesSkipped: 0, openAlarms: 0, keysHeld: 0, windowsHeld: 0, latenciesHeld: 0, stateBytes: 0, shards: 0, stagedMessages: 0, watermarkMs: -Infinity,
};

/** Starts the KPI thread and moves its merge state with the pipeline's transactions. */
export class KpiEngine {
  private readonly options: KpiEngineOptions;
  private readonly thread = new EngineThread<ToThread, FromThread>('KPI thread');
  private latest: KpiMergeCounters = NO_COUNTERS;
  private dueFlag = false;

  constructor(options: KpiEngineOptions) {
    this.options = options;
  }

  start(): Promise<void> {
    if (this.thread.started) return Promise.resolve();
    const o = this.options;
    const data: KpiThreadData = {
      kind: 'lux-kpi-thread',
      options: {
        windowMs: o.windowMs,
        latenessMs: o.latenessMs,
        rawPartitions: o.rawPartitions,
        rules: o.rules,
        dimensions: o.dimensions,
        shards: o.shards,
      },
      countersMs: o.countersMs ?? KPI_THREAD_DEFAULTS.countersMs,
    };
    return this.thread.start(o.workerPath ?? distModule('kpis/kpi-thread.js'), data, {
      ready: () => undefined,
      message: (m) => this.onMessage(m),
      error: o.onError,
    });
  }

  /** Takes a partials shard with the state values read back from the state topic under its keys (none when fresh). */
  assign(shard: number, values: readonly Uint8Array[]): Promise<void> {
    const copies = values.map((v) => new Uint8Array(v));
    return this.request<KpiMergeCounters>({ type: 'assign', shard, values: copies }, copies.map((c) => c.buffer as ArrayBuffer)).then((c) => {
      this.latest = c;
    });
  }

  /** Drops a revoked shard (after its last transaction settled). */
  forget(shard: number): Promise<void> {
    return this.request<KpiMergeCounters>({ type: 'forget', shard }).then((c) => {
      this.latest = c;
    });
  }

  /**
   * One message of the partials topic, read from partition `shard` at `offset` (its bytes are copied). A message that
   * does not read fails the next `prepare`; a dead thread throws here.
   */
  receive(shard: number, offset: number, bytes: Uint8Array): void {
    const copy = new Uint8Array(bytes);
    this.thread.send({ type: 'receive', shard, offset, bytes: copy }, [copy.buffer as ArrayBuffer]);
  }

  /** The thread has something to apply or close though no transaction came: the pipeline should commit one. */
  get due(): boolean {
    return this.dueFlag;
  }

  /** Opens the KPI side of a transaction (KpiMergeCore.prepare); exactly one `settle` or `discard` follows. */
  async prepare(nowMs: number = Date.now()): Promise<KpiPrepared> {
    this.dueFlag = false;
    const w = await this.request<WirePrepared>({ type: 'prepare', nowMs });
    this.latest = w.counters;
    return {
      kpis: unpackValues(w.kpis) as Array<{ key: string; value: Buffer }>,
      alarms: w.alarms,
      offsets: w.offsets,
      state: unpackValues(w.state),
      worstCells: w.worstCells,
      counters: w.counters,
    };
  }

  /** Ends the prepared transaction: kept when it committed, put back (as `discard`) when not. */
  async settle(committed: boolean): Promise<void> {
    this.latest = await this.request<KpiMergeCounters>({ type: 'settle', committed });
  }

  /** Back to the last committed state, window aggregates and staged messages dropped; rewind the partials partitions next. */
  async discard(): Promise<void> {
    this.latest = await this.request<KpiMergeCounters>({ type: 'discard' });
  }

  /** The thread's counters as of its last report (committed state). */
  counters(): KpiMergeCounters {
    return { ...this.latest };
  }

  /** Ends the thread; what no transaction committed is read again after a restart. */
  stop(): Promise<void> {
    return this.thread.stop({ type: 'stop' });
  }

  private request<T>(message: RequestOf<ToThread>, transfer?: ArrayBuffer[]): Promise<T> {
    return this.thread.request<T>(message, transfer);
  }

  private answer(id: number, value: unknown, error?: Error): void {
    this.thread.answer(id, value, error);
  }

  private onMessage(m: FromThread): void {
    switch (m.type) {
      case 'done':
        this.answer(m.id, m.counters);
        break;
      case 'prepared':
        this.answer(m.id, m.prepared);
        break;
      case 'failed':
        this.answer(m.id, undefined, new KpiThreadError(m.name, m.message, m.reason));
        break;
      case 'counters':
        this.latest = m.counters;
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
