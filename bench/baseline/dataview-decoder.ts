// The benchmark baseline and test oracle: the LXE1 decoder written plainly in TypeScript over a DataView, same checks and same record slots as the WASM one.
import {
  MSG_BYTES, M_COUNT, M_FIRST, M_LEN, M_PTR, M_REASON, REC_BYTES,
  R_APN_LEN, R_APN_PTR, R_BYTES_DOWN, R_BYTES_UP, R_CAUSE_SETUP, R_CELL, R_CODES, R_DURATION, R_EQUIPMENT,
  R_FRAME_SEQ, R_IMSI_DIGITS, R_IMSI_PTR, R_INDEX, R_MESSAGE, R_RSRP, R_TARGET_CELL, R_TIME_F64, R_VD_LEN, R_VD_PTR,
  F_APN, F_IMSI, F_RSRP, F_SETUP_LATENCY, F_TARGET_CELL, F_VENDOR_DETAIL,
} from '../../src/decode/layout.js';
import { Reason } from '../../src/decode/reasons.js';

const TIME_MIN = 946684800000;
const TIME_END = 4102444800000;
const MAGIC = 0x4c584531;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Decodes batches laid out as in layout.ts over any buffer; writes the same message-table words and record slots as decodeBatch. */
export class DataViewDecoder {
  private readonly dv: DataView;
  private readonly u8: Uint8Array;

  constructor(buffer: ArrayBufferLike) {
    this.dv = new DataView(buffer);
    this.u8 = new Uint8Array(buffer);
  }

  decodeBatch(msgPtr: number, msgCount: number, recPtr: number): number {
    const dv = this.dv;
    let cursor = 0;
    for (let m = 0; m < msgCount; m++) {
      const row = msgPtr + m * MSG_BYTES;
      const ptr = dv.getUint32(row + M_PTR * 4, true);
      const len = dv.getUint32(row + M_LEN * 4, true);
      const reason =
        ptr > dv.byteLength || len > dv.byteLength - ptr ? Reason.Truncated : this.frame(ptr, len, recPtr + cursor * REC_BYTES, m);
      dv.setUint32(row + M_REASON * 4, reason, true);
      dv.setUint32(row + M_FIRST * 4, cursor, true);
      const count = reason === Reason.Ok ? dv.getUint16(ptr + 6) : 0;
      dv.setUint32(row + M_COUNT * 4, count, true);
      cursor += count;
    }
    return cursor;
  }

  crc32(ptr: number, len: number): number {
    const u8 = this.u8;
    let crc = 0xffffffff;
    for (let i = ptr, end = ptr + len; i < end; i++) crc = CRC_TABLE[(crc ^ u8[i]!) & 0xff]! ^ (crc >>> 8);
    return ~crc >>> 0;
  }

  private frame(ptr: number, len: number, out: number, message: number): number {
    const dv = this.dv;
    if (len < 16) return Reason.Truncated;
    if (dv.getUint32(ptr) !== MAGIC) return Reason.BadMagic;
    if (dv.getUint8(ptr + 4) !== 1) return Reason.BadVersion;
    const flags = dv.getUint8(ptr + 5);
    if ((flags & 0xfe) !== 0) return Reason.BadFlags;
    const count = dv.getUint16(ptr + 6);
    if (count === 0) return Reason.EmptyFrame;
    const equipment = dv.getUint32(ptr + 8);
    const seq = dv.getUint32(ptr + 12);
    const end = ptr + len;
    let p = ptr + 16;
    for (let i = 0; i < count; i++) {
      if (end - p < 2) return Reason.Truncated;
      const rlen = dv.getUint16(p);
      if (rlen < 40) return Reason.BadRecordLength;
      if (end - p < rlen) return Reason.Truncated;
      const reason = this.record(p, p + rlen, out, equipment, seq, i, message);
      if (reason !== Reason.Ok) return reason;
      out += REC_BYTES;
      p += rlen;
    }
    const rest = end - p;
    if (flags & 1) {
      if (rest < 4) return Reason.Truncated;
      if (rest > 4) return Reason.TrailingBytes;
      if (this.crc32(ptr, p - ptr) !== dv.getUint32(p)) return Reason.CrcMismatch;
    } else if (rest !== 0) {
      return Reason.TrailingBytes;
    }
    return Reason.Ok;
  }

  private record(p: number, rend: number, out: number, equipment: number, seq: number, index: number, message: number): number {
    const dv = this.dv;
    const time = dv.getUint32(p + 4) * 4294967296 + dv.getUint32(p + 8);
    // Any high word above 0x3FF puts the time past 2^42 ms, far outside the range, so the double sum is exact enough to compare.
    if (time < TIME_MIN || time >= TIME_END) return Reason.BadTime;

    let flags = 0;
    let digits = 0;
    let allFF = true;
    for (let k = 0; k < 8; k++) if (dv.getUint8(p + 20 + k) !== 0xff) allFF = false;
    if (!allFF) {
      flags = F_IMSI;
      digits = 16;
      for (let k = 0; k < 16; k++) {
        const b = dv.getUint8(p + 20 + (k >> 1));
        const d = k & 1 ? b >> 4 : b & 0x0f;
        if (d === 0x0f) {
          digits = k;
          break;
        }
        if (d > 9) return Reason.BadImsi;
      }
    }

    let apnPtr = 0, apnLen = 0, vdPtr = 0, vdLen = 0, rsrp = 0, target = 0, setup = 0;
    let q = p + 40;
    while (q < rend) {
      if (rend - q < 2) return Reason.BadTlv;
      const tag = dv.getUint8(q);
      const tlen = dv.getUint8(q + 1);
      const v = q + 2;
      if (rend - v < tlen) return Reason.BadTlv;
      switch (tag) {
        case 1:
          if (!this.utf8(v, tlen)) return Reason.BadUtf8;
          apnPtr = v;
          apnLen = tlen;
          flags |= F_APN;
          break;
        case 2:
          if (tlen !== 2) return Reason.BadTlv;
          rsrp = dv.getInt16(v);
          flags |= F_RSRP;
          break;
        case 3:
          if (tlen !== 4) return Reason.BadTlv;
          target = dv.getUint32(v);
          flags |= F_TARGET_CELL;
          break;
        case 4:
          if (tlen !== 2) return Reason.BadTlv;
          setup = dv.getUint16(v);
          flags |= F_SETUP_LATENCY;
          break;
        case 5:
          if (!this.utf8(v, tlen)) return Reason.BadUtf8;
          vdPtr = v;
          vdLen = tlen;
          flags |= F_VENDOR_DETAIL;
          break;
        default:
          break;
      }
      q = v + tlen;
    }

    dv.setFloat64(out + R_TIME_F64 * 4, time, true);
    dv.setUint32(out + R_EQUIPMENT * 4, equipment, true);
    dv.setUint32(out + R_FRAME_SEQ * 4, seq, true);
    dv.setUint32(out + R_INDEX * 4, index, true);
    dv.setUint32(out + R_CELL * 4, dv.getUint32(p + 12), true);
    dv.setUint32(out + R_DURATION * 4, dv.getUint32(p + 28), true);
    dv.setUint32(out + R_BYTES_UP * 4, dv.getUint32(p + 32), true);
    dv.setUint32(out + R_BYTES_DOWN * 4, dv.getUint32(p + 36), true);
    dv.setUint32(out + R_TARGET_CELL * 4, target, true);
    dv.setUint32(out + R_APN_PTR * 4, apnPtr, true);
    dv.setUint32(out + R_APN_LEN * 4, apnLen, true);
    dv.setUint32(out + R_VD_PTR * 4, vdPtr, true);
    dv.setUint32(out + R_VD_LEN * 4, vdLen, true);
    dv.setUint32(out + R_IMSI_PTR * 4, p + 20, true);
    dv.setUint32(out + R_IMSI_DIGITS * 4, digits, true);
    const codes = dv.getUint8(p + 2) | (dv.getUint8(p + 3) << 8) | (dv.getUint8(p + 18) << 16) | (flags << 24);
    dv.setUint32(out + R_CODES * 4, codes >>> 0, true);
    dv.setUint32(out + R_CAUSE_SETUP * 4, (dv.getUint16(p + 16) | (setup << 16)) >>> 0, true);
    dv.setInt32(out + R_RSRP * 4, rsrp, true);
    dv.setUint32(out + R_MESSAGE * 4, message, true);
    return Reason.Ok;
  }

  private utf8(p: number, len: number): boolean {
    const u8 = this.u8;
    const end = p + len;
    while (p < end) {
      const b0 = u8[p]!;
      if (b0 < 0x80) {
        p++;
      } else if (b0 < 0xc2) {
        return false;
      } else if (b0 < 0xe0) {
        if (end - p < 2 || (u8[p + 1]! & 0xc0) !== 0x80) return false;
        p += 2;
      } else if (b0 < 0xf0) {
        if (end - p < 3) return false;
        const b1 = u8[p + 1]!;
        if ((b1 & 0xc0) !== 0x80 || (u8[p + 2]! & 0xc0) !== 0x80) return false;
        if ((b0 === 0xe0 && b1 < 0xa0) || (b0 === 0xed && b1 >= 0xa0)) return false;
        p += 3;
      } else if (b0 < 0xf5) {
        if (end - p < 4) return false;
        const b1 = u8[p + 1]!;
        if ((b1 & 0xc0) !== 0x80 || (u8[p + 2]! & 0xc0) !== 0x80 || (u8[p + 3]! & 0xc0) !== 0x80) return false;
        if ((b0 === 0xf0 && b1 < 0x90) || (b0 === 0xf4 && b1 >= 0x90)) return false;
        p += 4;
      } else {
        return false;
      }
    }
    return true;
  }
}
