// Test fixture: writes decoded-record slots (layout.ts words) from JS, standing in for the WASM decoder.
import {
  F_APN,
  F_IMSI,
  F_RSRP,
  F_SETUP_LATENCY,
  F_TARGET_CELL,
  F_VENDOR_DETAIL,
  R_APN_LEN,
  R_APN_PTR,
  R_BYTES_DOWN,
  R_BYTES_UP,
  R_CAUSE_SETUP,
  R_CELL,
  R_CODES,
  R_DURATION,
  R_EQUIPMENT,
  R_FRAME_SEQ,
  R_IMSI_DIGITS,
  R_IMSI_PTR,
  R_INDEX,
  R_MESSAGE,
  R_RSRP,
  R_TARGET_CELL,
  R_TIME_F64,
  R_VD_LEN,
  R_VD_PTR,
  REC_BYTES,
  MSG_WORDS,
  M_COUNT,
  M_FIRST,
  M_REASON,
  type SlotGeometry,
} from '../../src/decode/layout.js';
import { RecordJsonWriter, type SlotWriter } from '../../src/enrich/record-json.js';
import { loadRecordJson, NativeRecordJsonWriter } from '../../src/enrich/native-record-json.js';
import type { Reference } from '../../src/enrich/reference.js';
import type { Snapshot } from '../../src/enrich/snapshot.js';

export interface RecordFields {
  timeMs: number;
  equipmentId: number;
  frameSeq?: number;
  index?: number;
  type?: number;
  result?: number;
  rat?: number;
  cellId?: number;
  causeCode?: number;
  durationMs?: number;
  bytesUp?: number;
  bytesDown?: number;
  /** digit string; null or undefined: no imsi */
  imsi?: string | null;
  apn?: Uint8Array;
  rsrpDbm?: number;
  targetCellId?: number;
  setupLatencyMs?: number;
  vendorDetail?: Uint8Array;
}

/** A shared buffer holding `capacity` record slots followed by a byte area for apn / vendor_detail / imsi values. */
export class RecordArena {
  readonly memory: SharedArrayBuffer;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly u8: Uint8Array;
  private textPtr: number;

  constructor(
    readonly capacity: number,
    textBytes = capacity * 600,
    readonly base = 64,
  ) {
    this.memory = new SharedArrayBuffer(base + capacity * REC_BYTES + textBytes);
    this.u32 = new Uint32Array(this.memory);
    this.i32 = new Int32Array(this.memory);
    this.f64 = new Float64Array(this.memory);
    this.u8 = new Uint8Array(this.memory);
    this.textPtr = base + capacity * REC_BYTES;
  }

  recPtr(i: number): number {
    return this.base + i * REC_BYTES;
  }

  /** Forgets the byte area (records written later reuse it). */
  resetText(): void {
    this.textPtr = this.base + this.capacity * REC_BYTES;
  }

  put(i: number, r: RecordFields): number {
    const ptr = this.recPtr(i);
    const w = ptr / 4;
    this.u32.fill(0, w, w + REC_BYTES / 4);
    this.f64[(ptr + R_TIME_F64 * 4) / 8] = r.timeMs;
    this.u32[w + R_EQUIPMENT] = r.equipmentId;
    this.u32[w + R_FRAME_SEQ] = r.frameSeq ?? 0;
    this.u32[w + R_INDEX] = r.index ?? 0;
    this.u32[w + R_CELL] = r.cellId ?? 0;
    this.u32[w + R_DURATION] = r.durationMs ?? 0;
    this.u32[w + R_BYTES_UP] = r.bytesUp ?? 0;
    this.u32[w + R_BYTES_DOWN] = r.bytesDown ?? 0;
    this.u32[w + R_MESSAGE] = 0;
    let flags = 0;
    if (r.imsi !== undefined && r.imsi !== null) {
      flags |= F_IMSI;
      const at = this.text(new Uint8Array(8).fill(0xff));
      for (let d = 0; d < r.imsi.length; d++) {
        const v = r.imsi.charCodeAt(d) - 48;
        const b = at + (d >> 1);
        this.u8[b] = d % 2 === 0 ? (this.u8[b] & 0xf0) | v : (this.u8[b] & 0x0f) | (v << 4);
      }
      this.u32[w + R_IMSI_PTR] = at;
      this.u32[w + R_IMSI_DIGITS] = r.imsi.length;
    }
    if (r.apn !== undefined) {
      flags |= F_APN;
      this.u32[w + R_APN_PTR] = this.text(r.apn);
      this.u32[w + R_APN_LEN] = r.apn.length;
    }
    if (r.vendorDetail !== undefined) {
      flags |= F_VENDOR_DETAIL;
      this.u32[w + R_VD_PTR] = this.text(r.vendorDetail);
      this.u32[w + R_VD_LEN] = r.vendorDetail.length;
    }
    if (r.rsrpDbm !== undefined) {
      flags |= F_RSRP;
      this.i32[w + R_RSRP] = r.rsrpDbm;
    }
    if (r.targetCellId !== undefined) {
      flags |= F_TARGET_CELL;
      this.u32[w + R_TARGET_CELL] = r.targetCellId;
    }
    if (r.setupLatencyMs !== undefined) flags |= F_SETUP_LATENCY;
    this.u32[w + R_CAUSE_SETUP] = ((r.causeCode ?? 0) | ((r.setupLatencyMs ?? 0) << 16)) >>> 0;
    this.u32[w + R_CODES] = ((r.type ?? 1) | ((r.result ?? 0) << 8) | ((r.rat ?? 3) << 16) | (flags << 24)) >>> 0;
    return ptr;
  }

  private text(bytes: Uint8Array): number {
    const at = this.textPtr;
    if (at + bytes.length > this.u8.length) throw new Error('record arena text area is full');
    this.u8.set(bytes, at);
    this.textPtr += bytes.length;
    return at;
  }
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEXT_CHARS = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u0001', '\u001f', '\u007f', 'é', '日', '😀', '\u2028', '\u2029', '\ufeff', '.', ','];

/** A random string rich in characters JSON must escape, as UTF-8 bytes of at most 255. */
export function randomText(rand: () => number, maxChars = 40): Uint8Array {
  let s = '';
  const n = Math.floor(rand() * maxChars);
  for (let i = 0; i < n; i++) s += TEXT_CHARS[Math.floor(rand() * TEXT_CHARS.length)];
  // at most 40 characters of at most 4 bytes: always within a TLV's 255 bytes
  return new Uint8Array(Buffer.from(s, 'utf8'));
}

/** A random record touching every field, flag and enum range (including unknown codes). */
export function randomRecord(rand: () => number, equipmentIds: readonly number[], causeCodes: readonly number[], t0: number, t1: number): RecordFields {
  const u32 = (): number => Math.floor(rand() * 4294967296);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const small = (): number => (rand() < 0.5 ? Math.floor(rand() * 1000) : u32());
  const r: RecordFields = {
    timeMs: t0 + Math.floor(rand() * (t1 - t0)),
    equipmentId: rand() < 0.9 ? pick(equipmentIds) : u32(),
    frameSeq: small(),
    index: Math.floor(rand() * 100),
    type: rand() < 0.9 ? 1 + Math.floor(rand() * 8) : Math.floor(rand() * 256),
    result: rand() < 0.9 ? Math.floor(rand() * 3) : Math.floor(rand() * 256),
    rat: rand() < 0.9 ? 1 + Math.floor(rand() * 5) : Math.floor(rand() * 256),
    cellId: small(),
    causeCode: rand() < 0.3 ? 0 : rand() < 0.8 ? pick(causeCodes) : Math.floor(rand() * 65536),
    durationMs: small(),
    bytesUp: small(),
    bytesDown: small(),
    imsi: rand() < 0.2 ? null : Array.from({ length: Math.floor(rand() * 17) }, () => String(Math.floor(rand() * 10))).join(''),
  };
  if (rand() < 0.5) r.apn = randomText(rand);
  if (rand() < 0.5) r.rsrpDbm = Math.floor(rand() * 65536) - 32768;
  if (rand() < 0.5) r.targetCellId = u32();
  if (rand() < 0.5) r.setupLatencyMs = Math.floor(rand() * 65536);
  if (rand() < 0.5) r.vendorDetail = randomText(rand);
  return r;
}

/**
 * Both record serializers, by name: the tests hold each to the same bytes. The native one must load here (npm test
 * builds it): a missing addon fails the tests that use it rather than skipping them.
 */
export const SLOT_WRITERS: readonly [string, (reference: Snapshot | Reference, memory: SharedArrayBuffer) => SlotWriter][] = [
  ['RecordJsonWriter', (reference, memory) => new RecordJsonWriter(reference, memory)],
  [
    'NativeRecordJsonWriter',
    (reference, memory) => {
      const load = loadRecordJson();
      if (load.addon === undefined) throw new Error(load.reason);
      return new NativeRecordJsonWriter(load.addon, reference, memory);
    },
  ],
];

/**
 * Writes the record at `ptr` of an arena (whose first 32 bytes are free: base ≥ 32) through `writeSlot`, as a slot of
 * one message holding that one record; returns the end offset in `out`, or -1 when it might not fit.
 */
export function writeOne(writer: SlotWriter, arena: RecordArena, ptr: number, out: Uint8Array): number {
  const u32 = new Uint32Array(arena.memory, 0, MSG_WORDS);
  u32.fill(0);
  u32[M_REASON] = 0;
  u32[M_FIRST] = (ptr - arena.base) / REC_BYTES;
  u32[M_COUNT] = 1;
  const geo = { msgPtr: 0, recPtr: arena.base } as SlotGeometry;
  const ends = new Uint32Array(1);
  const w = writer.writeSlot(geo, 1, 0, 0, out, ends, false);
  return w.records === 1 ? ends[0] : -1;
}
