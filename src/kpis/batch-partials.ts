// The decode worker's side of the KPIs: folds a batch's decoded records into partial aggregates per (window, dimension, key) and encodes them as one chunk per shard, with the batch's per-partition progress.
//
// The per-record path is typed-array work only: one probe of the equipment cache (region, vendor), one probe of an
// open-addressing table per dimension, counters added in place, a setup latency appended to a flat list. Tables keep
// their memory from batch to batch and grow (doubling) only when a batch needs more; `finish` groups the entries by
// shard (a counting sort), the latencies by entry, and writes the batch's bytes (partials-codec.ts) into a buffer of
// its own that the worker transfers to the main thread.
import {
  F_RSRP,
  F_SETUP_LATENCY,
  MSG_WORDS,
  M_COUNT,
  M_FIRST,
  M_PARTITION,
  M_REASON,
  REC_WORDS,
  R_BYTES_DOWN,
  R_BYTES_UP,
  R_CAUSE_SETUP,
  R_CELL,
  R_CODES,
  R_EQUIPMENT,
  R_RSRP,
  R_TIME_F64,
  type SlotGeometry,
} from '../decode/layout.js';
import type { Reference } from '../enrich/reference.js';
import { EquipmentKeys, NO_KEY } from './equipment-keys.js';
import { ByteWriter, writeHeader } from './leb128.js';
import { addRecord, clearAggregate, countsLatency, MEASURES } from './measures.js';
import { DIM_CELL, DIM_EQUIPMENT, DIM_REGION, DIM_VENDOR, dimensionCode, type Dimension } from './names.js';
import { BATCH_MAGIC, PARTIALS_VERSION, writeEntry } from './partials-codec.js';
import { hashOfId } from './shard.js';
import { KpiUsageError } from './errors.js';

export interface BatchPartialsOptions {
  /** kpis.window_ms */
  readonly windowMs: number;
  /** partitions of the partials topic */
  readonly shards: number;
  /** kpis.dimensions */
  readonly dimensions: readonly Dimension[];
}

export const BATCH_PARTIALS_DEFAULTS = {
  /** entries the table starts with (a batch of 1,000 frames touches a few thousand keys) */
  initialEntries: 4096,
  initialLatencies: 1024,
  initialBytes: 64 * 1024,
} as const;

/** raw input partitions are 16-bit in the batch format */
export const MAX_PARTITION = 0xffff;

/**
 * What a decode worker folds its batches' KPIs with: BatchPartials, or NativeBatchPartials (native-batch-partials.ts,
 * the same bytes from C). `addSlot` reads messages [0, count) of a slot; `u32`, `i32` and `f64` view the same bytes.
 */
export interface PartialsAccumulator {
  readonly windowMs: number;
  readonly shards: number;
  /** records folded into the open batch */
  readonly records: number;
  use(reference: Reference): void;
  addSlot(u32: Uint32Array, i32: Int32Array, f64: Float64Array, geo: SlotGeometry, count: number): void;
  addRecords(u32: Uint32Array, i32: Int32Array, f64: Float64Array, recWord: number, count: number, partition: number): void;
  finish(): Uint8Array;
  reset(): void;
  byteSize(): number;
}

/** The options' checks, shared with the native accumulator: the same errors for the same mistakes. */
export function checkPartialsOptions(options: BatchPartialsOptions): void {
  if (!Number.isInteger(options.windowMs) || options.windowMs < 1) throw new KpiUsageError(`window_ms must be a positive integer, got ${options.windowMs}`);
  if (!Number.isInteger(options.shards) || options.shards < 1) throw new KpiUsageError(`the shard count must be a positive integer, got ${options.shards}`);
}

function grown<T extends Float64Array | Uint32Array | Int32Array | Uint16Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a as never);
  return b;
}

export class BatchPartials implements PartialsAccumulator {
  readonly windowMs: number;
  readonly shards: number;
  readonly keys = new EquipmentKeys();
  private readonly byCell: boolean;
  private readonly byEquipment: boolean;
  private readonly byRegion: boolean;
  private readonly byVendor: boolean;

  // ── entries: open addressing, index[s] = entry + 1 (0 empty); dense entry arrays
  private capacity = 0;
  private shift = 32;
  private index = new Int32Array(0);
  count = 0;
  private eWindow = new Float64Array(0);
  private eDim = new Uint8Array(0);
  private eKey = new Uint32Array(0);
  private eSlot = new Int32Array(0);
  private eLat = new Uint32Array(0);
  private fields = new Float64Array(0);

  // ── setup latencies in record order: (entry, value)
  private latUsed = 0;
  private latEntry = new Int32Array(BATCH_PARTIALS_DEFAULTS.initialLatencies);
  private latValue = new Uint16Array(BATCH_PARTIALS_DEFAULTS.initialLatencies);

  // ── raw input partitions of the batch
  private pMax = new Float64Array(16).fill(-Infinity);
  private pRecords = new Uint32Array(16);
  private touched = new Uint16Array(16);
  private touchedCount = 0;

  // ── encoding scratch, kept across batches
  private readonly out = new ByteWriter(BATCH_PARTIALS_DEFAULTS.initialBytes);
  private readonly body = new ByteWriter(BATCH_PARTIALS_DEFAULTS.initialBytes);
  private order = new Int32Array(0);
  private shardOf = new Int32Array(0);
  private latSorted = new Uint16Array(0);
  private latStart = new Uint32Array(0);
  private shardStart = new Uint32Array(0);
  private strLocal = new Int32Array(64);
  private strStamp = new Uint32Array(64);
  private strList = new Int32Array(64);
  private stamp = 0;

  /** records folded into the open batch */
  records = 0;

  constructor(options: BatchPartialsOptions) {
    checkPartialsOptions(options);
    this.windowMs = options.windowMs;
    this.shards = options.shards;
    const dims = new Set(options.dimensions.map(dimensionCode));
    this.byCell = dims.has(DIM_CELL);
    this.byEquipment = dims.has(DIM_EQUIPMENT);
    this.byRegion = dims.has(DIM_REGION);
    this.byVendor = dims.has(DIM_VENDOR);
    this.allocate(BATCH_PARTIALS_DEFAULTS.initialEntries);
    this.shardStart = new Uint32Array(this.shards + 1);
  }

  /** The reference data of the batches to come (region and vendor); a new version empties the equipment cache. */
  use(reference: Reference): void {
    this.keys.use(reference);
  }

  /**
   * Folds every record decoded in a slot: messages [0, count) of its message table, each from the raw partition in
   * its M_PARTITION word; dead-lettered frames count nowhere. `u32`, `i32` and `f64` view the decoder's memory.
   */
  addSlot(u32: Uint32Array, i32: Int32Array, f64: Float64Array, geo: SlotGeometry, count: number): void {
    const recBase = geo.recPtr >>> 2;
    for (let m = 0; m < count; m++) {
      const row = (geo.msgPtr >>> 2) + m * MSG_WORDS;
      if (u32[row + M_REASON] !== 0) continue;
      this.addRecords(u32, i32, f64, recBase + u32[row + M_FIRST] * REC_WORDS, u32[row + M_COUNT], u32[row + M_PARTITION]);
    }
  }

  /** Folds `count` decoded records starting at word `recWord` (8-byte aligned), all read from raw `partition`. */
  addRecords(u32: Uint32Array, i32: Int32Array, f64: Float64Array, recWord: number, count: number, partition: number): void {
    if (count === 0) return;
    if (partition >= this.pMax.length) this.growPartitions(partition);
    if (this.pMax[partition] === -Infinity && this.pRecords[partition] === 0) this.touched[this.touchedCount++] = partition;
    const windowMs = this.windowMs;
    const keys = this.keys;
    let maxTime = this.pMax[partition];
    for (let i = 0; i < count; i++) {
      const w = recWord + i * REC_WORDS;
      const time = f64[(w + R_TIME_F64) >>> 1];
      if (time > maxTime) maxTime = time;
      const codes = u32[w + R_CODES];
      const type = codes & 0xff;
      const result = (codes >>> 8) & 0xff;
      const flags = codes >>> 24;
      const hasRsrp = (flags & F_RSRP) !== 0;
      const rsrp = i32[w + R_RSRP];
      const up = u32[w + R_BYTES_UP];
      const down = u32[w + R_BYTES_DOWN];
      const latency = (flags & F_SETUP_LATENCY) !== 0 && countsLatency(type) ? u32[w + R_CAUSE_SETUP] >>> 16 : -1;
      const window = Math.floor(time / windowMs);
      const equipment = u32[w + R_EQUIPMENT];
      let e: number;
      if (this.byCell) {
        e = this.entry(window, DIM_CELL, u32[w + R_CELL]);
        addRecord(this.fields, e * MEASURES, type, result, hasRsrp, rsrp, up, down);
        if (latency >= 0) this.latency(e, latency);
      }
      if (this.byEquipment) {
        e = this.entry(window, DIM_EQUIPMENT, equipment);
        addRecord(this.fields, e * MEASURES, type, result, hasRsrp, rsrp, up, down);
        if (latency >= 0) this.latency(e, latency);
      }
      if (this.byRegion || this.byVendor) {
        keys.lookup(equipment);
        if (this.byRegion && keys.regionId !== NO_KEY) {
          e = this.entry(window, DIM_REGION, keys.regionId);
          addRecord(this.fields, e * MEASURES, type, result, hasRsrp, rsrp, up, down);
          if (latency >= 0) this.latency(e, latency);
        }
        if (this.byVendor && keys.vendorId !== NO_KEY) {
          e = this.entry(window, DIM_VENDOR, keys.vendorId);
          addRecord(this.fields, e * MEASURES, type, result, hasRsrp, rsrp, up, down);
          if (latency >= 0) this.latency(e, latency);
        }
      }
    }
    this.pMax[partition] = maxTime;
    this.pRecords[partition] += count;
    this.records += count;
  }

  /**
   * The open batch's partials (partials-codec.ts, "batch") in a buffer of their own, ready to transfer; the next
   * batch starts empty.
   */
  finish(): Uint8Array {
    const out = this.out;
    out.reset();
    writeHeader(out, BATCH_MAGIC, PARTIALS_VERSION);
    out.uint(this.windowMs);
    out.uint(this.shards);
    out.uint(this.touchedCount);
    for (let i = 0; i < this.touchedCount; i++) {
      const p = this.touched[i];
      out.uint(p);
      out.uint(this.pMax[p] === -Infinity ? 0 : this.pMax[p]);
      out.uint(this.pRecords[p]);
    }
    this.writeChunks(out);
    const bytes = out.copy();
    this.reset();
    return bytes;
  }

  /** Drops the open batch without encoding it. */
  reset(): void {
    for (let e = 0; e < this.count; e++) this.index[this.eSlot[e]] = 0;
    this.count = 0;
    this.latUsed = 0;
    for (let i = 0; i < this.touchedCount; i++) {
      this.pMax[this.touched[i]] = -Infinity;
      this.pRecords[this.touched[i]] = 0;
    }
    this.touchedCount = 0;
    this.records = 0;
  }

  /** Typed-array bytes held (tables, lists and scratch). */
  byteSize(): number {
    return (
      this.index.byteLength + this.eWindow.byteLength + this.eDim.byteLength + this.eKey.byteLength + this.eSlot.byteLength +
      this.eLat.byteLength + this.fields.byteLength + this.latEntry.byteLength + this.latValue.byteLength +
      this.out.buf.byteLength + this.body.buf.byteLength + this.order.byteLength + this.latSorted.byteLength
    );
  }

  // ── the entry table

  private entry(window: number, dim: number, key: number): number {
    const mask = this.capacity - 1;
    let s = (Math.imul((key ^ Math.imul(window >>> 0, 0x85ebca6b)) + dim, 0x9e3779b1) >>> this.shift) & mask;
    const index = this.index;
    for (;;) {
      const v = index[s];
      if (v === 0) break;
      const e = v - 1;
      if (this.eKey[e] === key && this.eDim[e] === dim && this.eWindow[e] === window) return e;
      s = (s + 1) & mask;
    }
    if ((this.count + 1) * 2 > this.capacity) {
      this.rehash(this.capacity * 2);
      return this.entry(window, dim, key);
    }
    const e = this.count++;
    index[s] = e + 1;
    this.eWindow[e] = window;
    this.eDim[e] = dim;
    this.eKey[e] = key;
    this.eSlot[e] = s;
    this.eLat[e] = 0;
    clearAggregate(this.fields, e * MEASURES);
    return e;
  }

  private latency(e: number, value: number): void {
    if (this.latUsed === this.latEntry.length) {
      this.latEntry = grown(this.latEntry, this.latUsed * 2);
      this.latValue = grown(this.latValue, this.latUsed * 2);
    }
    this.latEntry[this.latUsed] = e;
    this.latValue[this.latUsed++] = value;
    this.eLat[e]++;
  }

  private allocate(capacity: number): void {
    this.capacity = capacity;
    this.shift = 32 - Math.log2(capacity);
    this.index = new Int32Array(capacity);
    const n = capacity / 2;
    this.eWindow = grown(this.eWindow, n);
    this.eDim = grown(this.eDim, n);
    this.eKey = grown(this.eKey, n);
    this.eSlot = grown(this.eSlot, n);
    this.eLat = grown(this.eLat, n);
    this.fields = grown(this.fields, n * MEASURES);
  }

  private rehash(capacity: number): void {
    this.allocate(capacity);
    const mask = capacity - 1;
    for (let e = 0; e < this.count; e++) {
      const window = this.eWindow[e];
      let s = (Math.imul((this.eKey[e] ^ Math.imul(window >>> 0, 0x85ebca6b)) + this.eDim[e], 0x9e3779b1) >>> this.shift) & mask;
      while (this.index[s] !== 0) s = (s + 1) & mask;
      this.index[s] = e + 1;
      this.eSlot[e] = s;
    }
  }

  private growPartitions(partition: number): void {
    if (partition > MAX_PARTITION) throw new KpiUsageError(`raw partition ${partition} is outside 0..${MAX_PARTITION}`);
    const n = Math.max(partition + 1, this.pMax.length * 2);
    const m = new Float64Array(n).fill(-Infinity);
    m.set(this.pMax);
    this.pMax = m;
    this.pRecords = grown(this.pRecords, n);
    this.touched = grown(this.touched, n);
  }

  // ── encoding

  private writeChunks(out: ByteWriter): void {
    const n = this.count;
    const shards = this.shards;
    if (this.order.length < n) {
      this.order = new Int32Array(this.eWindow.length);
      this.shardOf = new Int32Array(this.eWindow.length);
      this.latStart = new Uint32Array(this.eWindow.length + 1);
    }
    if (this.latSorted.length < this.latUsed) this.latSorted = new Uint16Array(this.latEntry.length);
    // shard of each entry, and a counting sort of the entries by shard
    const start = this.shardStart;
    start.fill(0);
    const keys = this.keys;
    for (let e = 0; e < n; e++) {
      const dim = this.eDim[e];
      const key = this.eKey[e];
      const h = dim === DIM_REGION ? keys.regionHash[key] : dim === DIM_VENDOR ? keys.vendorHash[key] : hashOfId(dim, key);
      const s = h % shards;
      this.shardOf[e] = s;
      start[s + 1]++;
    }
    for (let s = 0; s < shards; s++) start[s + 1] += start[s];
    for (let e = 0; e < n; e++) this.order[start[this.shardOf[e]]++] = e;
    for (let s = shards; s > 0; s--) start[s] = start[s - 1];
    start[0] = 0;
    // the latencies grouped by entry
    const latStart = this.latStart;
    latStart[0] = 0;
    for (let e = 0; e < n; e++) latStart[e + 1] = latStart[e] + this.eLat[e];
    for (let i = 0; i < this.latUsed; i++) this.latSorted[latStart[this.latEntry[i]]++] = this.latValue[i];
    for (let e = n; e > 0; e--) latStart[e] = latStart[e - 1];
    latStart[0] = 0;

    let chunks = 0;
    for (let s = 0; s < shards; s++) if (start[s + 1] > start[s]) chunks++;
    out.uint(chunks);
    for (let s = 0; s < shards; s++) {
      const from = start[s];
      const to = start[s + 1];
      if (to === from) continue;
      this.writeChunk(from, to);
      out.uint(s);
      out.uint(this.body.pos);
      out.bytes(this.body.buf.subarray(0, this.body.pos));
    }
  }

  /** The body of one shard's chunk, from the entries order[from, to), into `this.body`. */
  private writeChunk(from: number, to: number): void {
    const body = this.body;
    body.reset();
    const keys = this.keys;
    if (keys.strings.length > this.strLocal.length) {
      const size = Math.max(keys.strings.length, this.strLocal.length * 2);
      this.strLocal = new Int32Array(size);
      this.strStamp = new Uint32Array(size);
      this.strList = new Int32Array(size);
    }
    // this chunk's strings (in first-use order) and its base window
    const stamp = ++this.stamp;
    let strings = 0;
    let base = Infinity;
    for (let i = from; i < to; i++) {
      const e = this.order[i];
      if (this.eWindow[e] < base) base = this.eWindow[e];
      const dim = this.eDim[e];
      if (dim !== DIM_REGION && dim !== DIM_VENDOR) continue;
      const id = this.eKey[e];
      if (this.strStamp[id] !== stamp) {
        this.strStamp[id] = stamp;
        this.strLocal[id] = strings;
        this.strList[strings++] = id;
      }
    }
    body.uint(base);
    body.uint(strings);
    for (let i = 0; i < strings; i++) body.text(keys.text(this.strList[i]));
    body.uint(to - from);
    for (let i = from; i < to; i++) {
      const e = this.order[i];
      const dim = this.eDim[e];
      const key = dim === DIM_REGION || dim === DIM_VENDOR ? this.strLocal[this.eKey[e]] : this.eKey[e];
      writeEntry(body, this.eWindow[e] - base, dim, key, this.fields, e * MEASURES, this.latSorted, this.latStart[e], this.latStart[e + 1]);
    }
  }
}
