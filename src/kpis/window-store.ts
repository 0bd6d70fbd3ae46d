// The merge side's open windows: one aggregate per (window, dimension, key) in typed arrays, the exact setup latencies of each in a u16 arena, and the windows closed in ascending order.
//
// Entries live in dense typed arrays found through an open-addressing index (linear probing, backward-shift
// deletion), so memory follows the keys of the open windows and nothing is allocated per entry merged. Each window
// chains its entries (`next`) and remembers the partials offset of the first message that contributed to it: the
// offset a restart must read again from while the window is open.
//
// Setup latencies are kept whole (u16 each) for exact nearest-rank percentiles, rather than in a histogram: a window
// holds few of them per key (tens per cell), so the values cost less than any histogram meeting SPEC's 1 % and
// give the exact figure. Each entry owns a vector in the arena (start, length, capacity); a vector that fills up moves
// to the arena's end at twice the capacity, and the arena is compacted once the space left behind outweighs the live.
import { MEASURES, M_RSRP_MIN, clearAggregate } from './measures.js';
import { isStringDimension } from './names.js';
import type { PartialsSink } from './partials-codec.js';

export const WINDOW_STORE_DEFAULTS = {
  initialEntries: 1024,
  initialLatencies: 4096,
  /** smallest latency vector */
  minVector: 4,
} as const;

/** One open window: the head of its entry chain, its entries, the offset of its first contributing message. */
interface OpenWindow {
  head: number;
  entries: number;
  firstOffset: number;
}

function grown<T extends Float64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a as never);
  return b;
}

function homeOf(window: number, dim: number, key: number, shift: number): number {
  return Math.imul((key ^ Math.imul(window >>> 0, 0x85ebca6b)) + dim, 0x9e3779b1) >>> shift;
}

export class KpiWindowStore implements PartialsSink {
  // ── entries (index e); free when used[e] === 0
  private entryCap = 0;
  highWater = 0;
  /** entries in use */
  active = 0;
  win = new Float64Array(0);
  dim = new Uint8Array(0);
  key = new Uint32Array(0);
  used = new Uint8Array(0);
  next = new Int32Array(0);
  fields = new Float64Array(0);
  latStart = new Uint32Array(0);
  latLen = new Uint32Array(0);
  private latCap = new Uint32Array(0);
  private free = new Int32Array(0);
  private freeTop = 0;

  // ── index: per cell, entry + 1 (0 empty) and the entry's key beside it, so a probe that passes another key
  // costs no read of the entry arrays (the store is large and read at random: misses dominate)
  private indexCap = 0;
  private shift = 32;
  private index = new Uint32Array(0);

  // ── latency arena
  arena = new Uint16Array(WINDOW_STORE_DEFAULTS.initialLatencies);
  private arenaUsed = 0;
  private arenaGarbage = 0;
  /** latency values held */
  latencies = 0;

  // ── windows and key strings
  private readonly windows = new Map<number, OpenWindow>();
  private readonly textIds = new Map<string, number>();
  readonly texts: string[] = [];

  /** the partials offset of the message being read (`entry` records it as a window's first) */
  offset = -1;

  constructor(initialEntries: number = WINDOW_STORE_DEFAULTS.initialEntries) {
    this.growEntries(Math.max(16, initialEntries));
    this.rehash(this.entryCap * 2);
  }

  /** Open windows. */
  get windowCount(): number {
    return this.windows.size;
  }

  /** The id of a region or vendor key text (ids are the store's own). */
  internString(text: string): number {
    let id = this.textIds.get(text);
    if (id === undefined) {
      id = this.texts.length;
      this.texts.push(text);
      this.textIds.set(text, id);
    }
    return id;
  }

  /** The key as text: the id in decimal, or the region / vendor string. */
  keyText(e: number): string {
    return isStringDimension(this.dim[e]) ? this.texts[this.key[e]] : String(this.key[e]);
  }

  /** Merges one partial aggregate (PartialsSink): counts and sums add, minimums take the smaller, latencies append. */
  entry(window: number, dim: number, key: number, src: Float64Array, lat: Uint16Array, latCount: number): void {
    const e = this.find(window, dim, key, true);
    const f = this.fields;
    const b = e * MEASURES;
    for (let i = 0; i < MEASURES; i++) {
      if (i === M_RSRP_MIN) {
        if (src[i] < f[b + i]) f[b + i] = src[i];
      } else f[b + i] += src[i];
    }
    if (latCount > 0) this.appendLatencies(e, lat, latCount);
  }

  /** The entry of (window, dim, key): created (empty, chained to its window) when `create`, else -1 when absent. */
  find(window: number, dim: number, key: number, create: boolean): number {
    const mask = this.indexCap - 1;
    let s = homeOf(window, dim, key, this.shift);
    const index = this.index;
    for (;;) {
      const v = index[2 * s];
      if (v === 0) break;
      if (index[2 * s + 1] === key) {
        const e = v - 1;
        if (this.dim[e] === dim && this.win[e] === window) return e;
      }
      s = (s + 1) & mask;
    }
    if (!create) return -1;
    if ((this.active + 1) * 2 > this.indexCap) {
      this.rehash(this.indexCap * 2);
      return this.find(window, dim, key, true);
    }
    const e = this.take();
    index[2 * s] = e + 1;
    index[2 * s + 1] = key;
    this.win[e] = window;
    this.dim[e] = dim;
    this.key[e] = key;
    this.latLen[e] = 0;
    this.latCap[e] = 0;
    clearAggregate(this.fields, e * MEASURES);
    let w = this.windows.get(window);
    if (w === undefined) {
      w = { head: -1, entries: 0, firstOffset: this.offset };
      this.windows.set(window, w);
    }
    this.next[e] = w.head;
    w.head = e;
    w.entries++;
    return e;
  }

  /** The smallest offset of a message contributing to an open window; -1 when no window is open. */
  firstOffset(): number {
    let min = -1;
    for (const w of this.windows.values()) if (w.firstOffset >= 0 && (min < 0 || w.firstOffset < min)) min = w.firstOffset;
    return min;
  }

  /** The open window indexes, ascending. */
  openWindows(): number[] {
    return [...this.windows.keys()].sort((a, b) => a - b);
  }

  /** Entries of the open windows with index <= `last` (what closing through `last` emits). */
  entriesThrough(last: number): number {
    let n = 0;
    for (const [window, w] of this.windows) if (window <= last) n += w.entries;
    return n;
  }

  /** The smallest open window index; Infinity when none. */
  firstWindow(): number {
    let min = Infinity;
    for (const w of this.windows.keys()) if (w < min) min = w;
    return min;
  }

  /**
   * Closes every open window with index <= `last`, in ascending order: `visit` sees each of its entries (sort its
   * latencies with `sortedLatencies`), then the entries are released. Returns the windows closed.
   */
  closeThrough(last: number, visit: (e: number, window: number) => void): number {
    let closed = 0;
    for (const window of this.openWindows()) {
      if (window > last) break;
      const w = this.windows.get(window)!;
      for (let e = w.head; e >= 0; e = this.next[e]) visit(e, window);
      for (let e = w.head; e >= 0; ) {
        const n = this.next[e];
        this.release(e);
        e = n;
      }
      this.windows.delete(window);
      closed++;
    }
    return closed;
  }

  /** The setup latencies of entry `e`, sorted ascending in place (a view into the arena). */
  sortedLatencies(e: number): Uint16Array {
    const from = this.latStart[e];
    const to = from + this.latLen[e];
    const a = this.arena;
    if (to - from <= 32) {
      // most keys hold a few values: an insertion sort in place beats the call into the typed-array sort
      for (let i = from + 1; i < to; i++) {
        const v = a[i];
        let j = i - 1;
        while (j >= from && a[j] > v) {
          a[j + 1] = a[j];
          j--;
        }
        a[j + 1] = v;
      }
      return a.subarray(from, to);
    }
    return a.subarray(from, to).sort();
  }

  /** Drops every window. */
  clear(): void {
    this.index.fill(0);
    this.used.fill(0);
    this.windows.clear();
    this.highWater = 0;
    this.active = 0;
    this.freeTop = 0;
    this.arenaUsed = 0;
    this.arenaGarbage = 0;
    this.latencies = 0;
  }

  /** Typed-array bytes held. */
  byteSize(): number {
    return (
      this.win.byteLength + this.dim.byteLength + this.key.byteLength + this.used.byteLength + this.next.byteLength +
      this.fields.byteLength + this.latStart.byteLength + this.latLen.byteLength + this.latCap.byteLength +
      this.free.byteLength + this.index.byteLength + this.arena.byteLength
    );
  }

  // ── entries

  private take(): number {
    if (this.freeTop > 0) {
      const e = this.free[--this.freeTop];
      this.used[e] = 1;
      this.active++;
      return e;
    }
    if (this.highWater === this.entryCap) this.growEntries(this.entryCap * 2);
    const e = this.highWater++;
    this.used[e] = 1;
    this.active++;
    return e;
  }

  private release(e: number): void {
    this.unindex(e);
    this.used[e] = 0;
    this.active--;
    this.arenaGarbage += this.latCap[e];
    this.latencies -= this.latLen[e];
    this.latCap[e] = 0;
    this.latLen[e] = 0;
    this.free[this.freeTop++] = e;
  }

  private growEntries(n: number): void {
    this.entryCap = n;
    this.win = grown(this.win, n);
    this.dim = grown(this.dim, n);
    this.key = grown(this.key, n);
    this.used = grown(this.used, n);
    this.next = grown(this.next, n);
    this.fields = grown(this.fields, n * MEASURES);
    this.latStart = grown(this.latStart, n);
    this.latLen = grown(this.latLen, n);
    this.latCap = grown(this.latCap, n);
    this.free = grown(this.free, n);
  }

  private rehash(cap: number): void {
    this.indexCap = cap;
    this.shift = 32 - Math.log2(cap);
    this.index = new Uint32Array(cap * 2);
    const mask = cap - 1;
    for (let e = 0; e < this.highWater; e++) {
      if (this.used[e] === 0) continue;
      let s = homeOf(this.win[e], this.dim[e], this.key[e], this.shift);
      while (this.index[2 * s] !== 0) s = (s + 1) & mask;
      this.index[2 * s] = e + 1;
      this.index[2 * s + 1] = this.key[e];
    }
  }

  /** Removes entry `e` from the index (backward-shift deletion keeps every probe chain whole). */
  private unindex(e: number): void {
    const mask = this.indexCap - 1;
    const index = this.index;
    let i = homeOf(this.win[e], this.dim[e], this.key[e], this.shift);
    while (index[2 * i] !== e + 1) i = (i + 1) & mask;
    for (;;) {
      index[2 * i] = 0;
      let j = i;
      for (;;) {
        j = (j + 1) & mask;
        const v = index[2 * j];
        if (v === 0) return;
        const k = homeOf(this.win[v - 1], this.dim[v - 1], this.key[v - 1], this.shift);
        // the entry at j may stay when its home lies cyclically in (i, j]
        const stays = i <= j ? i < k && k <= j : i < k || k <= j;
        if (stays) continue;
        index[2 * i] = v;
        index[2 * i + 1] = index[2 * j + 1];
        i = j;
        break;
      }
    }
  }

  // ── latency arena

  private appendLatencies(e: number, lat: Uint16Array, n: number): void {
    const len = this.latLen[e];
    if (len + n > this.latCap[e]) this.moveVector(e, len + n);
    const arena = this.arena;
    const at = this.latStart[e] + len;
    for (let i = 0; i < n; i++) arena[at + i] = lat[i];
    this.latLen[e] = len + n;
    this.latencies += n;
  }

  /** Gives entry `e` a vector of at least `need` values at the arena's end. */
  private moveVector(e: number, need: number): void {
    let cap = Math.max(WINDOW_STORE_DEFAULTS.minVector, this.latCap[e] * 2);
    while (cap < need) cap *= 2;
    if (this.arenaUsed + cap > this.arena.length) {
      if (this.arenaGarbage > this.arenaUsed / 2) this.compact(cap);
      if (this.arenaUsed + cap > this.arena.length) {
        let size = this.arena.length * 2;
        while (size < this.arenaUsed + cap) size *= 2;
        this.arena = grown(this.arena, size);
      }
    }
    const at = this.arenaUsed;
    this.arena.copyWithin(at, this.latStart[e], this.latStart[e] + this.latLen[e]);
    this.arenaGarbage += this.latCap[e];
    this.latStart[e] = at;
    this.latCap[e] = cap;
    this.arenaUsed = at + cap;
  }

  /** Copies every live vector into a new arena, back to back (room left for `extra` more). */
  private compact(extra: number): void {
    const live = this.arenaUsed - this.arenaGarbage;
    let size = WINDOW_STORE_DEFAULTS.initialLatencies;
    while (size < (live + extra) * 2) size *= 2;
    const arena = new Uint16Array(size);
    let at = 0;
    for (let e = 0; e < this.highWater; e++) {
      if (this.used[e] === 0 || this.latCap[e] === 0) continue;
      arena.set(this.arena.subarray(this.latStart[e], this.latStart[e] + this.latLen[e]), at);
      this.latStart[e] = at;
      at += this.latCap[e];
    }
    this.arena = arena;
    this.arenaUsed = at;
    this.arenaGarbage = 0;
  }
}
