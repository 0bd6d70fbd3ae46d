// Pre-encoded frames for the rate benchmark: frames from the traffic model written to a file before the clock starts, then re-stamped in place (event times, CRC) as they are sent, never encoded again.
//
// A pack entry is [u32 frame length][u32 equipment id][u16 records][u8 broken][frame], big-endian. Loading it indexes
// where every good frame's records keep their 8-byte event_time (SPEC section 1: record offset 4), so stamping a frame
// is two 32-bit writes a record, plus one CRC-32 over the frame when it carries the trailer.
import fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { HEADER_BYTES } from '../../src/gen/frame-encoder.js';
import { TrafficModel, type TrafficOptions } from '../../src/gen/traffic.js';

const ENTRY_HEADER = 11;
/** Offset of event_time inside a record. */
const RECORD_EVENT_TIME = 4;
const TWO_32 = 4294967296;

/** Writes `frames` frames of the traffic model to `file`; their event times are placeholders until stamped. */
export function writePack(file: string, traffic: Partial<TrafficOptions>, frames: number, baseTimeMs = Date.now()): { frames: number; bytes: number } {
  const model = new TrafficModel(traffic);
  const fd = fs.openSync(file, 'w');
  const buffer = Buffer.allocUnsafe(4 << 20);
  let used = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < frames; i++) {
      const f = model.next(baseTimeMs);
      const need = ENTRY_HEADER + f.value.length;
      if (used + need > buffer.length) {
        fs.writeSync(fd, buffer, 0, used);
        used = 0;
      }
      buffer.writeUInt32BE(f.value.length, used);
      buffer.writeUInt32BE(f.equipmentId >>> 0, used + 4);
      buffer.writeUInt16BE(f.records, used + 8);
      buffer.writeUInt8(f.bad === null ? 0 : 1, used + 10);
      f.value.copy(buffer, used + ENTRY_HEADER);
      used += need;
      bytes += need;
    }
    if (used > 0) fs.writeSync(fd, buffer, 0, used);
  } finally {
    fs.closeSync(fd);
  }
  return { frames, bytes };
}

/** A loaded pack: one buffer, typed-array indexes, one key string per equipment. */
export class FramePack {
  readonly count: number;
  /** where each frame's bytes start in `data` */
  private readonly at: Uint32Array;
  private readonly length: Uint32Array;
  /** records of each frame (broken frames' included: the generator's rate counts them) */
  readonly records: Uint16Array;
  readonly broken: Uint8Array;
  private readonly crc: Uint8Array;
  private readonly keyOf: string[];
  /** event_time field offsets of frame i: stamps[stampFrom[i] .. stampFrom[i + 1]) */
  private readonly stampFrom: Uint32Array;
  private readonly stamps: Uint32Array;
  /** every distinct key's bytes, back to back, and each frame's key range in them (for the native batch produce) */
  readonly keyBytes: Uint8Array;
  private readonly keyAt: Uint32Array;

  constructor(private readonly data: Buffer) {
    let n = 0;
    for (let p = 0; p + ENTRY_HEADER <= data.length; p += ENTRY_HEADER + data.readUInt32BE(p)) n++;
    this.count = n;
    this.at = new Uint32Array(n);
    this.length = new Uint32Array(n);
    this.records = new Uint16Array(n);
    this.broken = new Uint8Array(n);
    this.crc = new Uint8Array(n);
    this.keyOf = new Array<string>(n);
    this.stampFrom = new Uint32Array(n + 1);
    const keys = new Map<number, string>();
    const keyRange = new Map<number, number>();
    const keyText: string[] = [];
    let keyLength = 0;
    this.keyAt = new Uint32Array(2 * n);
    const stamps: number[] = [];
    let p = 0;
    for (let i = 0; i < n; i++) {
      const len = data.readUInt32BE(p);
      const id = data.readUInt32BE(p + 4);
      let key = keys.get(id);
      if (key === undefined) {
        keys.set(id, (key = String(id)));
        keyRange.set(id, keyLength);
        keyText.push(key);
        keyLength += key.length;
      }
      this.keyOf[i] = key;
      this.keyAt[2 * i] = keyRange.get(id)!;
      this.keyAt[2 * i + 1] = keyRange.get(id)! + key.length;
      this.records[i] = data.readUInt16BE(p + 8);
      this.broken[i] = data[p + 10]!;
      const start = p + ENTRY_HEADER;
      this.at[i] = start;
      this.length[i] = len;
      this.stampFrom[i] = stamps.length;
      // Broken frames go as they are: they are dead-lettered, and stamping could mend or change how they break.
      if (this.broken[i] === 0) {
        this.crc[i] = data[start + 5]! & 1;
        const records = data.readUInt16BE(start + 6);
        let r = start + HEADER_BYTES;
        for (let k = 0; k < records; k++) {
          stamps.push(r + RECORD_EVENT_TIME);
          r += data.readUInt16BE(r);
        }
      }
      p = start + len;
    }
    this.stampFrom[n] = stamps.length;
    this.stamps = Uint32Array.from(stamps);
    this.keyBytes = Buffer.from(keyText.join(''), 'latin1');
  }

  /** The pack's bytes: every frame's value range (`spec`) indexes them. */
  get bytes(): Uint8Array {
    return this.data;
  }

  /** Frame i as the native batch produce takes a record: value start, value end, key start, key end (in keyBytes). */
  spec(i: number, out: Uint32Array, at: number): void {
    out[at] = this.at[i]!;
    out[at + 1] = this.at[i]! + this.length[i]!;
    out[at + 2] = this.keyAt[2 * i]!;
    out[at + 3] = this.keyAt[2 * i + 1]!;
  }

  static load(file: string): FramePack {
    return new FramePack(fs.readFileSync(file));
  }

  key(i: number): string {
    return this.keyOf[i]!;
  }

  /** Writes `timeMs` as every record's event_time in frame i, refreshes its CRC trailer, and returns the frame's bytes. */
  stamp(i: number, timeMs: number): Buffer {
    const hi = Math.floor(timeMs / TWO_32);
    const lo = timeMs - hi * TWO_32;
    const d = this.data;
    for (let s = this.stampFrom[i]!, end = this.stampFrom[i + 1]!; s < end; s++) {
      const o = this.stamps[s]!;
      d.writeUInt32BE(hi, o);
      d.writeUInt32BE(lo, o + 4);
    }
    const start = this.at[i]!;
    const end = start + this.length[i]!;
    if (this.crc[i] === 1) d.writeUInt32BE(crc32(d.subarray(start, end - 4)) >>> 0, end - 4);
    return d.subarray(start, end);
  }
}
