// A shard's view of the raw input's event-time progress: every raw partition's mark as the partials messages announce it, and the watermark over all of them.
//
// The watermark reads SPEC section 4 as alarms/watermark.ts does, over the marks of every raw partition, whichever
// instance owns it (each message carries the marks of the partitions its instance owns):
// - the raw partition count is given; a partition never heard of holds the watermark back (-Infinity);
// - a partition its owner announced idle does not hold it back; when every partition is idle, the watermark is the
//   largest event time of all;
// - otherwise it is the smallest largest-event-time of the partitions that are not idle;
// - it never moves back (a floor), so a partition returning from idle with older events makes them late.
// A partition's time only grows (a restarted owner re-reads from its commit and may announce less); its idle flag is
// the last announced.
import type { PartitionMark } from './partials-codec.js';

export class MarksTable {
  /** raw partitions there are (kpis: the raw topic's partition count); a mark beyond it extends it */
  count: number;
  times: Float64Array<ArrayBuffer>;
  known: Uint8Array<ArrayBuffer>;
  idle: Uint8Array<ArrayBuffer>;
  /** the largest watermark computed so far */
  floor = -Infinity;

  constructor(rawPartitions: number) {
    this.count = rawPartitions;
    const n = Math.max(1, rawPartitions);
    this.times = new Float64Array(n).fill(-Infinity);
    this.known = new Uint8Array(n);
    this.idle = new Uint8Array(n);
  }

  /** Raw partitions there are, at least `count` (the raw topic grew). */
  extendTo(count: number): void {
    if (count > this.times.length) this.ensure(count - 1);
    if (count > this.count) this.count = count;
  }

  /** One announced mark; returns whether it changed anything. */
  apply(partition: number, timeMs: number, idle: boolean): boolean {
    if (partition >= this.times.length) this.ensure(partition);
    if (partition >= this.count) this.count = partition + 1;
    const idleFlag = idle ? 1 : 0;
    let changed = this.known[partition] === 0 || this.idle[partition] !== idleFlag;
    this.known[partition] = 1;
    this.idle[partition] = idleFlag;
    if (timeMs > this.times[partition]) {
      this.times[partition] = timeMs;
      changed = true;
    }
    return changed;
  }

  /** The watermark (before lateness): -Infinity while a partition never heard of, or one not idle without a time, holds it. */
  watermark(): number {
    let min = Infinity;
    let max = -Infinity;
    let live = 0;
    let held = false;
    for (let p = 0; p < this.count; p++) {
      if (this.known[p] === 0) {
        held = true;
        break;
      }
      const t = this.times[p];
      if (t > max) max = t;
      if (this.idle[p] === 1) continue;
      live++;
      if (t < min) min = t;
    }
    const w = held ? -Infinity : live > 0 ? min : max;
    if (w > this.floor) this.floor = w;
    return this.floor;
  }

  /** The known marks, for the state value. */
  list(): PartitionMark[] {
    const out: PartitionMark[] = [];
    for (let p = 0; p < this.times.length; p++) if (this.known[p] === 1) out.push({ partition: p, timeMs: this.times[p], idle: this.idle[p] === 1 });
    return out;
  }

  /** An independent copy (what a rollback puts back). */
  copy(): MarksTable {
    const c = new MarksTable(this.count);
    c.times = this.times.slice();
    c.known = this.known.slice();
    c.idle = this.idle.slice();
    c.floor = this.floor;
    return c;
  }

  private ensure(p: number): void {
    const n = Math.max(p + 1, this.times.length * 2);
    const t = new Float64Array(n).fill(-Infinity);
    t.set(this.times);
    this.times = t;
    const k = new Uint8Array(n);
    k.set(this.known);
    this.known = k;
    const i = new Uint8Array(n);
    i.set(this.idle);
    this.idle = i;
  }
}
