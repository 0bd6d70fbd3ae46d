// Per-rule, per-equipment failure counts in event-time sliding windows, kept as per-slide buckets in typed arrays.
//
// Time is cut into buckets of slide_ms (bucket b = [b·slide, (b+1)·slide)). The window ending at e·slide covers the
// k = window_ms / slide_ms buckets e-k … e-1. Each active equipment owns a slot: a circular array of R = k + ahead
// bucket counts, indexed by bucket number mod R, plus the newest bucket written (`head`) and its open alarm.
//
// The store keeps a frontier: `lastBucket`, the end (in buckets) of the last window evaluated. Every bucket still
// needed by a window not yet evaluated lies in [lowB, lowB + R) with lowB = lastBucket - k + 1, so a slot's ring can
// never overwrite a bucket some pending window still needs:
// - an event below lowB belongs only to evaluated windows: it is dropped and counted (`lateDropped`);
// - an event at or past lowB + R is too far ahead of the watermark for the ring: it is parked in the deferred list
//   (typed arrays, no allocation per record) and counted in once the frontier has moved close enough;
// - before the first evaluation the frontier is unknown: events are deferred until the first watermark fixes it.
// An equipment with no open alarm whose newest bucket no pending window covers is evicted, so memory follows the
// equipment that failed within the last window, not every equipment ever seen.
//
// Each slot and each deferred event also carries the input partition its failures came from, so the state of some
// partitions can be written to the changelog, handed to another instance and dropped here (core.ts). Equipment is keyed
// onto one partition by the producers; when one equipment arrives on several partitions, the partition of its latest
// counted failure owns the whole slot (the latest wins), and the slot moves with that partition.
//
// A journal makes one transaction's changes undoable and listable: between `begin()` and `end()` (or `rollback()`), the
// first change to an equipment records its state before the transaction (or that it had none), the frontier and
// the deferred list are saved whole. `rollback()` puts all of it back when the transaction aborts; the journal's
// keys are also what the transaction's changelog values write (core.ts).

import { LuxError } from '../errors.js';
import { ALARM_INTERNALS } from '../config/internals.js';

/** Result of `WindowStore.add`. */
export const ADD_COUNTED = 0;
/** The event belongs only to windows already evaluated: dropped (metric `lateDropped`). */
export const ADD_LATE = 1;
/** The event is ahead of what the ring can hold (or the frontier is not known yet): parked until it fits. */
export const ADD_DEFERRED = 2;
/** `maxEquipment` slots are in use: dropped (metric `fullDropped`). */
export const ADD_FULL = 3;

export interface WindowGeometry {
  readonly windowMs: number;
  readonly slideMs: number;
  /** Extra buckets the ring holds beyond one window, for events ahead of the watermark (lateness, partition skew). */
  readonly aheadSlides: number;
  /** Slots allocated up front; the store doubles when full. */
  readonly initialEquipment?: number;
  /** Hard cap on simultaneously active equipment (memory bound). */
  readonly maxEquipment?: number;
}

/** A bad window geometry: the key names the setting. */
export class WindowConfigError extends LuxError {
  constructor(key: string, message: string) {
    super('E_CONFIG', `${key}: ${message}`);
    this.name = 'WindowConfigError';
  }
}

function floorMod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

/** The counters a store keeps for metrics. */
export interface StoreMetrics {
  counted: number;
  lateDropped: number;
  lateCounted: number;
  fullDropped: number;
  deferredTotal: number;
}

/** A copy of `a` in a new array of `n` elements (n >= a.length). */
function grown<T extends Uint32Array | Uint8Array | Uint16Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a as never);
  return b;
}

function hashOf(id: number, shift: number): number {
  return Math.imul(id, 0x9e3779b1) >>> shift;
}

export class WindowStore {
  readonly windowMs: number;
  readonly slideMs: number;
  /** buckets per window */
  readonly k: number;
  /** buckets per slot ring */
  readonly ring: number;
  readonly maxEquipment: number;

  /** End bucket of the last evaluated window; NaN until the first watermark fixes the frontier. */
  lastBucket = NaN;

  // ── slots (index s); a slot is free when used[s] === 0
  capacity = 0;
  /** slots ever handed out; iteration bound */
  highWater = 0;
  /** slots in use */
  active = 0;
  keys = new Uint32Array(0);
  used = new Uint8Array(0);
  /** newest bucket written */
  head = new Float64Array(0);
  /** window end (ms) of the open alarm's raise; NaN when no alarm is open */
  open = new Float64Array(0);
  /** ring × capacity bucket counts */
  counts = new Uint32Array(0);
  /** input partition of the latest failure counted into the slot */
  part = new Uint16Array(0);
  /**
   * end bucket of the last window already evaluated for this slot elsewhere (state restored from an instance whose
   * frontier was ahead of ours): windows ending at or before it are not decided again. -Infinity for local slots.
   */
  done = new Float64Array(0);
  private free = new Int32Array(0);
  private freeTop = 0;

  // ── journal (see the file header); a slot is journaled once per transaction: touchedAt[s] === epoch
  private journaling = false;
  private epoch = 0;
  private touchedAt = new Uint32Array(0);
  /** journal records: equipment, whether it had a slot before, and that slot's fields */
  journalCount = 0;
  private jKey = new Uint32Array(64);
  private jHad = new Uint8Array(64);
  private jHead = new Float64Array(64);
  private jOpen = new Float64Array(64);
  private jPart = new Uint16Array(64);
  private jDone = new Float64Array(64);
  private jCounts = new Uint32Array(0);
  private savedLastBucket = NaN;
  private savedMetrics: StoreMetrics = { counted: 0, lateDropped: 0, lateCounted: 0, fullDropped: 0, deferredTotal: 0 };
  private savedDeferred: { eq: Uint32Array; bucket: Float64Array; n: Uint32Array; part: Uint16Array; min: number } | null = null;

  // ── hash index: slot + 1 per cell, 0 = empty; linear probing, backward-shift deletion
  private index = new Int32Array(0);
  private mask = 0;
  private shift = 32;

  // ── deferred events (too far ahead, or before the frontier is known)
  deferredCount = 0;
  private deferredEq = new Uint32Array(64);
  private deferredBucket = new Float64Array(64);
  private deferredN = new Uint32Array(64);
  private deferredPart = new Uint16Array(64);
  deferredMin = Infinity;

  // ── metrics (an aborted transaction's share is rolled back with it, so they count what was committed)
  /** failures counted into windows */
  counted = 0;
  lateDropped = 0;
  /** late events still counted into windows that are not evaluated yet */
  lateCounted = 0;
  fullDropped = 0;
  deferredTotal = 0;

  constructor(geometry: WindowGeometry, keyPrefix = 'window') {
    const { windowMs, slideMs, aheadSlides } = geometry;
    if (!Number.isSafeInteger(slideMs) || slideMs <= 0) {
      throw new WindowConfigError(`${keyPrefix}.slide_ms`, `must be a positive integer, got ${slideMs}`);
    }
    if (!Number.isSafeInteger(windowMs) || windowMs <= 0 || windowMs % slideMs !== 0) {
      throw new WindowConfigError(`${keyPrefix}.window_ms`, `must be a positive multiple of slide_ms (${slideMs}), got ${windowMs}`);
    }
    if (!Number.isInteger(aheadSlides) || aheadSlides < 1) {
      throw new WindowConfigError(`${keyPrefix}.ahead_slides`, `must be an integer >= 1, got ${aheadSlides}`);
    }
    this.windowMs = windowMs;
    this.slideMs = slideMs;
    this.k = windowMs / slideMs;
    this.ring = this.k + aheadSlides;
    this.maxEquipment = geometry.maxEquipment ?? ALARM_INTERNALS.maxEquipment;
    this.grow(Math.max(16, Math.min(geometry.initialEquipment ?? ALARM_INTERNALS.initialEquipment, this.maxEquipment)));
    this.jCounts = new Uint32Array(64 * this.ring);
  }

  // ── the journal

  /** Opens a transaction's journal: changes from here on can be rolled back, and are listed by `journalKey`. */
  begin(): void {
    this.journaling = true;
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.touchedAt.fill(0);
      this.epoch = 1;
    }
    this.journalCount = 0;
    this.savedLastBucket = this.lastBucket;
    this.savedMetrics = this.metrics();
    const d = this.exportDeferred();
    this.savedDeferred = { ...d, min: this.deferredMin };
  }

  /** Closes the journal, keeping the changes (the transaction committed). */
  end(): void {
    this.journaling = false;
    this.shrinkJournal();
    this.journalCount = 0;
    this.savedDeferred = null;
  }

  /** After a transaction that touched very many equipment (a mass eviction), gives the journal's memory back. */
  private shrinkJournal(): void {
    if (this.jKey.length <= 65536) return;
    const cap = Math.max(65536, 2 ** Math.ceil(Math.log2(Math.max(1, this.journalCount) * 2)));
    if (cap >= this.jKey.length) return;
    this.jKey = new Uint32Array(cap);
    this.jHad = new Uint8Array(cap);
    this.jHead = new Float64Array(cap);
    this.jOpen = new Float64Array(cap);
    this.jPart = new Uint16Array(cap);
    this.jDone = new Float64Array(cap);
    this.jCounts = new Uint32Array(cap * this.ring);
  }

  /** Equipment of journal record `i`, whether it had a slot before the transaction, and that slot's partition. */
  journalKey(i: number): number {
    return this.jKey[i];
  }
  journalHad(i: number): boolean {
    return this.jHad[i] === 1;
  }
  journalPart(i: number): number {
    return this.jPart[i];
  }

  /** Puts back the state of `begin()`: every journaled equipment as it was, the frontier and the deferred list. */
  rollback(): void {
    if (!this.journaling) return;
    this.journaling = false;
    const R = this.ring;
    // newest first, so an equipment journaled twice (released, then taken again) ends as its first record says
    for (let i = this.journalCount - 1; i >= 0; i--) {
      const eq = this.jKey[i];
      let s = this.find(eq);
      if (this.jHad[i] === 0) {
        if (s >= 0) this.release(s);
        continue;
      }
      if (s < 0) s = this.slotFor(eq, this.jHead[i]);
      if (s < 0) continue; // cannot happen: it held a slot before, and rollback only frees slots first
      this.head[s] = this.jHead[i];
      this.open[s] = this.jOpen[i];
      this.part[s] = this.jPart[i];
      this.done[s] = this.jDone[i];
      this.counts.set(this.jCounts.subarray(i * R, (i + 1) * R), s * R);
    }
    this.shrinkJournal();
    this.journalCount = 0;
    this.lastBucket = this.savedLastBucket;
    this.setMetrics(this.savedMetrics);
    const d = this.savedDeferred;
    if (d !== null) {
      const c = d.eq.length;
      if (this.deferredEq.length < c) {
        this.deferredEq = new Uint32Array(c);
        this.deferredBucket = new Float64Array(c);
        this.deferredN = new Uint32Array(c);
        this.deferredPart = new Uint16Array(c);
      }
      this.deferredEq.set(d.eq);
      this.deferredBucket.set(d.bucket);
      this.deferredN.set(d.n);
      this.deferredPart.set(d.part);
      this.deferredCount = c;
      this.deferredMin = d.min;
      this.savedDeferred = null;
    }
  }

  /** The metric counters, copied. */
  metrics(): StoreMetrics {
    return { counted: this.counted, lateDropped: this.lateDropped, lateCounted: this.lateCounted, fullDropped: this.fullDropped, deferredTotal: this.deferredTotal };
  }

  setMetrics(m: StoreMetrics): void {
    this.counted = m.counted;
    this.lateDropped = m.lateDropped;
    this.lateCounted = m.lateCounted;
    this.fullDropped = m.fullDropped;
    this.deferredTotal = m.deferredTotal;
  }

  /** Did the deferred list change since `begin()`? */
  deferredChanged(): boolean {
    const d = this.savedDeferred;
    if (d === null) return false;
    const c = this.deferredCount;
    if (d.eq.length !== c) return true;
    for (let i = 0; i < c; i++) {
      if (d.eq[i] !== this.deferredEq[i] || d.bucket[i] !== this.deferredBucket[i] || d.n[i] !== this.deferredN[i] || d.part[i] !== this.deferredPart[i]) return true;
    }
    return false;
  }

  /** Calls `fn` with the partition and equipment of every deferred event now and at `begin()`, if the list changed. */
  forEachDeferredChange(fn: (partition: number, equipment: number) => void): void {
    if (!this.deferredChanged()) return;
    for (let i = 0; i < this.deferredCount; i++) fn(this.deferredPart[i], this.deferredEq[i]);
    const d = this.savedDeferred;
    if (d !== null) for (let i = 0; i < d.eq.length; i++) fn(d.part[i], d.eq[i]);
  }

  /** Journals slot `s` before its first change in the open transaction. */
  touch(s: number): void {
    if (!this.journaling || this.touchedAt[s] === this.epoch) return;
    this.touchedAt[s] = this.epoch;
    const i = this.journalSlot();
    const R = this.ring;
    this.jKey[i] = this.keys[s];
    this.jHad[i] = 1;
    this.jHead[i] = this.head[s];
    this.jOpen[i] = this.open[s];
    this.jPart[i] = this.part[s];
    this.jDone[i] = this.done[s];
    this.jCounts.set(this.counts.subarray(s * R, (s + 1) * R), i * R);
  }

  private journalSlot(): number {
    if (this.journalCount === this.jKey.length) {
      const cap = this.jKey.length * 2;
      this.jKey = grown(this.jKey, cap);
      this.jHad = grown(this.jHad, cap);
      this.jHead = grown(this.jHead, cap);
      this.jOpen = grown(this.jOpen, cap);
      this.jPart = grown(this.jPart, cap);
      this.jDone = grown(this.jDone, cap);
      this.jCounts = grown(this.jCounts, cap * this.ring);
    }
    return this.journalCount++;
  }

  /** Bucket number of an event time. */
  bucketOf(timeMs: number): number {
    return Math.floor(timeMs / this.slideMs);
  }

  /** End (ms) of the next window to evaluate; NaN before the frontier is known. */
  nextEnd(): number {
    return (this.lastBucket + 1) * this.slideMs;
  }

  /** Counts one failure of `equipmentId` at `timeMs`, read from input `partition`. No allocation unless a table grows. */
  add(equipmentId: number, timeMs: number, partition = 0): number {
    return this.addBucket(equipmentId >>> 0, Math.floor(timeMs / this.slideMs), 1, partition);
  }

  /** Counts `n` failures of input `partition` into bucket `b`. */
  addBucket(eq: number, b: number, n: number, partition = 0): number {
    const last = this.lastBucket;
    if (last !== last) {
      this.defer(eq, b, n, partition);
      return ADD_DEFERRED;
    }
    const lowB = last - this.k + 1;
    if (b < lowB) {
      this.lateDropped += n;
      return ADD_LATE;
    }
    if (b >= lowB + this.ring) {
      this.defer(eq, b, n, partition);
      return ADD_DEFERRED;
    }
    const s = this.slotFor(eq, b);
    if (s < 0) {
      this.fullDropped += n;
      return ADD_FULL;
    }
    this.touch(s);
    this.part[s] = partition;
    const R = this.ring;
    const base = s * R;
    const h = this.head[s];
    if (b <= h - R) {
      // older than the slot's ring holds (only after a frontier rewind): its windows were all decided here
      this.lateDropped += n;
      return ADD_LATE;
    }
    if (b > h) {
      // clear the buckets between the old head and b: they now stand for newer bucket numbers
      const gap = b - h < R ? b - h : R;
      for (let i = 1; i <= gap; i++) this.counts[base + floorMod(b - gap + i, R)] = 0;
      this.head[s] = b;
    }
    this.counts[base + floorMod(b, R)] += n;
    this.counted += n;
    if (b < last) this.lateCounted += n;
    return ADD_COUNTED;
  }

  /** Failures of slot `s` in the window ending at bucket `e` (covering e-k … e-1). */
  windowCount(s: number, e: number): number {
    const R = this.ring;
    const base = s * R;
    const h = this.head[s];
    let sum = 0;
    const top = e - 1 < h ? e - 1 : h;
    for (let b = e - this.k; b <= top; b++) sum += this.counts[base + floorMod(b, R)];
    return sum;
  }

  /** Fixes the frontier from the first finite watermark: windows ending at or before it hold no counted data. */
  initFrontier(watermarkMs: number): void {
    if (this.lastBucket === this.lastBucket || !(watermarkMs > -Infinity)) return;
    const wb = Math.floor(watermarkMs / this.slideMs);
    this.lastBucket = this.deferredCount > 0 && this.deferredMin < wb ? this.deferredMin : wb;
    this.replayDeferred();
  }

  /**
   * Takes a frontier from restored state when this store has none yet: the restored frontier, or the oldest event
   * deferred here while the frontier was unknown if that is older (so nothing counted here becomes late).
   */
  adoptFrontier(lastBucket: number): void {
    if (this.lastBucket === this.lastBucket || lastBucket !== lastBucket) return;
    this.lastBucket = this.deferredCount > 0 && this.deferredMin < lastBucket ? this.deferredMin : lastBucket;
    this.replayDeferred();
  }

  /**
   * Moves the frontier back to `lastBucket` (a partition taken over from an instance that was behind: its windows
   * from there on are still to decide). The slots here have had every window through the old frontier decided: they
   * are marked so (`done`), and only the taken-over slots are decided for the windows in between.
   */
  rewindFrontier(lastBucket: number): void {
    const old = this.lastBucket;
    if (!(lastBucket < old)) return;
    for (let s = 0; s < this.highWater; s++) {
      if (this.used[s] === 1 && this.done[s] < old) {
        this.done[s] = old;
        this.rewound.push(this.keys[s]);
      }
    }
    this.lastBucket = lastBucket;
  }

  /**
   * Equipment whose slot `rewindFrontier` marked decided and that no committed transaction has written since. The mark
   * changes no count, so no journal lists it; yet the changelog must carry it, or the next owner reads the rewound
   * frontier alone and decides those windows again (core.ts writes them, and clears the list once committed).
   */
  rewound: number[] = [];

  /** Drops every slot and deferred event whose partition is marked in `partitions` (indexed by partition). */
  forget(partitions: Uint8Array): number {
    let released = 0;
    for (let s = 0; s < this.highWater; s++) {
      if (this.used[s] === 1 && partitions[this.part[s]] === 1) {
        this.release(s);
        released++;
      }
    }
    const n = this.deferredCount;
    let keep = 0;
    let min = Infinity;
    for (let i = 0; i < n; i++) {
      if (partitions[this.deferredPart[i]] === 1) continue;
      this.deferredEq[keep] = this.deferredEq[i];
      this.deferredBucket[keep] = this.deferredBucket[i];
      this.deferredN[keep] = this.deferredN[i];
      this.deferredPart[keep] = this.deferredPart[i];
      if (this.deferredBucket[i] < min) min = this.deferredBucket[i];
      keep++;
    }
    this.deferredCount = keep;
    this.deferredMin = min;
    return released;
  }

  /** Marks every window ending at or before bucket `e` evaluated, and counts deferred events that now fit. */
  completeThrough(e: number): void {
    if (e <= this.lastBucket) return;
    this.lastBucket = e;
    if (this.deferredCount > 0 && this.deferredMin < e - this.k + 1 + this.ring) this.replayDeferred();
  }

  /** Frees slot `s` (its equipment has no open alarm and no bucket any pending window needs). */
  release(s: number): void {
    if (this.used[s] === 0) return;
    this.touch(s);
    const eq = this.keys[s];
    // find the index cell holding s
    let i = hashOf(eq, this.shift);
    const mask = this.mask;
    while (this.index[i] !== s + 1) i = (i + 1) & mask;
    // backward-shift deletion keeps probe chains intact without tombstones
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = this.index[j];
      if (v === 0) break;
      const h = hashOf(this.keys[v - 1], this.shift);
      const between = i <= j ? h > i && h <= j : h > i || h <= j;
      if (!between) {
        this.index[i] = v;
        i = j;
      }
    }
    this.index[i] = 0;
    this.used[s] = 0;
    this.open[s] = NaN;
    this.free[this.freeTop++] = s;
    this.active--;
  }

  /** Slot of `eq`, or -1. */
  find(eq: number): number {
    let i = hashOf(eq, this.shift);
    for (;;) {
      const v = this.index[i];
      if (v === 0) return -1;
      if (this.keys[v - 1] === eq) return v - 1;
      i = (i + 1) & this.mask;
    }
  }

  /** Slot of `eq`, inserted (head = b, zero counts) when absent; -1 when the store is at maxEquipment. */
  slotFor(eq: number, b: number): number {
    let i = hashOf(eq, this.shift);
    for (;;) {
      const v = this.index[i];
      if (v === 0) break;
      if (this.keys[v - 1] === eq) return v - 1;
      i = (i + 1) & this.mask;
    }
    if (this.active >= this.capacity) {
      if (this.capacity >= this.maxEquipment) return -1;
      this.grow(Math.min(this.capacity * 2, this.maxEquipment));
      return this.slotFor(eq, b);
    }
    const s = this.freeTop > 0 ? this.free[--this.freeTop] : this.highWater++;
    if (this.journaling) {
      // a new equipment: the journal records that it had no slot
      this.touchedAt[s] = this.epoch;
      const j = this.journalSlot();
      this.jKey[j] = eq;
      this.jHad[j] = 0;
      this.jPart[j] = 0;
    }
    this.index[i] = s + 1;
    this.keys[s] = eq;
    this.used[s] = 1;
    this.head[s] = b;
    this.open[s] = NaN;
    this.part[s] = 0;
    this.done[s] = -Infinity;
    this.counts.fill(0, s * this.ring, (s + 1) * this.ring);
    this.active++;
    return s;
  }

  /** Bytes held by the typed arrays (slots, index, deferred list, journal). */
  byteSize(): number {
    return (
      this.touchedAt.byteLength + this.jKey.byteLength + this.jHad.byteLength + this.jHead.byteLength + this.jOpen.byteLength +
      this.jPart.byteLength + this.jDone.byteLength + this.jCounts.byteLength +
      this.keys.byteLength + this.used.byteLength + this.head.byteLength + this.open.byteLength + this.counts.byteLength +
      this.part.byteLength + this.done.byteLength + this.free.byteLength + this.index.byteLength +
      this.deferredEq.byteLength + this.deferredBucket.byteLength + this.deferredN.byteLength + this.deferredPart.byteLength
    );
  }

  /** Copies of the deferred events (for snapshots). */
  exportDeferred(): { eq: Uint32Array; bucket: Float64Array; n: Uint32Array; part: Uint16Array } {
    const c = this.deferredCount;
    return {
      eq: this.deferredEq.slice(0, c), bucket: this.deferredBucket.slice(0, c), n: this.deferredN.slice(0, c), part: this.deferredPart.slice(0, c),
    };
  }

  private defer(eq: number, b: number, n: number, partition: number): void {
    if (this.deferredCount === this.deferredEq.length) {
      const cap = this.deferredEq.length * 2;
      this.deferredEq = grown(this.deferredEq, cap);
      this.deferredBucket = grown(this.deferredBucket, cap);
      this.deferredN = grown(this.deferredN, cap);
      this.deferredPart = grown(this.deferredPart, cap);
    }
    const i = this.deferredCount++;
    this.deferredEq[i] = eq;
    this.deferredBucket[i] = b;
    this.deferredN[i] = n;
    this.deferredPart[i] = partition;
    if (b < this.deferredMin) this.deferredMin = b;
    this.deferredTotal += n;
  }

  /** Re-offers every deferred event; those that still do not fit stay, compacted in place. */
  private replayDeferred(): void {
    const n = this.deferredCount;
    if (n === 0) return;
    const limit = this.lastBucket - this.k + 1 + this.ring;
    const eqs = this.deferredEq;
    const bs = this.deferredBucket;
    const ns = this.deferredN;
    const ps = this.deferredPart;
    let keep = 0;
    let min = Infinity;
    for (let i = 0; i < n; i++) {
      const b = bs[i];
      if (b >= limit) {
        eqs[keep] = eqs[i];
        bs[keep] = b;
        ns[keep] = ns[i];
        ps[keep] = ps[i];
        keep++;
        if (b < min) min = b;
      } else {
        // below the limit addBucket counts (or drops as late); it never defers again, so the arrays are stable
        this.addBucket(eqs[i], b, ns[i], ps[i]);
      }
    }
    this.deferredCount = keep;
    this.deferredMin = min;
  }

  private grow(cap: number): void {
    const R = this.ring;
    const keys = new Uint32Array(cap);
    keys.set(this.keys);
    const used = new Uint8Array(cap);
    used.set(this.used);
    const head = new Float64Array(cap);
    head.set(this.head);
    const open = new Float64Array(cap).fill(NaN);
    open.set(this.open);
    const counts = new Uint32Array(cap * R);
    counts.set(this.counts);
    const part = new Uint16Array(cap);
    part.set(this.part);
    const done = new Float64Array(cap).fill(-Infinity);
    done.set(this.done);
    const free = new Int32Array(cap);
    free.set(this.free.subarray(0, this.freeTop));
    const touchedAt = new Uint32Array(cap);
    touchedAt.set(this.touchedAt);
    let size = 16;
    while (size < cap * 2) size *= 2;
    const index = new Int32Array(size);
    const mask = size - 1;
    const shift = 32 - Math.log2(size);
    for (let s = 0; s < this.highWater; s++) {
      if (used[s] === 0) continue;
      let i = hashOf(keys[s], shift);
      while (index[i] !== 0) i = (i + 1) & mask;
      index[i] = s + 1;
    }
    this.keys = keys;
    this.used = used;
    this.head = head;
    this.open = open;
    this.counts = counts;
    this.part = part;
    this.done = done;
    this.free = free;
    this.touchedAt = touchedAt;
    this.index = index;
    this.mask = mask;
    this.shift = shift;
    this.capacity = cap;
  }
}
