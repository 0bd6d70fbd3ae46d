// The hot-path serializer: one decoded record (shared memory, layout.ts) plus the snapshot → the exact SPEC section 3 JSON bytes.
//
// Bytes are written straight into the caller's buffer: constant keys are copied from pre-encoded words, numbers and the
// ISO time are formatted digit by digit, reference data is copied from the snapshot's pre-escaped literals (both four
// bytes a store through a DataView: a quarter fewer CPU cycles a record than byte by byte, `npm run bench -- --only
// serialize`), and only apn / vendor_detail (raw UTF-8 from the frame) are escaped on the way. Nothing is allocated per
// record.
// The plain-object baseline (JSON.stringify) the tests and the benchmark compare against is bench/baseline/json-enricher.ts.
import {
  F_APN,
  F_IMSI,
  MSG_WORDS,
  M_COUNT,
  M_FIRST,
  M_REASON,
  REC_BYTES,
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
  R_RSRP,
  R_TARGET_CELL,
  R_TIME_F64,
  R_VD_LEN,
  R_VD_PTR,
  type SlotGeometry,
} from '../decode/layout.js';
import { ratName, resultName, typeName } from '../decode/codes.js';
import {
  EQ_DELETED,
  EQ_FLAGS,
  EQ_MODEL,
  EQ_NAME,
  EQ_REGION,
  EQ_SITE,
  EQ_VENDOR,
  EQ_WORDS,
  ERR_DELETED,
  ERR_JSON,
  ERR_WORDS,
  IV_JSON,
  IV_WORDS,
  NO_VENDOR,
  NULL_STRING,
  Snapshot,
} from './snapshot.js';
import { Reference } from './reference.js';

const latin = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A constant of the output as little-endian 32-bit words and the 0–3 bytes after them: copied a word a store. */
class Lit {
  readonly words: Uint32Array;
  readonly tail: Uint8Array;
  readonly bytes: Uint8Array;
  constructor(text: string) {
    const b = latin(text);
    this.bytes = b;
    const n = b.length >>> 2;
    this.words = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.words[i] = (b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) | (b[4 * i + 3] << 24)) >>> 0;
    this.tail = b.subarray(n * 4);
  }
}

const K_EVENT_TIME = new Lit('{"event_time":"');
const K_EQUIPMENT_ID = new Lit('","equipment_id":');
const K_FRAME_SEQ = new Lit(',"frame_seq":');
const K_RECORD_INDEX = new Lit(',"record_index":');
const K_CAUSE_CODE = new Lit(',"cause_code":');
const K_DURATION = new Lit(',"duration_ms":');
const K_BYTES_UP = new Lit(',"bytes_up":');
const K_BYTES_DOWN = new Lit(',"bytes_down":');
const K_IMSI = new Lit(',"imsi":');
const K_APN = new Lit(',"apn":"');
const K_RSRP = new Lit(',"rsrp_dbm":');
const K_TARGET_CELL = new Lit(',"target_cell_id":');
const K_SETUP_LATENCY = new Lit(',"setup_latency_ms":');
const K_VENDOR_DETAIL = new Lit(',"vendor_detail":"');
const K_EQUIPMENT = new Lit(',"equipment":');
const K_EQ_NAME = new Lit('{"name":');
const K_EQ_MODEL = new Lit(',"model":');
const K_EQ_VENDOR = new Lit(',"vendor":');
const K_EQ_SITE = new Lit(',"site":');
const K_EQ_REGION = new Lit(',"region":');
const K_CAUSE = new Lit(',"cause":');
const K_MAINTENANCE = new Lit(',"maintenance":');
const NULL = new Lit('null');

// `,"type":…,"result":…,"rat":…,"cell_id":` pre-rendered for every combination of known names (9 × 4 × 6), so the
// three enums cost one copy; codes beyond the known ones are folded onto their `unknown` slot.
const N_TYPES = 9;
const N_RESULTS = 4;
const N_RATS = 6;
const ENUMS_LIT: Lit[] = [];
for (let t = 0; t < N_TYPES; t++) {
  for (let r = 0; r < N_RESULTS; r++) {
    for (let a = 0; a < N_RATS; a++) {
      ENUMS_LIT.push(
        new Lit(`,"type":${JSON.stringify(typeName(t))},"result":${JSON.stringify(resultName(r))},"rat":${JSON.stringify(ratName(a))},"cell_id":`),
      );
    }
  }
}

/**
 * Every constant of the output in one blob, for the native writer (native/record_json.c, its `K_*` order: the keys,
 * `null`, then the enum combinations): `at` holds each one's (start, end) in `bytes`.
 */
export const RECORD_JSON_CONSTANTS = (() => {
  const all = [
    K_EVENT_TIME, K_EQUIPMENT_ID, K_FRAME_SEQ, K_RECORD_INDEX, K_CAUSE_CODE, K_DURATION, K_BYTES_UP, K_BYTES_DOWN, K_IMSI,
    K_APN, K_RSRP, K_TARGET_CELL, K_SETUP_LATENCY, K_VENDOR_DETAIL, K_EQUIPMENT, K_EQ_NAME, K_EQ_MODEL, K_EQ_VENDOR,
    K_EQ_SITE, K_EQ_REGION, K_CAUSE, K_MAINTENANCE, NULL, ...ENUMS_LIT,
  ];
  const bytes = new Uint8Array(all.reduce((n, l) => n + l.bytes.length, 0));
  const at = new Uint32Array(all.length * 2);
  let p = 0;
  all.forEach((l, i) => {
    bytes.set(l.bytes, p);
    at[2 * i] = p;
    p += l.bytes.length;
    at[2 * i + 1] = p;
  });
  return { bytes, at, types: N_TYPES, results: N_RESULTS, rats: N_RATS };
})();

/** Escape form of each byte inside a JSON string: 0 copy as is, else the escape's second char (u = \u00XX). */
const ESCAPE = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) ESCAPE[b] = 0x75; // u
ESCAPE[0x08] = 0x62; // b
ESCAPE[0x09] = 0x74; // t
ESCAPE[0x0a] = 0x6e; // n
ESCAPE[0x0c] = 0x66; // f
ESCAPE[0x0d] = 0x72; // r
ESCAPE[0x22] = 0x22;
ESCAPE[0x5c] = 0x5c;
const HEX = latin('0123456789abcdef');

/**
 * Upper bound of a record's bytes outside apn, vendor_detail and the three reference objects: keys, quotes, 24-byte
 * time, seven 10-digit numbers, 16 imsi digits, a signed rsrp, the longest enum names, with margin.
 */
export const RECORD_JSON_FIXED_BYTES = 768;
/** apn and vendor_detail are TLV values: at most 255 bytes, each at most 6 bytes once escaped. */
const MAX_TEXT_ESCAPED = 255 * 6;

/** Output bytes that always suffice for one record enriched against `reference` (no trailing newline). */
export function recordJsonCapacity(reference: Snapshot | Reference): number {
  const r = asReference(reference);
  return RECORD_JSON_FIXED_BYTES + 2 * MAX_TEXT_ESCAPED + r.maxEquipmentJson + r.maxCauseJson + r.maxMaintenanceJson;
}

function asReference(reference: Snapshot | Reference): Reference {
  return reference instanceof Snapshot ? new Reference(reference) : reference;
}

function copy(dv: DataView, out: Uint8Array, pos: number, lit: Lit): number {
  const words = lit.words;
  const n = words.length;
  for (let i = 0; i < n; i++) dv.setUint32(pos + 4 * i, words[i], true);
  let p = pos + 4 * n;
  const tail = lit.tail;
  for (let i = 0; i < tail.length; i++) out[p++] = tail[i];
  return p;
}

function writeU32(out: Uint8Array, pos: number, v: number): number {
  let n = 1;
  if (v >= 10) {
    n =
      v >= 100000
        ? v >= 10000000
          ? v >= 1000000000
            ? 10
            : v >= 100000000
              ? 9
              : 8
          : v >= 1000000
            ? 7
            : 6
        : v >= 1000
          ? v >= 10000
            ? 5
            : 4
          : v >= 100
            ? 3
            : 2;
  }
  let p = pos + n;
  do {
    const q = (v / 10) >>> 0;
    out[--p] = 48 + v - q * 10;
    v = q;
  } while (v !== 0);
  return pos + n;
}

function write2(out: Uint8Array, pos: number, v: number): void {
  const t = (v / 10) | 0;
  out[pos] = 48 + t;
  out[pos + 1] = 48 + v - t * 10;
}

/** ISO-8601 `YYYY-MM-DDTHH:MM:SS.mmmZ` of a time in ms, as Date.prototype.toISOString (years 0..9999). */
export function writeIsoTime(out: Uint8Array, pos: number, ms: number): number {
  const days = Math.floor(ms / 86400000);
  let rem = ms - days * 86400000;
  // civil_from_days (H. Hinnant): proleptic Gregorian calendar from days since 1970-01-01
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return writeIsoTimeSlow(out, pos, ms);
  const hi = (year / 100) | 0;
  write2(out, pos, hi);
  write2(out, pos + 2, year - hi * 100);
  out[pos + 4] = 45; // -
  write2(out, pos + 5, month);
  out[pos + 7] = 45;
  write2(out, pos + 8, day);
  out[pos + 10] = 84; // T
  const hour = (rem / 3600000) | 0;
  rem -= hour * 3600000;
  const minute = (rem / 60000) | 0;
  rem -= minute * 60000;
  const second = (rem / 1000) | 0;
  const milli = rem - second * 1000;
  write2(out, pos + 11, hour);
  out[pos + 13] = 58; // :
  write2(out, pos + 14, minute);
  out[pos + 16] = 58;
  write2(out, pos + 17, second);
  out[pos + 19] = 46; // .
  const h = (milli / 100) | 0;
  out[pos + 20] = 48 + h;
  write2(out, pos + 21, milli - h * 100);
  out[pos + 23] = 90; // Z
  return pos + 24;
}

/** Years outside 0..9999 (never produced by the decoder, which rejects them as bad_time). */
function writeIsoTimeSlow(out: Uint8Array, pos: number, ms: number): number {
  const s = new Date(ms).toISOString();
  for (let i = 0; i < s.length; i++) out[pos + i] = s.charCodeAt(i);
  return pos + s.length;
}

/** Raw UTF-8 bytes as the inside of a JSON string, escaped as JSON.stringify does. */
function writeEscaped(out: Uint8Array, pos: number, src: Uint8Array, start: number, len: number): number {
  const end = start + len;
  for (let i = start; i < end; i++) {
    const b = src[i];
    const e = ESCAPE[b];
    if (e === 0) {
      out[pos++] = b;
    } else if (e !== 0x75) {
      out[pos++] = 0x5c;
      out[pos++] = e;
    } else {
      out[pos++] = 0x5c;
      out[pos++] = 0x75;
      out[pos++] = 0x30;
      out[pos++] = 0x30;
      out[pos++] = HEX[b >> 4];
      out[pos++] = HEX[b & 15];
    }
  }
  return pos;
}

/** How far one `writeSlot` call got. */
export interface SlotWrite {
  /** the message it stopped at (the slot's count when every record was written) */
  done: number;
  /** the record of message `done` to resume from (0 unless the output filled inside a frame) */
  doneRecord: number;
  /** records written */
  records: number;
  /** the output area filled before the slot's records ended */
  full: boolean;
}

/** A slot's decoded records → their JSON in the slot's output area: RecordJsonWriter, or the native writer (native-record-json.ts). */
export interface SlotWriter {
  use(reference: Snapshot | Reference): void;
  /**
   * Writes the records of messages [from, count) of the slot (from record `fromRecord` of the first; dead-lettered
   * frames skipped) one after another into `out` from 0, the end offset of each into `ends`, until they end or `out`
   * might not hold the next. `wrap` (warm-up passes, whose bytes are thrown away) starts again at 0 instead of stopping.
   */
  writeSlot(geo: SlotGeometry, count: number, from: number, fromRecord: number, out: Uint8Array, ends: Uint32Array, wrap: boolean): SlotWrite;
}

/**
 * Serializes decoded records from one shared memory. Bind it to the memory's buffer (again after the memory grows),
 * then call `write` per record. Swap reference data between batches with `use`.
 *
 * Lookups go to the overlay first (a row there, tombstone included, hides the base's); the equipment's vendor name is
 * read at write time from the vendor table of the overlay (complete) or else the base, so a vendor rename shows on every
 * equipment of that vendor without touching the equipment rows.
 */
export class RecordJsonWriter implements SlotWriter {
  private reference!: Reference;
  private base!: Snapshot;
  private overlay: Snapshot | null = null;
  /** where vendor names are read: the overlay when there is one */
  private names!: Snapshot;
  private maxRefJson = 0;
  private mem8: Uint8Array = new Uint8Array(0);
  private mem32: Uint32Array = new Uint32Array(0);
  private memI32: Int32Array = new Int32Array(0);
  private memF64: Float64Array = new Float64Array(0);
  /** the output array of the last call and a DataView over it (constants and literals are stored four bytes at a time) */
  private out: Uint8Array | undefined;
  private outView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  constructor(reference: Snapshot | Reference, memory?: ArrayBufferLike) {
    this.use(reference);
    if (memory !== undefined) this.bind(memory);
  }

  /** The reference data records are enriched against (a bare snapshot is wrapped as a base without overlay). */
  get snapshot(): Reference {
    return this.reference;
  }

  /** Switches to another version (a live reference-data update: `openReference`); call between batches, not during one. */
  use(reference: Snapshot | Reference): void {
    const r = asReference(reference);
    this.reference = r;
    this.base = r.base;
    this.overlay = r.overlay;
    this.names = r.overlay ?? r.base;
    this.maxRefJson = r.maxEquipmentJson + r.maxCauseJson + r.maxMaintenanceJson;
  }

  /** A DataView over `out`, made again only when another output array comes. */
  private viewOf(out: Uint8Array): DataView {
    if (out !== this.out) {
      this.out = out;
      this.outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
    }
    return this.outView;
  }

  /** (Re)creates the views over the decoder's memory. */
  bind(memory: ArrayBufferLike): void {
    this.mem8 = new Uint8Array(memory);
    this.mem32 = new Uint32Array(memory);
    this.memI32 = new Int32Array(memory);
    this.memF64 = new Float64Array(memory);
  }

  writeSlot(geo: SlotGeometry, count: number, from: number, fromRecord: number, out: Uint8Array, ends: Uint32Array, wrap: boolean): SlotWrite {
    const u32 = this.mem32;
    let pos = 0;
    let written = 0;
    let m = from;
    let r = fromRecord;
    let full = false;
    for (; m < count && !full; m++, r = 0) {
      const row = (geo.msgPtr >>> 2) + m * MSG_WORDS;
      if (u32[row + M_REASON] !== 0) continue;
      const first = u32[row + M_FIRST];
      const n = u32[row + M_COUNT];
      for (; r < n; r++) {
        const rec = geo.recPtr + (first + r) * REC_BYTES;
        let next = written < ends.length ? this.write(rec, out, pos) : -1;
        if (next < 0 && wrap && pos > 0) next = this.write(rec, out, (pos = 0));
        if (next < 0) {
          full = true;
          break;
        }
        pos = next;
        ends[written++] = pos;
      }
      if (full) break;
    }
    return { done: m, doneRecord: full ? r : 0, records: written, full };
  }

  /**
   * Writes the JSON object of the record at byte offset `recPtr` (8-aligned) into `out` at `pos` and returns the new
   * position, or -1 when it might not fit (nothing useful written; flush and retry). No newline is written.
   */
  write(recPtr: number, out: Uint8Array, pos: number): number {
    const m32 = this.mem32;
    const m8 = this.mem8;
    const base = this.base;
    const ov = this.overlay;
    const w = recPtr >>> 2;
    const codes = m32[w + R_CODES];
    const flags = codes >>> 24;
    const equipmentId = m32[w + R_EQUIPMENT];
    const timeMs = this.memF64[(recPtr + R_TIME_F64 * 4) >>> 3];
    const causeSetup = m32[w + R_CAUSE_SETUP];
    const causeCode = causeSetup & 0xffff;
    const apnLen = flags & F_APN ? m32[w + R_APN_LEN] : 0;
    const vdLen = flags & F_VENDOR_DETAIL ? m32[w + R_VD_LEN] : 0;

    // equipment: an overlay row (or tombstone) hides the base's
    let eqSnap = base;
    let eqRow = -1;
    if (ov !== null) {
      eqRow = ov.equipmentRow(equipmentId);
      if (eqRow >= 0) {
        eqSnap = ov;
        if (ov.u32[ov.eqBase + eqRow * EQ_WORDS + EQ_FLAGS] & EQ_DELETED) eqRow = -2;
      }
    }
    if (eqRow === -1) eqRow = base.equipmentRow(equipmentId);
    let errSnap = base;
    let errRow = -1;
    let eqWord = 0;
    let vendor = NO_VENDOR;
    if (eqRow >= 0) {
      eqWord = eqSnap.eqBase + eqRow * EQ_WORDS;
      vendor = eqSnap.u32[eqWord + EQ_VENDOR];
      // cause_code 0 means "no error code" (SPEC section 1), so it never names a cause
      if (causeCode !== 0 && vendor !== NO_VENDOR) {
        if (ov !== null) {
          errRow = ov.errorCodeRow(vendor, causeCode);
          if (errRow >= 0) {
            errSnap = ov;
            if (ov.u32[ov.errBase + errRow * ERR_WORDS + ERR_JSON] === ERR_DELETED) errRow = -2;
          }
        }
        if (errRow === -1) errRow = base.errorCodeRow(vendor, causeCode);
      }
    }
    let ivSnap = base;
    let ivRow = -2;
    if (ov !== null) {
      ivRow = ov.interventionLookup(equipmentId, timeMs);
      if (ivRow !== -2) ivSnap = ov;
    }
    if (ivRow === -2) ivRow = base.interventionCount === 0 ? -1 : base.interventionAt(equipmentId, timeMs);

    if (pos + RECORD_JSON_FIXED_BYTES + 6 * (apnLen + vdLen) + this.maxRefJson > out.length) return -1;
    const dv = this.viewOf(out);

    let p = copy(dv, out, pos, K_EVENT_TIME);
    p = writeIsoTime(out, p, timeMs);
    p = copy(dv, out, p, K_EQUIPMENT_ID);
    p = writeU32(out, p, equipmentId);
    p = copy(dv, out, p, K_FRAME_SEQ);
    p = writeU32(out, p, m32[w + R_FRAME_SEQ]);
    p = copy(dv, out, p, K_RECORD_INDEX);
    p = writeU32(out, p, m32[w + R_INDEX]);
    const type = codes & 0xff;
    const result = (codes >>> 8) & 0xff;
    const rat = (codes >>> 16) & 0xff;
    const enums =
      (type < N_TYPES ? type : 0) * (N_RESULTS * N_RATS) + (result < N_RESULTS ? result : N_RESULTS - 1) * N_RATS + (rat < N_RATS ? rat : 0);
    p = copy(dv, out, p, ENUMS_LIT[enums]);
    p = writeU32(out, p, m32[w + R_CELL]);
    p = copy(dv, out, p, K_CAUSE_CODE);
    p = writeU32(out, p, causeCode);
    p = copy(dv, out, p, K_DURATION);
    p = writeU32(out, p, m32[w + R_DURATION]);
    p = copy(dv, out, p, K_BYTES_UP);
    p = writeU32(out, p, m32[w + R_BYTES_UP]);
    p = copy(dv, out, p, K_BYTES_DOWN);
    p = writeU32(out, p, m32[w + R_BYTES_DOWN]);
    p = copy(dv, out, p, K_IMSI);
    if (flags & F_IMSI) {
      const imsiPtr = m32[w + R_IMSI_PTR];
      const digits = m32[w + R_IMSI_DIGITS];
      out[p++] = 0x22;
      for (let i = 0; i < digits; i++) {
        const b = m8[imsiPtr + (i >>> 1)];
        out[p++] = 48 + (i & 1 ? b >>> 4 : b & 15);
      }
      out[p++] = 0x22;
    } else {
      p = copy(dv, out, p, NULL);
    }
    if (flags & F_APN) {
      p = copy(dv, out, p, K_APN);
      p = writeEscaped(out, p, m8, m32[w + R_APN_PTR], apnLen);
      out[p++] = 0x22;
    }
    if (flags & F_RSRP) {
      p = copy(dv, out, p, K_RSRP);
      const rsrp = this.memI32[w + R_RSRP];
      if (rsrp < 0) {
        out[p++] = 45;
        p = writeU32(out, p, -rsrp);
      } else {
        p = writeU32(out, p, rsrp);
      }
    }
    if (flags & F_TARGET_CELL) {
      p = copy(dv, out, p, K_TARGET_CELL);
      p = writeU32(out, p, m32[w + R_TARGET_CELL]);
    }
    if (flags & F_SETUP_LATENCY) {
      p = copy(dv, out, p, K_SETUP_LATENCY);
      p = writeU32(out, p, causeSetup >>> 16);
    }
    if (flags & F_VENDOR_DETAIL) {
      p = copy(dv, out, p, K_VENDOR_DETAIL);
      p = writeEscaped(out, p, m8, m32[w + R_VD_PTR], vdLen);
      out[p++] = 0x22;
    }
    p = copy(dv, out, p, K_EQUIPMENT);
    if (eqRow >= 0) {
      const e32 = eqSnap.u32;
      p = copy(dv, out, p, K_EQ_NAME);
      p = literal(dv, out, p, eqSnap, e32[eqWord + EQ_NAME]);
      p = copy(dv, out, p, K_EQ_MODEL);
      p = literal(dv, out, p, eqSnap, e32[eqWord + EQ_MODEL]);
      p = copy(dv, out, p, K_EQ_VENDOR);
      const names = this.names;
      p = literal(dv, out, p, names, vendor === NO_VENDOR ? NULL_STRING : names.vendorNameId(vendor));
      p = copy(dv, out, p, K_EQ_SITE);
      p = literal(dv, out, p, eqSnap, e32[eqWord + EQ_SITE]);
      p = copy(dv, out, p, K_EQ_REGION);
      p = literal(dv, out, p, eqSnap, e32[eqWord + EQ_REGION]);
      out[p++] = 0x7d;
    } else {
      p = copy(dv, out, p, NULL);
    }
    p = copy(dv, out, p, K_CAUSE);
    p = errRow >= 0 ? literal(dv, out, p, errSnap, errSnap.u32[errSnap.errBase + errRow * ERR_WORDS + ERR_JSON]) : copy(dv, out, p, NULL);
    p = copy(dv, out, p, K_MAINTENANCE);
    p = ivRow >= 0 ? literal(dv, out, p, ivSnap, ivSnap.u32[ivSnap.ivBase + ivRow * IV_WORDS + IV_JSON]) : copy(dv, out, p, NULL);
    out[p++] = 0x7d;
    return p;
  }
}

/** Copies a snapshot's pre-escaped JSON literal, four bytes a load and a store, then the last 0–3 one by one. */
function literal(dv: DataView, out: Uint8Array, pos: number, snap: Snapshot, id: number): number {
  const r32 = snap.u32;
  const at = snap.strBase + id;
  const poolBase = snap.poolBase;
  let i = poolBase + r32[at];
  const end = poolBase + r32[at + 1];
  const src = snap.view;
  for (; i + 4 <= end; i += 4, pos += 4) dv.setUint32(pos, src.getUint32(i, true), true);
  const ref = snap.bytes;
  for (; i < end; i++) out[pos++] = ref[i];
  return pos;
}
