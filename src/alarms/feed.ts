// The feed from decode workers to the alarm thread: one single-producer single-consumer ring (ringbuf.js) per producer, carrying compact entries in batches.
//
// An entry is ENTRY_WORDS u32 words: equipment_id, event time (low and high 32 bits of the ms count), and
// partition | flags << 16. Only failures travel one entry per record; the writer folds every other record into one
// progress entry per partition per flush (the largest event time seen), which is all the watermark needs. Entries go
// into the ring whole, at `flush()`, never one message per record. A shared Int32Array counter wakes the consumer
// (Atomics.notify on flush; the thread waits with Atomics.waitAsync), since ringbuf.js itself has no wait/notify.

import { RingBuffer } from 'ringbuf.js';
import { LuxError } from '../errors.js';
import { ALARM_INTERNALS } from '../config/internals.js';
import { R_CODES, R_EQUIPMENT, R_TIME_F64, REC_WORDS } from '../decode/layout.js';

export const ENTRY_WORDS = 4;
export const E_EQUIPMENT = 0;
export const E_TIME_LO = 1;
export const E_TIME_HI = 2;
/** partition (low 16 bits) | flags << 16 */
export const E_PARTITION_FLAGS = 3;

/** the record's result is not success */
export const FLAG_FAILURE = 1;
/** the record's equipment was under maintenance at its event time (informational: suppression uses the window end) */
export const FLAG_MAINTENANCE = 2;
/** not a record: the largest event time of non-failure records of the partition since the last flush; the
 * equipment word holds how many records it stands for */
export const FLAG_PROGRESS = 4;
/** not a record: the end of decode batch number `time` (the entries of this ring since the previous mark are its
 * own); the alarm thread applies a batch's entries when the transaction holding its records commits */
export const FLAG_BATCH = 8;

const TWO_32 = 4294967296;

/** What a producer (or the alarm thread) needs to attach to one ring; structured-clonable (SharedArrayBuffers). */
export interface FeedChannel {
  readonly id: number;
  readonly ring: SharedArrayBuffer;
  /** Int32Array[1]: incremented on every flush, to wake the consumer */
  readonly signal: SharedArrayBuffer;
}

export class FeedError extends LuxError {
  constructor(message: string) {
    super('E_INTERNAL', message);
    this.name = 'FeedError';
  }
}

/** A shared wake-up counter for all rings of one consumer. */
export function createSignal(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** A new ring of `entries` entries sharing `signal`. */
export function createChannel(id: number, signal: SharedArrayBuffer, entries: number = ALARM_INTERNALS.feedRingEntries): FeedChannel {
  if (!Number.isInteger(entries) || entries < 1) throw new FeedError(`feed ring ${id}: entries must be a positive integer, got ${entries}`);
  return { id, ring: RingBuffer.getStorageForCapacity(entries * ENTRY_WORDS, Uint32Array), signal };
}

/** Producer side of one ring. Not thread-safe: exactly one writer per ring. */
export class FeedWriter {
  readonly channel: FeedChannel;
  private readonly ring: RingBuffer;
  private readonly signal: Int32Array;
  private readonly batch: Uint32Array;
  /** words in `batch` */
  private used = 0;
  /** largest non-failure event time per partition since the last flush; -Infinity when none */
  private progress = new Float64Array(16).fill(-Infinity);
  private folded = new Uint32Array(16);
  private touched = new Uint16Array(16);
  private touchedCount = 0;
  /** records accepted, failures among them, entries pushed */
  records = 0;
  failures = 0;
  pushed = 0;

  constructor(channel: FeedChannel, batchEntries?: number) {
    this.channel = channel;
    this.ring = new RingBuffer(channel.ring, Uint32Array);
    this.signal = new Int32Array(channel.signal);
    const entries = batchEntries ?? Math.floor(this.ring.capacity() / ENTRY_WORDS);
    this.batch = new Uint32Array(entries * ENTRY_WORDS);
  }

  /** Entries waiting in the local batch. */
  pending(): number {
    return this.used / ENTRY_WORDS + this.touchedCount;
  }

  /**
   * One record. Returns false when the local batch is full and the ring has no room for it: the record was not
   * taken; flush later (the consumer drains the ring) and offer it again.
   */
  add(equipmentId: number, timeMs: number, partition: number, failure: boolean, maintenance: boolean): boolean {
    if (!failure) {
      if (partition >= this.progress.length) this.growProgress(partition);
      const prev = this.progress[partition];
      if (prev === -Infinity) {
        if (this.used + (this.touchedCount + 1) * ENTRY_WORDS > this.batch.length && !this.flush()) return false;
        this.touched[this.touchedCount++] = partition;
        this.progress[partition] = timeMs;
      } else if (timeMs > prev) this.progress[partition] = timeMs;
      this.folded[partition]++;
      this.records++;
      return true;
    }
    if (this.used + (this.touchedCount + 1) * ENTRY_WORDS > this.batch.length && !this.flush()) {
      if (this.used + (this.touchedCount + 1) * ENTRY_WORDS > this.batch.length) return false;
    }
    this.put(equipmentId, timeMs, partition, FLAG_FAILURE | (maintenance ? FLAG_MAINTENANCE : 0));
    this.records++;
    this.failures++;
    return true;
  }

  /**
   * `count` decoded records of the shared decode memory (layout.ts), starting at word index `recWord` of `u32`
   * (`f64` views the same buffer): a record fails when its result is not success (0). Returns how many were taken.
   */
  addDecoded(u32: Uint32Array, f64: Float64Array, recWord: number, count: number, partition: number): number {
    for (let i = 0; i < count; i++) {
      const w = recWord + i * REC_WORDS;
      const result = (u32[w + R_CODES] >>> 8) & 0xff;
      if (!this.add(u32[w + R_EQUIPMENT], f64[(w + R_TIME_F64) >>> 1], partition, result !== 0, false)) return i;
    }
    return count;
  }

  /** Pushes the batch (whole entries only) and the progress marks into the ring; true when nothing is left over. */
  flush(): boolean {
    this.putProgress();
    if (this.used === 0) return true;
    const room = this.ring.availableWrite();
    const words = Math.min(this.used, room - (room % ENTRY_WORDS));
    if (words > 0) {
      this.ring.push(this.batch, words, 0);
      if (words < this.used) this.batch.copyWithin(0, words, this.used);
      this.used -= words;
      this.pushed += words / ENTRY_WORDS;
      Atomics.add(this.signal, 0, 1);
      Atomics.notify(this.signal, 0);
    }
    return this.used === 0;
  }

  /** Closes batch `seq`: its progress marks and a batch mark go into the local batch; flush to push them. */
  endBatch(seq: number): boolean {
    if (this.used + (this.touchedCount + 1) * ENTRY_WORDS > this.batch.length && !this.flush()) {
      if (this.used + (this.touchedCount + 1) * ENTRY_WORDS > this.batch.length) return false;
    }
    this.putProgress(); // the progress marks first: they belong to this batch
    this.put(0, seq, 0, FLAG_BATCH);
    return true;
  }

  /** The progress marks of the partitions touched since the last ones, into the local batch. */
  private putProgress(): void {
    for (let i = 0; i < this.touchedCount; i++) {
      const p = this.touched[i];
      this.put(this.folded[p], this.progress[p], p, FLAG_PROGRESS);
      this.progress[p] = -Infinity;
      this.folded[p] = 0;
    }
    this.touchedCount = 0;
  }

  private put(eq: number, timeMs: number, partition: number, flags: number): void {
    const b = this.batch;
    const u = this.used;
    const hi = Math.floor(timeMs / TWO_32);
    b[u + E_EQUIPMENT] = eq;
    b[u + E_TIME_LO] = timeMs - hi * TWO_32;
    b[u + E_TIME_HI] = hi;
    b[u + E_PARTITION_FLAGS] = (partition & 0xffff) | (flags << 16);
    this.used = u + ENTRY_WORDS;
  }

  private growProgress(partition: number): void {
    if (partition > 65535) throw new FeedError(`feed ring ${this.channel.id}: partition ${partition} is outside 0..65535`);
    const n = Math.max(partition + 1, this.progress.length * 2);
    const p = new Float64Array(n).fill(-Infinity);
    p.set(this.progress);
    this.progress = p;
    const t = new Uint16Array(n);
    t.set(this.touched);
    this.touched = t;
    const f = new Uint32Array(n);
    f.set(this.folded);
    this.folded = f;
  }
}

/** Consumer side of one ring. */
export class FeedReader {
  readonly channel: FeedChannel;
  private readonly ring: RingBuffer;
  constructor(channel: FeedChannel) {
    this.channel = channel;
    this.ring = new RingBuffer(channel.ring, Uint32Array);
  }

  /** Pops whole entries into `out` (length a multiple of ENTRY_WORDS); returns the number of entries. */
  poll(out: Uint32Array): number {
    const avail = this.ring.availableRead();
    const words = Math.min(avail - (avail % ENTRY_WORDS), out.length - (out.length % ENTRY_WORDS));
    if (words <= 0) return 0;
    return this.ring.pop(out, words, 0) / ENTRY_WORDS;
  }
}

/** Event time of entry `i` of a polled buffer. */
export function entryTime(buf: Uint32Array, i: number): number {
  const w = i * ENTRY_WORDS;
  return buf[w + E_TIME_HI] * TWO_32 + buf[w + E_TIME_LO];
}
