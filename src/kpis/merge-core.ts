// The KPI thread's logic without the thread: partials messages of the owned shards in, windows closed by the watermark, KPI objects, KPI alarm decisions, partials offsets and state values out — one transaction at a time.
//
// Messages are only staged on `receive`; `prepare` applies them in offset order (marks, then entries: an entry for
// a window this shard already closed is late — dropped, and its records counted once, see `lateCountedThrough`),
// computes each shard's watermark over all raw partitions (marks.ts), closes every window whose end is at or before
// watermark − lateness in ascending order, and returns what the transaction writes:
// - the KPI objects, and the alarm decisions of kpis.rules on them (rules.ts);
// - per shard the partials offset to commit: the first message an open window still needs (every later message is
//   read again after a rewind or a restart, which rebuilds the open windows exactly), or the next one when no window
//   is open;
// - the state values that changed (state-codec.ts): the shard's frontier, marks and late-counted offset, the open
//   alarms (a tombstone on clear).
// `settle(true)` makes that the committed state; `settle(false)` and `discard()` put every shard back to it and drop
// every window aggregate: the caller rewinds the partials partitions to their committed offsets and the messages
// read again rebuild the aggregates. A restart is the same with the state values read back (`assign`).
import { KpiFormatError, KpiUsageError } from './errors.js';
import { DEFAULTS } from '../config/schema.js';
import { kpiAlarmId, decide, readKpi, thresholdOf, RAISE, CLEAR, type KpiRuleSpec } from './rules.js';
import { windowTimes, type KpiAlarmDecision } from './kpi-json.js';
import { KpiJsonWriter, TYPICAL_KPI_JSON_BYTES } from './kpi-json-writer.js';
import { ByteWriter } from './leb128.js';
import { MarksTable } from './marks.js';
import { M_RECORDS, MEASURES } from './measures.js';
import { DIMENSIONS, DIM_CELL, DIM_COUNT, dimensionCode, type Dimension } from './names.js';
import { M_CALL_DROPS, M_SESSION_ATTEMPTS, M_SESSION_SUCCESSES } from './measures.js';
import { ChunkReader, openPartialsMessage, type PartialsSink } from './partials-codec.js';
import {
  alarmStateKey,
  decodeStateValue,
  encodeAlarmState,
  encodeShardState,
  shardStateKey,
  type OpenKpiAlarm,
} from './state-codec.js';
import { KpiWindowStore } from './window-store.js';

export const MERGE_DEFAULTS = {
  /** the KPI values' buffer of a transaction, to start with */
  jsonBytes: 1 << 20,
  /** beyond this, it is dropped after the transaction (a window close of 100,000 keys takes ~55 MB once a window) */
  keptJsonBytes: 4 << 20,
} as const;

export interface KpiMergeOptions {
  /** kpis.window_ms: a message written for another window size is refused */
  readonly windowMs: number;
  /** kpis.lateness_ms */
  readonly latenessMs?: number;
  /** partitions of the raw input topic: each holds the watermark until heard of */
  readonly rawPartitions: number;
  /** kpis.rules */
  readonly rules?: readonly KpiRuleSpec[];
  /** kpis.dimensions: the first of them counts late records (each record once) */
  readonly dimensions?: readonly Dimension[];
  /** partitions of the partials topic; when given, a message written for another count is refused */
  readonly shards?: number;
}

/** Counters of the merge, as of the last commit (what an abort undoes is not in them). */
export interface KpiMergeCounters {
  windowsClosed: number;
  kpisEmitted: number;
  lateRecords: number;
  /** partials messages skipped: for a shard not owned, or read again below the next expected offset */
  messagesSkipped: number;
  openAlarms: number;
  /** (window, dimension, key) aggregates held */
  keysHeld: number;
  /** open windows, summed over the shards */
  windowsHeld: number;
  /** latency values held */
  latenciesHeld: number;
  /** typed-array bytes of the window state */
  stateBytes: number;
  shards: number;
  stagedMessages: number;
  /** the smallest watermark of the owned shards (before lateness); -Infinity while one is held */
  watermarkMs: number;
}

/** A cell that ranks among the worst of its window on this shard (the status page keeps the worst over all shards). */
export interface CellRank {
  windowStartMs: number;
  key: string;
  records: number;
  sessionAttempts: number;
  sessionSuccesses: number;
  callDrops: number;
}

/** Cells ranked per window and shard: by drop rate and by session success rate, each among cells with enough sessions. */
export const CELL_RANKS = {
  /** cells kept per ranking, window and shard */
  top: 10,
  /** a cell ranks only with at least this many session attempts (success rate) or successes (drop rate) */
  minSessions: 10,
} as const;

/** What one transaction writes for the KPIs. */
export interface KpiPrepared {
  /** KPI topic messages: key `<dimension>:<key>`, value the SPEC section 7 JSON */
  kpis: Array<{ key: string; value: Buffer }>;
  alarms: KpiAlarmDecision[];
  /** partials-topic offsets to commit with the transaction */
  offsets: Array<{ shard: number; offset: number }>;
  /** state-topic values, keys relative to the caller's prefix; null = tombstone */
  state: Array<{ key: string; value: Buffer | null }>;
  /** the worst cells of the windows this transaction closes (CELL_RANKS), for the status page; not written anywhere */
  worstCells: CellRank[];
  counters: KpiMergeCounters;
}

/** What a shard's last commit left: what `discard` puts back. */
interface Committed {
  marks: MarksTable;
  closedThroughMs: number;
  lateCountedThrough: number;
  /** the partials offset committed (-1: none since assigned) */
  offset: number;
  /** the shard value last written (or read back) */
  value: Buffer | null;
}

/** One owned shard: its windows, marks and frontier, staged messages and open alarms. */
class Shard implements PartialsSink {
  readonly id: number;
  readonly store = new KpiWindowStore();
  readonly writer = new KpiJsonWriter(this.store);
  marks: MarksTable;
  /** end (ms) of the last window closed; -Infinity before the first */
  closedThroughMs = -Infinity;
  lateCountedThrough = -1;
  /** the next offset expected; -1: any (nothing read since assigned or rewound to an unknown position) */
  nextOffset = -1;
  appliedThrough = -1;
  staged: Array<{ offset: number; bytes: Uint8Array }> = [];
  /** open alarms by state key */
  readonly alarms = new Map<string, OpenKpiAlarm>();
  /** the open transaction's alarm changes: state key → the alarm before (undefined: none) */
  readonly alarmJournal = new Map<string, OpenKpiAlarm | undefined>();
  committed: Committed;
  // ── the message being applied
  private offset = -1;
  private readonly windowMs: number;
  private readonly countingDim: number;
  /** late records of the open transaction */
  late = 0;

  constructor(id: number, rawPartitions: number, windowMs: number, countingDim: number) {
    this.id = id;
    this.marks = new MarksTable(rawPartitions);
    this.windowMs = windowMs;
    this.countingDim = countingDim;
    this.committed = { marks: this.marks.copy(), closedThroughMs: -Infinity, lateCountedThrough: -1, offset: -1, value: null };
  }

  internString(text: string): number {
    return this.store.internString(text);
  }

  entry(window: number, dim: number, key: number, fields: Float64Array, lat: Uint16Array, latCount: number): void {
    if ((window + 1) * this.windowMs <= this.closedThroughMs) {
      // a message read again after a rewind was counted the first time
      if (this.offset > this.lateCountedThrough && dim === this.countingDim) this.late += fields[M_RECORDS];
      return;
    }
    this.store.entry(window, dim, key, fields, lat, latCount);
  }

  /** Sets the message whose entries follow. */
  at(offset: number): void {
    this.offset = offset;
    this.store.offset = offset;
  }

  /** Marks the end of the message at `at`'s offset. */
  applied(): void {
    if (this.offset > this.lateCountedThrough) this.lateCountedThrough = this.offset;
    this.appliedThrough = this.offset;
    this.nextOffset = this.offset + 1;
  }
}

export class KpiMergeCore {
  readonly windowMs: number;
  readonly latenessMs: number;
  readonly rawPartitions: number;
  readonly rules: readonly KpiRuleSpec[];
  readonly shardCount: number | undefined;
  private readonly countingDim: number;
  private readonly rulesByDim: KpiRuleSpec[][];
  private readonly shards = new Map<number, Shard>();
  private readonly reader = new ChunkReader();
  /** assign/forget held while a transaction is prepared (an abort would undo them otherwise) */
  private readonly held: Array<() => void> = [];
  private preparedFlag = false;
  /** the open transaction's counts, added to the counters when it commits */
  private pending = { windowsClosed: 0, kpisEmitted: 0, lateRecords: 0 };
  /** late records of the messages applied since the last commit (applied ahead of a prepare, or in it) */
  private lateApplied = 0;
  private totals = { windowsClosed: 0, kpisEmitted: 0, lateRecords: 0, messagesSkipped: 0 };
  /** what the prepared transaction returned (its offsets and values become the committed ones) */
  private preparedOut: KpiPrepared | null = null;
  /** the KPI values of the transaction being prepared, back to back; their keys and ends */
  private json = new ByteWriter(MERGE_DEFAULTS.jsonBytes);
  private kpiKeys: string[] = [];
  private kpiEnds: number[] = [];

  constructor(options: KpiMergeOptions) {
    if (!Number.isInteger(options.windowMs) || options.windowMs < 1) throw new KpiUsageError(`window_ms must be a positive integer, got ${options.windowMs}`);
    if (!Number.isInteger(options.rawPartitions) || options.rawPartitions < 1) {
      throw new KpiUsageError(`the raw partition count must be a positive integer, got ${options.rawPartitions}`);
    }
    this.windowMs = options.windowMs;
    this.latenessMs = options.latenessMs ?? DEFAULTS.kpis.lateness_ms;
    this.rawPartitions = options.rawPartitions;
    this.rules = options.rules ?? [];
    this.shardCount = options.shards;
    const dims = options.dimensions ?? DIMENSIONS;
    this.countingDim = Math.min(...dims.map(dimensionCode));
    this.rulesByDim = Array.from({ length: DIM_COUNT }, () => []);
    for (const r of this.rules) this.rulesByDim[dimensionCode(r.dimension)].push(r);
  }

  /** Is a transaction prepared and not settled? */
  get prepared(): boolean {
    return this.preparedFlag;
  }

  /** The shards owned. */
  owned(): number[] {
    return [...this.shards.keys()].sort((a, b) => a - b);
  }

  /**
   * Takes a shard (a partials partition assigned to this instance) with the state values read back from the state
   * topic under its keys (`s<shard>` and `s<shard>:a:…`; none for a fresh shard). Its messages are then read from
   * the committed partials offset. Held until `settle` while a transaction is prepared.
   */
  assign(shard: number, stateValues: readonly Uint8Array[]): void {
    if (this.preparedFlag) {
      this.held.push(() => this.assign(shard, stateValues));
      return;
    }
    const s = new Shard(shard, this.rawPartitions, this.windowMs, this.countingDim);
    for (const bytes of stateValues) {
      const v = decodeStateValue(bytes, { what: 'KPI state value', shard });
      if (v.shard !== shard) throw new KpiFormatError({ what: 'KPI state value', shard }, 'shard_mismatch', `a value of shard ${v.shard} given for shard ${shard}`);
      if (v.kind === 'shard') {
        s.marks.extendTo(v.rawPartitions);
        for (const m of v.marks) s.marks.apply(m.partition, m.timeMs, m.idle);
        s.closedThroughMs = v.closedThroughMs;
        s.lateCountedThrough = v.lateCountedThrough;
        s.committed.value = Buffer.from(bytes);
      } else {
        s.alarms.set(alarmStateKey(shard, v), { rule: v.rule, dimension: v.dimension, key: v.key, raiseEndMs: v.raiseEndMs });
      }
    }
    s.committed = { ...s.committed, marks: s.marks.copy(), closedThroughMs: s.closedThroughMs, lateCountedThrough: s.lateCountedThrough };
    this.shards.set(shard, s);
  }

  /** Drops a shard (revoked); its later messages are skipped. Held until `settle` while a transaction is prepared. */
  forget(shard: number): void {
    if (this.preparedFlag) {
      this.held.push(() => this.forget(shard));
      return;
    }
    this.shards.delete(shard);
  }

  /**
   * One message of the partials topic (read_committed), read from `shard` at `offset`: its header is checked now (a
   * message of another window size, shard or shard count throws KpiFormatError naming the shard and offset) and it is
   * staged; `prepare` reads its chunks (bytes that do not read fail that prepare, naming the shard and offset: discard
   * then). The bytes must not change until then.
   */
  receive(shard: number, offset: number, bytes: Uint8Array): void {
    const s = this.shards.get(shard);
    if (s === undefined) {
      this.totals.messagesSkipped++;
      return;
    }
    const { reader, header } = openPartialsMessage(bytes, shard, offset, this.windowMs);
    if (this.shardCount !== undefined && header.shards !== this.shardCount) {
      throw new KpiFormatError(
        reader.origin,
        'shard_mismatch',
        `written by an instance with ${header.shards} shards, this one has ${this.shardCount} (the partials topic's partition count changed?)`,
      );
    }
    s.staged.push({ offset, bytes });
  }

  /**
   * Applies the staged messages now, between transactions, so that a prepare has only the window closes left to do
   * (the commit waits for the prepare). Nothing is decided here: the frontier moves only in a prepare, and a discard
   * drops what was applied with everything else. Not while a transaction is prepared (its state is being committed).
   */
  applyStaged(): void {
    if (this.preparedFlag) return;
    for (const s of this.shards.values()) if (s.staged.length > 0) this.apply(s);
  }

  /** Messages staged and not applied yet. */
  get stagedMessages(): number {
    let n = 0;
    for (const s of this.shards.values()) n += s.staged.length;
    return n;
  }

  /**
   * Opens a transaction: applies every staged message, closes every window the watermark has passed, and returns
   * the KPI objects, alarm decisions, partials offsets and state values to write with it. Settle it before the next.
   */
  prepare(nowMs: number = Date.now()): KpiPrepared {
    void nowMs;
    if (this.preparedFlag) throw new KpiUsageError('prepare while a transaction is prepared (settle it first)');
    // (a message that fails to read leaves the transaction prepared and half applied: the caller discards)
    this.preparedFlag = true;
    this.pending = { windowsClosed: 0, kpisEmitted: 0, lateRecords: 0 };
    const out: KpiPrepared = { kpis: [], alarms: [], offsets: [], state: [], worstCells: [], counters: this.counters() };
    this.json.reset();
    this.kpiKeys = [];
    this.kpiEnds = [];
    for (const s of this.shards.values()) this.apply(s);
    this.pending.lateRecords = this.lateApplied;
    for (const s of this.shards.values()) {
      this.close(s, out);
      const first = s.store.firstOffset();
      const offset = first >= 0 ? first : s.appliedThrough >= 0 ? s.appliedThrough + 1 : s.committed.offset;
      if (offset >= 0) out.offsets.push({ shard: s.id, offset });
      const value = this.shardValue(s);
      if (s.committed.value === null || !value.equals(s.committed.value)) out.state.push({ key: shardStateKey(s.id), value });
      for (const key of s.alarmJournal.keys()) {
        const a = s.alarms.get(key);
        out.state.push({ key, value: a === undefined ? null : encodeAlarmState(s.id, a) });
      }
    }
    // one buffer of its own for the transaction's KPI values (the writer's is reused), a view per value; a writer
    // grown by a large window close gives its memory back
    const values = Buffer.from(this.json.buf.slice(0, this.json.pos).buffer, 0, this.json.pos);
    if (this.json.buf.length > MERGE_DEFAULTS.keptJsonBytes) this.json = new ByteWriter(MERGE_DEFAULTS.jsonBytes);
    for (let i = 0, from = 0; i < this.kpiKeys.length; i++) {
      out.kpis.push({ key: this.kpiKeys[i], value: values.subarray(from, this.kpiEnds[i]) });
      from = this.kpiEnds[i];
    }
    out.counters = this.counters();
    this.preparedOut = out;
    return out;
  }

  /** Closes the prepared transaction: committed, it is the new committed state; not committed, as `discard`. */
  settle(committed: boolean): void {
    if (!this.preparedFlag) {
      if (!committed) this.discard();
      return;
    }
    if (!committed) {
      this.discard();
      return;
    }
    const out = this.preparedOut!;
    const offsets = new Map(out.offsets.map((o) => [o.shard, o.offset]));
    const values = new Map(out.state.map((v) => [v.key, v.value]));
    for (const s of this.shards.values()) {
      const value = values.get(shardStateKey(s.id));
      s.committed = {
        marks: s.marks.copy(),
        closedThroughMs: s.closedThroughMs,
        lateCountedThrough: s.lateCountedThrough,
        offset: offsets.get(s.id) ?? s.committed.offset,
        value: value === undefined ? s.committed.value : value,
      };
      s.alarmJournal.clear();
      s.late = 0;
    }
    this.totals.windowsClosed += this.pending.windowsClosed;
    this.totals.kpisEmitted += this.pending.kpisEmitted;
    this.totals.lateRecords += this.pending.lateRecords;
    this.endTransaction();
  }

  /**
   * Puts every shard back to its last committed state (frontier, marks, late-counted offset, open alarms) and drops
   * every window aggregate and staged message: rewind the partials partitions to their committed offsets next.
   */
  discard(): void {
    for (const s of this.shards.values()) {
      const c = s.committed;
      s.marks = c.marks.copy();
      s.closedThroughMs = c.closedThroughMs;
      s.lateCountedThrough = c.lateCountedThrough;
      for (const [key, before] of s.alarmJournal) {
        if (before === undefined) s.alarms.delete(key);
        else s.alarms.set(key, before);
      }
      s.alarmJournal.clear();
      s.store.clear();
      s.staged = [];
      s.late = 0;
      s.nextOffset = c.offset;
      s.appliedThrough = c.offset >= 0 ? c.offset - 1 : -1;
    }
    this.endTransaction();
  }

  /** Would a `prepare` now do anything: staged messages, or a window the watermark has passed? */
  due(nowMs: number = Date.now()): boolean {
    void nowMs;
    for (const s of this.shards.values()) {
      if (s.staged.length > 0) return true;
      if (s.store.windowCount > 0 && s.store.firstWindow() <= this.closableThrough(s)) return true;
    }
    return false;
  }

  counters(): KpiMergeCounters {
    let openAlarms = 0;
    let keysHeld = 0;
    let windowsHeld = 0;
    let latenciesHeld = 0;
    let stateBytes = 0;
    let staged = 0;
    let watermarkMs = Infinity;
    for (const s of this.shards.values()) {
      const wm = s.marks.watermark();
      if (wm < watermarkMs) watermarkMs = wm;
      openAlarms += s.alarms.size;
      keysHeld += s.store.active;
      windowsHeld += s.store.windowCount;
      latenciesHeld += s.store.latencies;
      stateBytes += s.store.byteSize();
      staged += s.staged.length;
    }
    return {
      ...this.totals,
      openAlarms,
      keysHeld,
      windowsHeld,
      latenciesHeld,
      stateBytes,
      shards: this.shards.size,
      stagedMessages: staged,
      watermarkMs: this.shards.size === 0 ? -Infinity : watermarkMs,
    };
  }

  // ── inside a transaction

  private endTransaction(): void {
    this.preparedFlag = false;
    this.preparedOut = null;
    this.pending = { windowsClosed: 0, kpisEmitted: 0, lateRecords: 0 };
    this.lateApplied = 0;
    for (const h of this.held.splice(0)) h();
  }

  /** Applies a shard's staged messages in order; one read again below the next expected offset is skipped. */
  private apply(s: Shard): void {
    const staged = s.staged;
    s.staged = [];
    for (const m of staged) {
      if (s.nextOffset >= 0 && m.offset < s.nextOffset) {
        this.totals.messagesSkipped++;
        continue;
      }
      const { reader, header } = openPartialsMessage(m.bytes, s.id, m.offset, this.windowMs);
      for (const mark of header.marks) s.marks.apply(mark.partition, mark.timeMs, mark.idle);
      s.at(m.offset);
      this.reader.readChunks(reader, s);
      s.applied();
    }
    this.lateApplied += s.late;
    s.late = 0;
  }

  /** The last window index the shard's watermark allows to close; -Infinity when none. */
  private closableThrough(s: Shard): number {
    const wm = s.marks.watermark();
    if (!(wm > -Infinity)) return -Infinity;
    return Math.floor((wm - this.latenessMs) / this.windowMs) - 1;
  }

  /** Closes the windows the watermark has passed; emits their KPI objects and the rules' decisions. */
  private close(s: Shard, out: KpiPrepared): void {
    const last = this.closableThrough(s);
    if (last === -Infinity) return;
    const throughMs = (last + 1) * this.windowMs;
    if (throughMs <= s.closedThroughMs) return;
    const W = this.windowMs;
    const store = s.store;
    const json = this.json;
    const writer = s.writer;
    let times = windowTimes(0, W);
    let timesOf = -1;
    const ranks = new CellRanking();
    json.ensure(store.entriesThrough(last) * TYPICAL_KPI_JSON_BYTES);
    this.pending.windowsClosed += store.closeThrough(last, (e, window) => {
      if (window !== timesOf) {
        if (timesOf >= 0) ranks.flush(timesOf * W, out.worstCells);
        times = windowTimes(window, W);
        timesOf = window;
      }
      if (store.dim[e] === DIM_CELL) ranks.offer(store, e);
      writer.write(json, e, times);
      const dim = store.dim[e];
      const key = store.keyText(e);
      this.kpiKeys.push(`${DIMENSIONS[dim]}:${key}`);
      this.kpiEnds.push(json.pos);
      this.pending.kpisEmitted++;
      const rules = this.rulesByDim[dim];
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i];
        const stateKey = alarmStateKey(s.id, { rule: rule.name, dimension: rule.dimension, key });
        const open = s.alarms.get(stateKey);
        const reading = readKpi(rule.kpi, store.fields, e * MEASURES, writer.latencyCount, writer.latencyP95);
        const d = decide(rule, reading, open !== undefined);
        if (d === 0) continue;
        if (!s.alarmJournal.has(stateKey)) s.alarmJournal.set(stateKey, open);
        const endMs = (window + 1) * W;
        const raiseEndMs = d === RAISE ? endMs : open!.raiseEndMs;
        if (d === RAISE) s.alarms.set(stateKey, { rule: rule.name, dimension: rule.dimension, key, raiseEndMs });
        else if (d === CLEAR) s.alarms.delete(stateKey);
        out.alarms.push({
          alarmId: kpiAlarmId(rule.name, rule.dimension, key, raiseEndMs),
          rule: rule.name,
          state: d === RAISE ? 'raised' : 'cleared',
          dimension: rule.dimension,
          key,
          kpi: rule.kpi,
          value: reading.value!,
          threshold: thresholdOf(rule),
          attempts: reading.attempts,
          windowStartMs: window * W,
          windowEndMs: endMs,
        });
      }
    });
    if (timesOf >= 0) ranks.flush(timesOf * W, out.worstCells);
    s.closedThroughMs = throughMs;
  }

  private shardValue(s: Shard): Buffer {
    return encodeShardState({
      shard: s.id,
      windowMs: this.windowMs,
      closedThroughMs: s.closedThroughMs,
      lateCountedThrough: s.lateCountedThrough,
      rawPartitions: Math.max(this.rawPartitions, s.marks.count),
      marks: s.marks.list(),
    });
  }
}

/**
 * The worst cells of one window on one shard, by drop rate (call drops per successful session) and by session
 * success rate: bounded insertion into two lists of CELL_RANKS.top, nothing per cell that does not rank.
 */
class CellRanking {
  private readonly byDrops: Array<{ e: number; v: number; rank: CellRank }> = [];
  private readonly bySuccess: Array<{ e: number; v: number; rank: CellRank }> = [];

  offer(store: KpiWindowStore, e: number): void {
    const f = store.fields;
    const b = e * MEASURES;
    const sa = f[b + M_SESSION_ATTEMPTS];
    const ss = f[b + M_SESSION_SUCCESSES];
    if (ss >= CELL_RANKS.minSessions) this.insert(this.byDrops, store, e, f[b + M_CALL_DROPS] / ss, true);
    if (sa >= CELL_RANKS.minSessions) this.insert(this.bySuccess, store, e, ss / sa, false);
  }

  /** Appends the window's ranked cells (each once) to `out` and starts the next window. */
  flush(windowStartMs: number, out: CellRank[]): void {
    const seen = new Set<string>();
    for (const r of [...this.byDrops, ...this.bySuccess]) {
      if (seen.has(r.rank.key)) continue;
      seen.add(r.rank.key);
      r.rank.windowStartMs = windowStartMs;
      out.push(r.rank);
    }
    this.byDrops.length = 0;
    this.bySuccess.length = 0;
  }

  /** Keeps the list sorted worst first: highest values when `high`, lowest otherwise. */
  private insert(list: Array<{ e: number; v: number; rank: CellRank }>, store: KpiWindowStore, e: number, v: number, high: boolean): void {
    const worse = (a: number, c: number) => (high ? a > c : a < c);
    if (list.length === CELL_RANKS.top && !worse(v, list[list.length - 1].v)) return;
    const f = store.fields;
    const b = e * MEASURES;
    const rank: CellRank = {
      windowStartMs: 0,
      key: store.keyText(e),
      records: f[b + M_RECORDS],
      sessionAttempts: f[b + M_SESSION_ATTEMPTS],
      sessionSuccesses: f[b + M_SESSION_SUCCESSES],
      callDrops: f[b + M_CALL_DROPS],
    };
    let i = list.length;
    while (i > 0 && worse(v, list[i - 1].v)) i--;
    list.splice(i, 0, { e, v, rank });
    if (list.length > CELL_RANKS.top) list.pop();
  }
}
