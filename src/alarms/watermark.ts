// Event-time progress of the input: per partition the largest event time seen, and the watermark over the partitions that are not idle.
//
// Readings of SPEC section 4 chosen here:
// - watermark = min over non-idle partitions of their largest event time; each rule then subtracts its lateness_ms.
// - a partition is idle when no record arrived from it for `idleTimeoutMs` of wall-clock time; idle partitions do not
//   hold the watermark back. When every known partition is idle, the watermark is the largest event time of all of
//   them (everything seen is final), so windows still close when the whole input goes quiet.
// - a partition that is assigned but has sent nothing yet holds the watermark at -Infinity until it idles out.
// - the watermark never moves back: a partition returning from idle with older events makes them late, not the
//   watermark earlier. Only a partition taken over with its state (`resetFloor`) may hold it back again, as it
//   would have had it been here all along.
import { ALARM_INTERNALS } from '../config/internals.js';

/** A tracker's whole state, copied (`save`, `restore`). */
export interface WatermarkSaved {
  maxTime: Float64Array<ArrayBuffer>;
  lastSeen: Float64Array<ArrayBuffer>;
  known: Uint8Array<ArrayBuffer>;
  floor: number;
}

export class WatermarkTracker {
  readonly idleTimeoutMs: number;
  /** largest event time seen per partition; -Infinity when none yet */
  maxTime = new Float64Array(0);
  /** wall clock (ms) of the last record per partition (or of its assignment) */
  lastSeen = new Float64Array(0);
  /** 1 for partitions the tracker knows (assigned or seen) */
  known = new Uint8Array(0);
  /** the largest watermark returned so far */
  private floor = -Infinity;

  constructor(idleTimeoutMs: number = ALARM_INTERNALS.idleTimeoutMs) {
    this.idleTimeoutMs = idleTimeoutMs;
  }

  /** Declares the assigned partitions: each holds the watermark back until it sends a record or idles out. */
  assign(partitions: readonly number[], nowMs: number): void {
    for (const p of partitions) {
      this.ensure(p);
      if (this.known[p] === 0) {
        this.known[p] = 1;
        this.lastSeen[p] = nowMs;
      }
    }
  }

  /** Forgets revoked partitions. */
  revoke(partitions: readonly number[]): void {
    for (const p of partitions) {
      if (p < this.known.length) {
        this.known[p] = 0;
        this.maxTime[p] = -Infinity;
      }
    }
  }

  /** One record (or a progress mark) from `partition` at event time `timeMs`, seen at wall clock `nowMs`. */
  observe(partition: number, timeMs: number, nowMs: number): void {
    if (partition >= this.known.length) this.ensure(partition);
    this.known[partition] = 1;
    this.lastSeen[partition] = nowMs;
    if (timeMs > this.maxTime[partition]) this.maxTime[partition] = timeMs;
  }

  /** The watermark before any rule's lateness: -Infinity while a non-idle partition has sent nothing. */
  watermark(nowMs: number): number {
    let min = Infinity;
    let max = -Infinity;
    let live = 0;
    for (let p = 0; p < this.known.length; p++) {
      if (this.known[p] === 0) continue;
      const t = this.maxTime[p];
      if (t > max) max = t;
      if (nowMs - this.lastSeen[p] >= this.idleTimeoutMs) continue;
      live++;
      if (t < min) min = t;
    }
    const w = live > 0 ? min : max;
    if (w > this.floor) this.floor = w;
    return this.floor;
  }

  /** Partitions currently counted idle. */
  idlePartitions(nowMs: number): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.known.length; p++) {
      if (this.known[p] === 1 && nowMs - this.lastSeen[p] >= this.idleTimeoutMs) out.push(p);
    }
    return out;
  }

  /** State for a snapshot: [partition, maxTime] pairs and the floor. Wall-clock times are not kept across restarts. */
  exportState(): { partitions: Array<[number, number]>; floor: number } {
    const partitions: Array<[number, number]> = [];
    for (let p = 0; p < this.known.length; p++) if (this.known[p] === 1) partitions.push([p, this.maxTime[p]]);
    return { partitions, floor: this.floor };
  }

  /** Restores `exportState()` output; restored partitions count as just seen at `nowMs`. */
  importState(state: { partitions: Array<[number, number]>; floor: number }, nowMs: number): void {
    for (const [p, t] of state.partitions) {
      this.ensure(p);
      this.known[p] = 1;
      this.lastSeen[p] = nowMs;
      if (t > this.maxTime[p]) this.maxTime[p] = t;
    }
    if (state.floor > this.floor) this.floor = state.floor;
  }

  /** Everything, copied: what a transaction's rollback puts back (`restore`). */
  save(): WatermarkSaved {
    return { maxTime: this.maxTime.slice(), lastSeen: this.lastSeen.slice(), known: this.known.slice(), floor: this.floor };
  }

  restore(saved: WatermarkSaved): void {
    this.maxTime = saved.maxTime;
    this.lastSeen = saved.lastSeen;
    this.known = saved.known;
    this.floor = saved.floor;
  }

  /** Forgets the largest watermark returned so far: the next is the one the partitions give, even if lower. */
  resetFloor(): void {
    this.floor = -Infinity;
  }

  /** The largest event time seen from `partition`; -Infinity when none. */
  maxTimeOf(partition: number): number {
    return partition < this.known.length && this.known[partition] === 1 ? this.maxTime[partition] : -Infinity;
  }

  private ensure(p: number): void {
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new RangeError(`partition ${p} is outside 0..65535`);
    if (p < this.known.length) return;
    const n = Math.max(p + 1, this.known.length * 2, 8);
    const maxTime = new Float64Array(n).fill(-Infinity);
    maxTime.set(this.maxTime);
    const lastSeen = new Float64Array(n);
    lastSeen.set(this.lastSeen);
    const known = new Uint8Array(n);
    known.set(this.known);
    this.maxTime = maxTime;
    this.lastSeen = lastSeen;
    this.known = known;
  }
}
