// The alarm thread's logic without the thread: feed rings in, window state moved one transaction at a time, alarm decisions and changelog entries out.
//
// The state follows the transactions of the pipeline, not the decode workers: a worker's entries are only staged
// (per ring, closed by a batch mark), and `prepare(seq)` applies the batches up to `seq` (those whose records the
// transaction about to commit holds), evaluates the windows, and returns the alarms decided and the changelog
// values of what changed (state-codec.ts: per partition, and per equipment of it). The window stores journal that step,
// so `settle(false)` after an abort puts the state back exactly as the last commit left it, and the batches read
// again after the rewind count once. Whatever the pipeline committed is thus exactly the state its offsets describe,
// across a crash too: the next owner of a partition reads its changelog back.

import {
  E_EQUIPMENT,
  E_PARTITION_FLAGS,
  ENTRY_WORDS,
  entryTime,
  FeedReader,
  FLAG_BATCH,
  FLAG_FAILURE,
  FLAG_PROGRESS,
  type FeedChannel,
} from './feed.js';
import { NO_MAINTENANCE, RuleSet, type AlarmEvent, type RuleOptions, type RuleSpec } from './rules.js';
import { WatermarkTracker } from './watermark.js';
import { ALARM_INTERNALS } from '../config/internals.js';
import { encodeEquipmentValue, encodePartitionValue, indexDeferred, type ChangelogEntry } from './state-codec.js';

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
  /** entries staged, waiting for their transaction */
  staged: number;
  /** per rule (the config's, so a bounded set): failures counted into its windows, its open alarms */
  rules: Array<{ name: string; counted: number; open: number }>;
}

export type { ChangelogEntry };

/** What one transaction adds to the alarm side: the decisions, and the state changes to write with them. */
export interface Prepared {
  events: AlarmEvent[];
  entries: ChangelogEntry[];
}

/**
 * A ring's entries popped and not applied yet: whole batches (each closed by its mark) and the open one after them.
 * A ring's batches need not arrive in dispatch order (Piscina ran one worker's tasks out of order before the pool was
 * made first in, first out: batch 28 fed before 27; several workers feed several rings), so a transaction takes its
 * batches by number wherever they sit.
 */
class Stage {
  words = new Uint32Array(4 * 1024 * ENTRY_WORDS);
  used = 0;
  /** the batches `take` selected, one after the other in ring order */
  taken = new Uint32Array(4 * 1024 * ENTRY_WORDS);
  push(buf: Uint32Array, n: number): void {
    const need = this.used + n * ENTRY_WORDS;
    if (need > this.words.length) this.words = grown(this.words, this.used, need);
    this.words.set(buf.subarray(0, n * ENTRY_WORDS), this.used);
    this.used = need;
  }
  /**
   * Moves every whole batch numbered <= seq (its entries and its mark) into `taken`, and keeps the others and the
   * open batch in place, all in ring order; returns where each batch taken lies in `taken` (in entries). The caller
   * orders the batches of every stage by number before applying them.
   */
  take(seq: number): TakenBatch[] {
    const w = this.words;
    const n = this.used / ENTRY_WORDS;
    const picked: Array<{ seq: number; from: number; to: number }> = [];
    let start = 0; // first entry of the current batch
    for (let i = 0; i < n; i++) {
      if (((w[i * ENTRY_WORDS + E_PARTITION_FLAGS] >>> 16) & FLAG_BATCH) === 0) continue;
      const mark = entryTime(w, i);
      if (mark <= seq) picked.push({ seq: mark, from: start, to: i + 1 });
      start = i + 1;
    }
    if (picked.length === 0) return [];
    let total = 0;
    for (const b of picked) total += b.to - b.from;
    if (total * ENTRY_WORDS > this.taken.length) this.taken = grown(this.taken, 0, total * ENTRY_WORDS);
    const out: TakenBatch[] = [];
    let at = 0;
    for (const b of picked) {
      this.taken.set(w.subarray(b.from * ENTRY_WORDS, b.to * ENTRY_WORDS), at * ENTRY_WORDS);
      out.push({ seq: b.seq, stage: this, at, entries: b.to - b.from });
      at += b.to - b.from;
    }
    // compact what stays (batches of later transactions, then the open batch), in ring order
    let kept = 0;
    let from = 0;
    for (const b of picked) {
      if (b.from > from) {
        w.copyWithin(kept * ENTRY_WORDS, from * ENTRY_WORDS, b.from * ENTRY_WORDS);
        kept += b.from - from;
      }
      from = b.to;
    }
    if (n > from) {
      w.copyWithin(kept * ENTRY_WORDS, from * ENTRY_WORDS, n * ENTRY_WORDS);
      kept += n - from;
    }
    this.used = kept * ENTRY_WORDS;
    return out;
  }
}

/** One batch a transaction takes: `entries` entries (its mark last) at entry `at` of its stage's `taken`. */
interface TakenBatch {
  seq: number;
  stage: Stage;
  at: number;
  entries: number;
}

/** A copy of `a`'s first `used` words in an array of at least `need` words (doubling). */
function grown(a: Uint32Array, used: number, need: number): Uint32Array<ArrayBuffer> {
  let size = a.length * 2;
  while (size < need) size *= 2;
  const b = new Uint32Array(size);
  b.set(a.subarray(0, used));
  return b;
}

export class AlarmCore {
  readonly rules: RuleSet;
  readonly watermark: WatermarkTracker;
  readonly readers: FeedReader[] = [];
  private readonly stages: Stage[] = [];
  private readonly buf: Uint32Array;
  /** 1 for partitions forgotten (revoked) and not assigned again: their late entries are dropped, not counted */
  private closed = new Uint8Array(0);
  /** 1 for partitions whose entries were applied in the open transaction */
  private seen = new Uint8Array(0);
  /**
   * Partitions whose state was restored here and that no transaction has listed as owned yet: the rebalance restores a
   * partition before the consumer holds it, and a transaction in between (other partitions' records, windows due)
   * may decide its windows; their state must go with those alarms.
   */
  private readonly takenUp = new Set<number>();
  /** the open transaction: what `settle(false)` puts back besides the window stores' journals */
  private undo: { watermark: ReturnType<WatermarkTracker['save']>; frontiers: number[] } | null = null;
  records = 0;
  failures = 0;
  /** entries of forgotten partitions that still arrived (dropped: the partition's next owner counts them) */
  closedDropped = 0;

  constructor(specs: readonly RuleSpec[], idleTimeoutMs: number = ALARM_INTERNALS.idleTimeoutMs, options: RuleOptions = {}) {
    this.rules = new RuleSet(specs, NO_MAINTENANCE, options);
    this.watermark = new WatermarkTracker(idleTimeoutMs);
    this.buf = new Uint32Array(ALARM_INTERNALS.pollEntries * ENTRY_WORDS);
  }

  attach(channel: FeedChannel): void {
    this.readers.push(new FeedReader(channel));
    this.stages.push(new Stage());
  }

  /** Is a transaction prepared and not settled? */
  get prepared(): boolean {
    return this.undo !== null;
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
   * The state of `partitions` was restored here (restoreState calls it): until a transaction lists them as owned, each
   * transaction writes their changelog values too. Their state is then this instance's, from the restore on.
   */
  takeUp(partitions: readonly number[]): void {
    for (const p of partitions) this.takenUp.add(p);
  }

  /**
   * Drops the state of revoked partitions: the equipment they own (open alarms included), their deferred events
   * and their watermarks; later entries from them are dropped until they are assigned again.
   * Call it once their last transaction has settled, so a later assignment restores their changelog into nothing
   * and counts nothing twice. Returns the slots released.
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
    for (const p of partitions) {
      this.closed[p] = 1;
      this.takenUp.delete(p);
    }
    let released = 0;
    for (const rule of this.rules.rules) released += rule.store.forget(this.closed);
    this.watermark.revoke(partitions);
    return released;
  }

  // ── direct use (tests, benchmarks): entries count as soon as they are read

  /** Pops every ring until empty and applies everything at once (batch marks are skipped); returns the entries. */
  drain(nowMs: number): number {
    return this.pollRings((_, buf, n) => this.consume(buf, n, nowMs));
  }

  /** Pops every ring until empty, handing each polled run of entries to `take` (ring index, buffer, count). */
  private pollRings(take: (ring: number, buf: Uint32Array, n: number) => void): number {
    let total = 0;
    for (let r = 0; r < this.readers.length; r++) {
      for (;;) {
        const n = this.readers[r].poll(this.buf);
        if (n === 0) break;
        take(r, this.buf, n);
        total += n;
      }
    }
    return total;
  }

  /** Evaluates every window the watermark has passed. */
  advance(nowMs: number, out: AlarmEvent[] = []): AlarmEvent[] {
    return this.rules.advance(this.watermark.watermark(nowMs), out);
  }

  // ── the transactional use (the daemon)

  /** Pops every ring into its stage (nothing is applied); returns the entries popped. */
  stage(): number {
    return this.pollRings((r, buf, n) => this.stages[r].push(buf, n));
  }

  /** Entries staged in all rings. */
  stagedEntries(): number {
    let n = 0;
    for (const s of this.stages) n += s.used / ENTRY_WORDS;
    return n;
  }

  /**
   * Opens a transaction: applies every staged batch numbered <= `throughSeq`, evaluates the windows the watermark
   * has passed, and returns the decisions and the changelog values of the partitions of `owned` that changed (all
   * of them when a frontier moved) and of each equipment changed in them. Settle it with `settle` before the next.
   */
  prepare(throughSeq: number, nowMs: number, owned: readonly number[]): Prepared {
    if (this.undo !== null) throw new Error('alarm core: prepare while a transaction is open (settle it first)');
    this.stage();
    this.undo = { watermark: this.watermark.save(), frontiers: this.rules.rules.map((r) => r.store.lastBucket) };
    for (const r of this.rules.rules) r.store.begin();
    this.seen.fill(0);
    // every ring's batches of this transaction, applied in batch order (the order their records were read in)
    const batches: TakenBatch[] = [];
    for (const st of this.stages) batches.push(...st.take(throughSeq));
    batches.sort((a, b) => a.seq - b.seq);
    for (const b of batches) this.consume(b.stage.taken.subarray(b.at * ENTRY_WORDS, (b.at + b.entries) * ENTRY_WORDS), b.entries, nowMs);
    const events = this.advance(nowMs);
    return { events, entries: this.changelog(owned) };
  }

  /** Closes the transaction `prepare` opened: kept when it committed, put back when it aborted. */
  settle(committed: boolean): void {
    const undo = this.undo;
    if (undo === null) return;
    this.undo = null;
    if (committed) {
      for (const r of this.rules.rules) {
        r.store.end();
        r.store.rewound.length = 0;
      }
      return;
    }
    for (const r of this.rules.rules) r.store.rollback();
    this.watermark.restore(undo.watermark);
  }

  /**
   * After an abort, once every batch in flight has settled: puts back the open transaction, if any, and drops every
   * staged entry (their batches are read again after the rewind, with new numbers).
   */
  discard(): void {
    this.settle(false);
    this.stage();
    for (const st of this.stages) st.used = 0;
  }

  /** The changelog values of the open transaction: per owned partition changed, its value and its equipment's. */
  private changelog(owned: readonly number[]): ChangelogEntry[] {
    const isOwned = new Set(owned);
    // a partition restored and not yet in the consumer's assignment is ours already: what is decided for it now is
    // written now (once listed as owned, the pipeline's list alone says when its state stops being ours)
    for (const p of this.takenUp) {
      if (isOwned.has(p)) this.takenUp.delete(p);
      else isOwned.add(p);
    }
    const partitions = new Set<number>();
    if (this.undo!.frontiers.some((f, i) => !Object.is(f, this.rules.rules[i].store.lastBucket))) for (const p of isOwned) partitions.add(p);
    for (let p = 0; p < this.seen.length; p++) if (this.seen[p] === 1 && isOwned.has(p)) partitions.add(p);
    // equipment changed, per partition that held or holds it
    const changed = new Map<number, Set<number>>();
    const pair = (p: number, eq: number): void => {
      if (!isOwned.has(p)) return;
      let set = changed.get(p);
      if (set === undefined) changed.set(p, (set = new Set()));
      set.add(eq);
    };
    for (const r of this.rules.rules) {
      const st = r.store;
      for (let j = 0; j < st.journalCount; j++) {
        const eq = st.journalKey(j);
        if (st.journalHad(j)) pair(st.journalPart(j), eq);
        const s = st.find(eq);
        if (s >= 0) pair(st.part[s], eq);
      }
      st.forEachDeferredChange(pair);
      // slots marked decided by a frontier rewind (a restore) since the last commit: their mark goes with the frontier
      for (const eq of st.rewound) {
        const s = st.find(eq);
        if (s >= 0) pair(st.part[s], eq);
      }
    }
    const out: ChangelogEntry[] = [];
    for (const p of changed.keys()) partitions.add(p);
    for (const p of partitions) out.push({ partition: p, equipment: undefined, state: encodePartitionValue(this, p) });
    if (changed.size > 0) {
      const deferred = indexDeferred(this);
      for (const [p, eqs] of changed) for (const eq of eqs) out.push({ partition: p, equipment: eq, state: encodeEquipmentValue(this, p, eq, deferred) });
    }
    return out;
  }

  /** Applies `n` entries of `buf`. The per-entry path allocates nothing. */
  consume(buf: Uint32Array, n: number, nowMs: number): void {
    const wm = this.watermark;
    const rules = this.rules;
    const closed = this.closed;
    for (let i = 0; i < n; i++) {
      const w = i * ENTRY_WORDS;
      const pf = buf[w + E_PARTITION_FLAGS];
      const flags = pf >>> 16;
      if ((flags & FLAG_BATCH) !== 0) continue;
      const p = pf & 0xffff;
      if (closed[p] === 1) {
        this.closedDropped++;
        continue;
      }
      if (p >= this.seen.length) this.growSeen(p);
      this.seen[p] = 1;
      const t = entryTime(buf, i);
      wm.observe(p, t, nowMs);
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

  private growSeen(p: number): void {
    const s = new Uint8Array(Math.max(p + 1, this.seen.length * 2, 16));
    s.set(this.seen);
    this.seen = s;
  }

  /**
   * Would `prepare` evaluate a window now? True when the watermark has passed the next window end of some rule (or
   * fixes a first frontier): with no record flowing, the daemon then commits a transaction of alarms alone.
   */
  due(nowMs: number): boolean {
    const base = this.watermark.watermark(nowMs);
    for (const r of this.rules.rules) {
      const w = base - r.spec.lateness_ms;
      if (!(w > -Infinity)) continue;
      const st = r.store;
      const last = st.lastBucket;
      if (last !== last) {
        if (st.deferredCount > 0 || st.active > 0) return true;
        continue;
      }
      if (Math.floor(w / st.slideMs) > last && (st.active > 0 || st.deferredCount > 0)) return true;
    }
    return false;
  }

  counters(nowMs: number): AlarmCoreCounters {
    let lateDropped = 0;
    let lateCounted = 0;
    let deferred = 0;
    let fullDropped = 0;
    let active = 0;
    let open = 0;
    const rules: AlarmCoreCounters['rules'] = [];
    for (const r of this.rules.rules) {
      lateDropped += r.store.lateDropped;
      lateCounted += r.store.lateCounted;
      deferred += r.store.deferredCount;
      fullDropped += r.store.fullDropped;
      active += r.store.active;
      const ruleOpen = r.openAlarms();
      open += ruleOpen;
      rules.push({ name: r.spec.name, counted: r.store.counted, open: ruleOpen });
    }
    return {
      records: this.records,
      failures: this.failures,
      lateDropped,
      lateCounted,
      deferred,
      fullDropped,
      openAlarms: open,
      activeEquipment: active,
      watermarkMs: this.watermark.watermark(nowMs),
      staged: this.stagedEntries(),
      rules,
    };
  }
}
