// The bytes of partial KPI aggregates: a chunk (one batch's entries for one shard), a batch's partials (worker → main thread) and a partials message (one shard's share of a transaction, on the partials topic).
//
// All integers are LEB128 varints (leb128.ts), signed ones zigzag. docs/kpis.md has the same layouts with examples.
//
// chunk        varint body_length, then the body:
//                varint base_window (window index = floor(event_time / window_ms))
//                varint strings, each varint byte_length + UTF-8 bytes (the region/vendor keys of this chunk)
//                varint entries, each:
//                  sint   window - base_window
//                  u8     dimension (0 cell, 1 equipment, 2 region, 3 vendor)
//                  varint key (cell_id / equipment_id; for region and vendor an index into the chunk's strings)
//                  varint mask: bit i set = field i follows, in bit order (absent fields are 0):
//                    0 records, 1 failures, 2 attach attempts, 3 attach successes, 4 session attempts,
//                    5 session successes, 6 handover attempts, 7 handover successes, 8 call drops,
//                    9 radio link failures, 10 rsrp (varint count, sint sum, sint min), 11 bytes_up,
//                    12 bytes_down, 13 setup latencies (varint count, then count varints)
// batch        "LXKB", u8 version 1, varint window_ms, varint shards,
//              varint partitions, each varint partition, varint largest event time, varint records
//              varint chunks, each varint shard then the chunk (self-delimiting)
// message      "LXKP", u8 version 1, varint window_ms, varint shard, varint shards,
//              varint marks, each varint partition, u8 flags (1 idle, 2 has a time), [varint largest event time]
//              then chunks back to back up to the end of the message
//
// A chunk carries its own string table, so a transaction's message for a shard is its header followed by the chunks
// of its batches copied as they are: nothing is parsed again on the main thread.
import { isStringDimension, DIM_COUNT } from './names.js';
import { ByteReader, ByteWriter, writeHeader, zigzag } from './leb128.js';
import { KpiFormatError, type KpiBytesOrigin } from './errors.js';
import {
  MEASURES,
  M_ATTACH_ATTEMPTS,
  M_ATTACH_SUCCESSES,
  M_BYTES_DOWN,
  M_BYTES_UP,
  M_FAILURES,
  M_HANDOVER_ATTEMPTS,
  M_HANDOVER_SUCCESSES,
  M_RECORDS,
  M_RSRP_COUNT,
  M_RSRP_MIN,
  M_RSRP_SUM,
  M_SESSION_ATTEMPTS,
  M_SESSION_SUCCESSES,
} from './measures.js';

export const BATCH_MAGIC = 0x4c584b42; // "LXKB"
export const PARTIALS_MAGIC = 0x4c584b50; // "LXKP"
export const PARTIALS_VERSION = 1;

/** Mask bits: fields 0..9 are the measures of the same index; then the groups. */
const BIT_RSRP = 10;
const BIT_BYTES_UP = 11;
const BIT_BYTES_DOWN = 12;
const BIT_LATENCY = 13;
const SIMPLE_FIELDS = 10;
const ALL_BITS = (1 << 14) - 1;
const MARK_IDLE = 1;
const MARK_TIME = 2;
const U32_MAX = 0xffffffff;

/** One raw input partition's progress as a message carries it. */
export interface PartitionMark {
  partition: number;
  /** largest event time seen from it; -Infinity when unknown */
  timeMs: number;
  idle: boolean;
}

/** Bytes an entry without latencies can take: window, dimension, key, mask and every field as a full varint. */
const MAX_ENTRY_BYTES = 8 + 1 + 5 + 3 + (SIMPLE_FIELDS + 6) * 8;

/** An unsigned varint (0 ≤ v ≤ 2^53) at b[p]; returns the position after it. The caller made room. */
function putUint(b: Uint8Array, p: number, v: number): number {
  if (v < 0x80) {
    b[p] = v;
    return p + 1;
  }
  if (v < 2147483648) {
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
  } else {
    while (v >= 0x80) {
      const low = v % 128;
      b[p++] = low | 0x80;
      v = (v - low) / 128;
    }
  }
  b[p] = v;
  return p + 1;
}

/**
 * Writes one entry of a chunk body: the aggregate at `f[base]` and the latencies `lat[from, to)`. Room is made once
 * for the whole entry; the fields go straight into the buffer (this runs for every key of every batch).
 */
export function writeEntry(
  w: ByteWriter,
  windowDelta: number,
  dim: number,
  key: number,
  f: Float64Array,
  base: number,
  lat: Uint16Array,
  from: number,
  to: number,
): void {
  w.ensure(MAX_ENTRY_BYTES + 3 * (to - from));
  const b = w.buf;
  let p = putUint(b, w.pos, zigzag(windowDelta));
  b[p++] = dim;
  p = putUint(b, p, key);
  let mask = 0;
  for (let i = 0; i < SIMPLE_FIELDS; i++) if (f[base + i] !== 0) mask |= 1 << i;
  const rsrp = f[base + M_RSRP_COUNT] !== 0;
  const up = f[base + M_BYTES_UP];
  const down = f[base + M_BYTES_DOWN];
  if (rsrp) mask |= 1 << BIT_RSRP;
  if (up !== 0) mask |= 1 << BIT_BYTES_UP;
  if (down !== 0) mask |= 1 << BIT_BYTES_DOWN;
  if (to > from) mask |= 1 << BIT_LATENCY;
  p = putUint(b, p, mask);
  for (let i = 0; i < SIMPLE_FIELDS; i++) if (f[base + i] !== 0) p = putUint(b, p, f[base + i]);
  if (rsrp) {
    p = putUint(b, p, f[base + M_RSRP_COUNT]);
    p = putUint(b, p, zigzag(f[base + M_RSRP_SUM]));
    p = putUint(b, p, zigzag(f[base + M_RSRP_MIN]));
  }
  if (up !== 0) p = putUint(b, p, up);
  if (down !== 0) p = putUint(b, p, down);
  if (to > from) {
    p = putUint(b, p, to - from);
    for (let i = from; i < to; i++) p = putUint(b, p, lat[i]);
  }
  w.pos = p;
}

/** Receives what a chunk holds, entry by entry; nothing is allocated per entry. */
export interface PartialsSink {
  /** A chunk's string (a region or vendor key): returns the id `entry` will be given for it. */
  internString(text: string): number;
  /**
   * One entry: the aggregate in `fields[0, MEASURES)` (rsrp min +Infinity without rsrp), the setup latencies in
   * `lat[0, latCount)`; `key` is the id or, for region and vendor, the id `internString` gave.
   */
  entry(window: number, dim: number, key: number, fields: Float64Array, lat: Uint16Array, latCount: number): void;
}

/** Reads chunks into a sink, validating everything; one per thread, its scratch reused. */
export class ChunkReader {
  private readonly fields = new Float64Array(MEASURES);
  private lat = new Uint16Array(256);
  private keyIds = new Int32Array(16);

  /** Reads every chunk from `r.pos` to `r.end` (a sink of null only validates); returns the entries read. */
  readChunks(r: ByteReader, sink: PartialsSink | null): number {
    let entries = 0;
    while (r.remaining > 0) {
      const len = r.uint('chunk length');
      if (len > r.remaining) r.fail('truncated', `truncated: a chunk of ${len} bytes with ${r.remaining} left`);
      const end = r.pos + len;
      const outer = r.end;
      r.end = end;
      entries += this.readBody(r, sink);
      r.done('chunk');
      r.end = outer;
    }
    return entries;
  }

  private readBody(r: ByteReader, sink: PartialsSink | null): number {
    const baseWindow = r.uint('base window');
    const nStrings = r.uintMax('string count', r.remaining);
    if (nStrings > this.keyIds.length) this.keyIds = new Int32Array(Math.max(nStrings, this.keyIds.length * 2));
    for (let i = 0; i < nStrings; i++) {
      const text = r.text(`string ${i}`);
      if (text === '') r.fail('bad_value', `string ${i} is empty (an empty region or vendor is no key)`);
      this.keyIds[i] = sink === null ? i : sink.internString(text);
    }
    const n = r.uintMax('entry count', r.remaining);
    const f = this.fields;
    for (let e = 0; e < n; e++) {
      const window = baseWindow + r.sint('window delta');
      if (window < 0) r.fail('bad_value', `entry ${e}: window index ${window} is negative`);
      const dim = r.u8('dimension');
      if (dim >= DIM_COUNT) r.fail('bad_value', `entry ${e}: dimension ${dim} is not 0..3`);
      let key = r.uint('key');
      if (isStringDimension(dim)) {
        if (key >= nStrings) r.fail('bad_value', `entry ${e}: string index ${key} beyond the chunk's ${nStrings} strings`);
        key = this.keyIds[key];
      } else if (key > U32_MAX) r.fail('bad_value', `entry ${e}: key ${key} is not a 32-bit id`);
      const mask = r.uint('field mask');
      if (mask > ALL_BITS) r.fail('bad_value', `entry ${e}: field mask ${mask} has unknown bits`);
      f.fill(0);
      f[M_RSRP_MIN] = Infinity;
      for (let i = 0; i < SIMPLE_FIELDS; i++) if (mask & (1 << i)) f[i] = r.uint('count');
      if (mask & (1 << BIT_RSRP)) {
        f[M_RSRP_COUNT] = r.uint('rsrp count');
        f[M_RSRP_SUM] = r.sint('rsrp sum');
        f[M_RSRP_MIN] = r.sint('rsrp min');
      }
      if (mask & (1 << BIT_BYTES_UP)) f[M_BYTES_UP] = r.uint('bytes_up');
      if (mask & (1 << BIT_BYTES_DOWN)) f[M_BYTES_DOWN] = r.uint('bytes_down');
      let latCount = 0;
      if (mask & (1 << BIT_LATENCY)) {
        latCount = r.uintMax('latency count', r.remaining);
        if (latCount > this.lat.length) this.lat = new Uint16Array(Math.max(latCount, this.lat.length * 2));
        const lat = this.lat;
        for (let i = 0; i < latCount; i++) lat[i] = r.uintMax('setup latency', 0xffff);
      }
      const wrong = inconsistency(f, latCount);
      if (wrong !== null) r.fail('bad_value', `entry ${e}: ${wrong}`);
      if (sink !== null) sink.entry(window, dim, key, f, this.lat, latCount);
    }
    return n;
  }
}

/** What no real aggregate can be (null when consistent): catches bytes that parse but mean nothing. */
function inconsistency(f: Float64Array, latCount: number): string | null {
  const records = f[M_RECORDS];
  if (records < 1) return 'no record';
  if (f[M_FAILURES] > records) return 'more failures than records';
  if (f[M_ATTACH_SUCCESSES] > f[M_ATTACH_ATTEMPTS]) return 'more attach successes than attempts';
  if (f[M_SESSION_SUCCESSES] > f[M_SESSION_ATTEMPTS]) return 'more session successes than attempts';
  if (f[M_HANDOVER_SUCCESSES] > f[M_HANDOVER_ATTEMPTS]) return 'more handover successes than attempts';
  if (f[M_ATTACH_ATTEMPTS] + f[M_SESSION_ATTEMPTS] + f[M_HANDOVER_ATTEMPTS] > records) return 'more attempts than records';
  if (f[M_RSRP_COUNT] > records) return 'more rsrp values than records';
  if (latCount > f[M_SESSION_ATTEMPTS]) return 'more setup latencies than session attempts';
  const n = f[M_RSRP_COUNT];
  if (n > 0) {
    const min = f[M_RSRP_MIN];
    if (min < -2147483648 || min > 2147483647) return `rsrp min ${min} is not a 32-bit value`;
    if (f[M_RSRP_SUM] < min * n) return 'an rsrp sum below count × min';
  }
  return null;
}

// ── a batch's partials (worker → main thread)

/** A batch's partials opened on the main thread: its marks and, per chunk, the shard and the chunk's bytes (views). */
export interface BatchPartialsView {
  windowMs: number;
  shards: number;
  /** raw input partitions of the batch, their largest event time and record count */
  partitions: number[];
  maxTimes: number[];
  records: number[];
  chunkShards: number[];
  chunks: Uint8Array[];
}

/** Opens a batch's partials (cheap: an index over the chunks, which stay where they are). */
export function readBatchPartials(bytes: Uint8Array, origin: KpiBytesOrigin = { what: 'batch partials' }): BatchPartialsView {
  const r = new ByteReader(bytes, origin);
  r.header(BATCH_MAGIC, PARTIALS_VERSION, 'batch of KPI partials');
  const windowMs = r.uint('window_ms');
  const shards = r.uint('shards');
  if (windowMs < 1 || shards < 1) r.fail('bad_value', `window_ms ${windowMs} and shards ${shards} must be positive`);
  const v: BatchPartialsView = { windowMs, shards, partitions: [], maxTimes: [], records: [], chunkShards: [], chunks: [] };
  for (let i = 0, n = r.uintMax('partition count', r.remaining); i < n; i++) {
    v.partitions.push(r.uintMax('partition', 0xffff));
    v.maxTimes.push(r.uint('largest event time'));
    v.records.push(r.uint('records'));
  }
  for (let i = 0, n = r.uintMax('chunk count', r.remaining); i < n; i++) {
    const shard = r.uint('chunk shard');
    if (shard >= shards) r.fail('bad_value', `chunk ${i}: shard ${shard} is not below ${shards}`);
    const at = r.pos;
    const len = r.uint('chunk length');
    r.view(len, `chunk ${i}`);
    v.chunkShards.push(shard);
    v.chunks.push(bytes.subarray(at, r.pos));
  }
  r.done('batch of KPI partials');
  return v;
}

// ── a partials message (one shard's share of one transaction)

/** Builds a partials message from its marks and chunks (each as `readBatchPartials` gave it). */
export function encodePartialsMessage(
  windowMs: number,
  shard: number,
  shards: number,
  marks: readonly PartitionMark[],
  chunks: readonly Uint8Array[],
): Buffer {
  const head = new ByteWriter(32 + marks.length * 12);
  writeHeader(head, PARTIALS_MAGIC, PARTIALS_VERSION);
  head.uint(windowMs);
  head.uint(shard);
  head.uint(shards);
  head.uint(marks.length);
  for (const m of marks) {
    const hasTime = m.timeMs > -Infinity;
    head.uint(m.partition);
    head.u8((m.idle ? MARK_IDLE : 0) | (hasTime ? MARK_TIME : 0));
    if (hasTime) head.uint(m.timeMs);
  }
  let size = head.pos;
  for (const c of chunks) size += c.length;
  const out = Buffer.allocUnsafe(size);
  out.set(head.buf.subarray(0, head.pos), 0);
  let p = head.pos;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** A message's header: its window size, shard, shard count and marks; `r` is left at the first chunk. */
export interface PartialsHeader {
  windowMs: number;
  shard: number;
  shards: number;
  marks: PartitionMark[];
}

export function readPartialsHeader(r: ByteReader): PartialsHeader {
  r.header(PARTIALS_MAGIC, PARTIALS_VERSION, 'KPI partials message');
  const windowMs = r.uint('window_ms');
  const shard = r.uint('shard');
  const shards = r.uint('shards');
  if (windowMs < 1 || shards < 1 || shard >= shards) r.fail('bad_value', `window_ms ${windowMs}, shard ${shard} of ${shards} is not a valid header`);
  const marks: PartitionMark[] = [];
  for (let i = 0, n = r.uintMax('mark count', r.remaining); i < n; i++) {
    const partition = r.uintMax('partition', 0xffff);
    const flags = r.u8('mark flags');
    if (flags > (MARK_IDLE | MARK_TIME)) r.fail('bad_value', `mark ${i}: unknown flags ${flags}`);
    const timeMs = flags & MARK_TIME ? r.uint('largest event time') : -Infinity;
    marks.push({ partition, timeMs, idle: (flags & MARK_IDLE) !== 0 });
  }
  return { windowMs, shard, shards, marks };
}

/**
 * Opens a message read from the partials topic and checks it against the reader's configuration: the shard it was
 * read from and the window size (a message of another window size means instances disagree on kpis.window_ms: its
 * windows are not ours to merge).
 */
export function openPartialsMessage(bytes: Uint8Array, shard: number, offset: number, windowMs: number): { reader: ByteReader; header: PartialsHeader } {
  const origin: KpiBytesOrigin = { what: 'KPI partials message', shard, offset };
  const reader = new ByteReader(bytes, origin);
  const header = readPartialsHeader(reader);
  if (header.windowMs !== windowMs) {
    throw new KpiFormatError(
      origin,
      'window_mismatch',
      `written for windows of ${header.windowMs} ms, this instance merges windows of ${windowMs} ms (kpis.window_ms must be the same on every instance)`,
    );
  }
  if (header.shard !== shard) {
    throw new KpiFormatError(origin, 'shard_mismatch', `written for shard ${header.shard}, read from shard ${shard} (a message produced to the wrong partition)`);
  }
  return { reader, header };
}
