// Builds LXE1 frames (SPEC section 1) from plain objects, valid or deliberately broken, for tests, the traffic generator and benchmarks.
import { crc32 } from 'node:zlib';

export const LXE1_MAGIC = Uint8Array.of(0x4c, 0x58, 0x45, 0x31);
export const HEADER_BYTES = 16;
export const RECORD_FIXED_BYTES = 40;

export const TAG_APN = 0x01;
export const TAG_RSRP = 0x02;
export const TAG_TARGET_CELL = 0x03;
export const TAG_SETUP_LATENCY = 0x04;
export const TAG_VENDOR_DETAIL = 0x05;

/** One raw extension; `len` overrides the length byte (to build TLVs that run past their record). */
export interface Tlv {
  tag: number;
  value: Uint8Array | readonly number[] | string;
  len?: number;
}

export interface RecordInput {
  /** wire code, default 1 (attach) */
  type?: number;
  /** wire code, default 0 (success) */
  result?: number;
  /** ms since the epoch; a bigint writes any u64 */
  eventTime: number | bigint;
  cellId?: number;
  causeCode?: number;
  /** wire code, default 3 (4G) */
  rat?: number;
  reserved?: number;
  /** digit string (0–16 digits), null for all FF, or the 8 raw TBCD bytes */
  imsi?: string | null | Uint8Array;
  durationMs?: number;
  bytesUp?: number;
  bytesDown?: number;
  apn?: string | Uint8Array;
  rsrpDbm?: number;
  targetCellId?: number;
  setupLatencyMs?: number;
  vendorDetail?: string | Uint8Array;
  /** extensions after the named ones, in order */
  extraTlvs?: readonly Tlv[];
  /** when given, replaces every extension (named fields and extraTlvs) */
  tlvs?: readonly Tlv[];
  /** overrides the record's length field */
  length?: number;
}

export interface FrameInput {
  equipmentId: number;
  frameSeq: number;
  records: readonly RecordInput[];
  /** flags bit 0: append the CRC-32 trailer */
  crc?: boolean;
}

/** Ways to break a frame; each applied on top of an otherwise valid encoding. */
export interface FrameFaults {
  magic?: Uint8Array | readonly number[];
  version?: number;
  /** the whole flags byte; bit 0 still decides whether a trailer is written unless `crc` says otherwise */
  flags?: number;
  /** header record_count, independent of the records actually written */
  recordCount?: number;
  /** the trailer value written instead of the true CRC */
  crcValue?: number;
  /** XOR applied to the true CRC (e.g. 1) */
  crcXor?: number;
  /** drop this many bytes from the end */
  truncateBy?: number;
  /** bytes appended after the frame (after the trailer, if any) */
  trailing?: Uint8Array | readonly number[];
}

const utf8 = new TextEncoder();

function bytesOf(v: Uint8Array | readonly number[] | string): Uint8Array {
  if (typeof v === 'string') return utf8.encode(v);
  return v instanceof Uint8Array ? v : Uint8Array.from(v);
}

/** TBCD (3GPP TS 29.002): digit 2k in the low nibble of byte k, digit 2k+1 in the high nibble, F-filled. */
export function encodeImsi(digits: string | null): Uint8Array {
  const out = new Uint8Array(8).fill(0xff);
  if (digits === null) return out;
  if (!/^[0-9]{0,16}$/.test(digits)) throw new RangeError(`imsi must be 0-16 decimal digits: ${digits}`);
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(i) - 48;
    const b = i >> 1;
    out[b] = i & 1 ? (out[b]! & 0x0f) | (d << 4) : (out[b]! & 0xf0) | d;
  }
  return out;
}

function recordTlvs(r: RecordInput): Tlv[] {
  if (r.tlvs !== undefined) return [...r.tlvs];
  const t: Tlv[] = [];
  if (r.apn !== undefined) t.push({ tag: TAG_APN, value: bytesOf(r.apn) });
  if (r.rsrpDbm !== undefined) t.push({ tag: TAG_RSRP, value: be16(r.rsrpDbm & 0xffff) });
  if (r.targetCellId !== undefined) t.push({ tag: TAG_TARGET_CELL, value: be32(r.targetCellId) });
  if (r.setupLatencyMs !== undefined) t.push({ tag: TAG_SETUP_LATENCY, value: be16(r.setupLatencyMs) });
  if (r.vendorDetail !== undefined) t.push({ tag: TAG_VENDOR_DETAIL, value: bytesOf(r.vendorDetail) });
  if (r.extraTlvs !== undefined) t.push(...r.extraTlvs);
  return t;
}

function be16(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}
function be32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** One record's bytes: the 40 fixed bytes then its TLVs. */
export function encodeRecord(r: RecordInput): Uint8Array {
  const tlvs = recordTlvs(r).map((t) => ({ tag: t.tag, value: bytesOf(t.value), len: t.len }));
  const size = RECORD_FIXED_BYTES + tlvs.reduce((s, t) => s + 2 + t.value.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, (r.length ?? size) & 0xffff);
  dv.setUint8(2, r.type ?? 1);
  dv.setUint8(3, r.result ?? 0);
  dv.setBigUint64(4, BigInt.asUintN(64, BigInt(r.eventTime)));
  dv.setUint32(12, r.cellId ?? 0);
  dv.setUint16(16, r.causeCode ?? 0);
  dv.setUint8(18, r.rat ?? 3);
  dv.setUint8(19, r.reserved ?? 0);
  out.set(r.imsi instanceof Uint8Array ? r.imsi : encodeImsi(r.imsi ?? null), 20);
  dv.setUint32(28, r.durationMs ?? 0);
  dv.setUint32(32, r.bytesUp ?? 0);
  dv.setUint32(36, r.bytesDown ?? 0);
  let at = RECORD_FIXED_BYTES;
  for (const t of tlvs) {
    out[at] = t.tag;
    out[at + 1] = t.len ?? t.value.length;
    out.set(t.value, at + 2);
    at += 2 + t.value.length;
  }
  return out;
}

/** A whole frame: header, records, optional CRC trailer, then any faults applied. */
export function encodeFrame(frame: FrameInput, faults: FrameFaults = {}): Buffer {
  const records = frame.records.map(encodeRecord);
  const withCrc = frame.crc ?? false;
  const body = HEADER_BYTES + records.reduce((s, r) => s + r.length, 0);
  const trailing = faults.trailing === undefined ? undefined : bytesOf(faults.trailing);
  const out = Buffer.alloc(body + (withCrc ? 4 : 0) + (trailing?.length ?? 0));
  out.set(faults.magic === undefined ? LXE1_MAGIC : bytesOf(faults.magic).subarray(0, 4), 0);
  out.writeUInt8(faults.version ?? 1, 4);
  out.writeUInt8(faults.flags ?? (withCrc ? 1 : 0), 5);
  out.writeUInt16BE((faults.recordCount ?? records.length) & 0xffff, 6);
  out.writeUInt32BE(frame.equipmentId >>> 0, 8);
  out.writeUInt32BE(frame.frameSeq >>> 0, 12);
  let at = HEADER_BYTES;
  for (const r of records) {
    out.set(r, at);
    at += r.length;
  }
  if (withCrc) {
    const crc = faults.crcValue ?? (crc32(out.subarray(0, body)) ^ (faults.crcXor ?? 0)) >>> 0;
    out.writeUInt32BE(crc >>> 0, body);
    at += 4;
  }
  if (trailing !== undefined) out.set(trailing, at);
  return faults.truncateBy === undefined ? out : out.subarray(0, Math.max(0, out.length - faults.truncateBy));
}

/** The `lux decode` input stream: each frame preceded by its length as a 4-byte big-endian integer. */
export function encodeFrameStream(frames: readonly Uint8Array[]): Buffer {
  const out = Buffer.alloc(frames.reduce((s, f) => s + 4 + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.writeUInt32BE(f.length, at);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}
