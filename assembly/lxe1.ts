// The LXE1 frame decoder compiled to WASM: validates whole frames in shared memory and writes record slots in place (src/decode/layout.ts), allocating nothing.
//
// Several instances share one memory and decode different slots at the same time, so this module keeps no state in
// memory except the CRC tables (written once by crcInit before any worker starts) and has no static data segments.
// Offsets below mirror src/decode/layout.ts and src/decode/reasons.ts; test/decode checks that both sides agree.

// ── Reserved low memory (layout.ts CRC_TABLE_PTR): slice-by-16 tables, 16 × 256 u32 = 16 KiB, all below RESERVED_BYTES.
const CRC_TABLE_PTR: usize = 1024;

// ── Message table row (MSG_WORDS = 8 u32 words), byte offsets.
const MSG_BYTES: usize = 32;
const M_PTR: usize = 0;
const M_LEN: usize = 4;
const M_REASON: usize = 8;
const M_FIRST: usize = 12;
const M_COUNT: usize = 16;

// ── Record slot (REC_WORDS = 20 u32 words), byte offsets.
const REC_BYTES: usize = 80;
const R_TIME_F64: usize = 0;
const R_EQUIPMENT: usize = 8;
const R_FRAME_SEQ: usize = 12;
const R_INDEX: usize = 16;
const R_CELL: usize = 20;
const R_DURATION: usize = 24;
const R_BYTES_UP: usize = 28;
const R_BYTES_DOWN: usize = 32;
const R_TARGET_CELL: usize = 36;
const R_APN_PTR: usize = 40;
const R_APN_LEN: usize = 44;
const R_VD_PTR: usize = 48;
const R_VD_LEN: usize = 52;
const R_IMSI_PTR: usize = 56;
const R_IMSI_DIGITS: usize = 60;
const R_CODES: usize = 64;
const R_CAUSE_SETUP: usize = 68;
const R_RSRP: usize = 72;
const R_MESSAGE: usize = 76;

const F_APN: u32 = 1;
const F_RSRP: u32 = 2;
const F_TARGET_CELL: u32 = 4;
const F_SETUP_LATENCY: u32 = 8;
const F_VENDOR_DETAIL: u32 = 16;
const F_IMSI: u32 = 32;

// ── Dead-letter reasons (reasons.ts).
const OK: u32 = 0;
const TRUNCATED: u32 = 1;
const BAD_MAGIC: u32 = 2;
const BAD_VERSION: u32 = 3;
const BAD_FLAGS: u32 = 4;
const EMPTY_FRAME: u32 = 5;
const BAD_RECORD_LENGTH: u32 = 6;
const BAD_TLV: u32 = 7;
const BAD_IMSI: u32 = 8;
const BAD_TIME: u32 = 9;
const BAD_UTF8: u32 = 10;
const CRC_MISMATCH: u32 = 11;
const TRAILING_BYTES: u32 = 12;

// ── Wire constants (SPEC section 1).
const HEADER_BYTES: usize = 16;
const RECORD_FIXED_BYTES: usize = 40;
/** "LXE1" read as a little-endian u32 */
const MAGIC_LE: u32 = 0x3145584c;
/** 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z in ms */
const TIME_MIN: u64 = 946684800000;
const TIME_END: u64 = 4102444800000;
const NIBBLE_LOW_BITS: u64 = 0x1111111111111111;
const ALL_FF: u64 = 0xffffffffffffffff;
const HIGH_BITS: u64 = 0x8080808080808080;

/** Fills the CRC-32 (zlib, reflected 0xEDB88320) slice-by-16 tables. Call once, before any decodeBatch. */
export function crcInit(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(CRC_TABLE_PTR + (<usize>n << 2), c);
  }
  for (let t: usize = 1; t < 16; t++) {
    for (let n: usize = 0; n < 256; n++) {
      const prev = load<u32>(CRC_TABLE_PTR + ((t - 1) << 10) + (n << 2));
      store<u32>(CRC_TABLE_PTR + (t << 10) + (n << 2), (prev >>> 8) ^ load<u32>(CRC_TABLE_PTR + (<usize>(prev & 0xff) << 2)));
    }
  }
}

/** CRC-32 of `len` bytes at `ptr`, as zlib.crc32. */
export function crc32(ptr: usize, len: usize): u32 {
  let crc: u32 = 0xffffffff;
  let p = ptr;
  const end = ptr + len;
  while (end - p >= 16) {
    const a = load<u32>(p) ^ crc;
    const b = load<u32>(p, 4);
    const c = load<u32>(p, 8);
    const d = load<u32>(p, 12);
    crc =
      load<u32>(CRC_TABLE_PTR + (<usize>(a & 0xff) << 2), 15 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>((a >>> 8) & 0xff) << 2), 14 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>((a >>> 16) & 0xff) << 2), 13 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>(a >>> 24) << 2), 12 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>(b & 0xff) << 2), 11 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>((b >>> 8) & 0xff) << 2), 10 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>((b >>> 16) & 0xff) << 2), 9 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>(b >>> 24) << 2), 8 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>(c & 0xff) << 2), 7 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>((c >>> 8) & 0xff) << 2), 6 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>((c >>> 16) & 0xff) << 2), 5 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>(c >>> 24) << 2), 4 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>(d & 0xff) << 2), 3 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>((d >>> 8) & 0xff) << 2), 2 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>((d >>> 16) & 0xff) << 2), 1 << 10) ^
      load<u32>(CRC_TABLE_PTR + (<usize>(d >>> 24) << 2));
    p += 16;
  }
  while (p < end) {
    crc = load<u32>(CRC_TABLE_PTR + (<usize>((crc ^ <u32>load<u8>(p)) & 0xff) << 2)) ^ (crc >>> 8);
    p++;
  }
  return ~crc;
}

/** True when `len` bytes at `ptr` are well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
export function validUtf8(ptr: usize, len: usize): bool {
  let p = ptr;
  const end = ptr + len;
  while (p < end) {
    if (end - p >= 8 && (load<u64>(p) & HIGH_BITS) == 0) {
      p += 8;
      continue;
    }
    const b0 = <u32>load<u8>(p);
    if (b0 < 0x80) {
      p++;
      continue;
    }
    if (b0 < 0xc2) return false; // a stray continuation byte, or an overlong two-byte form
    if (b0 < 0xe0) {
      if (end - p < 2) return false;
      if ((<u32>load<u8>(p, 1) & 0xc0) != 0x80) return false;
      p += 2;
      continue;
    }
    if (b0 < 0xf0) {
      if (end - p < 3) return false;
      const b1 = <u32>load<u8>(p, 1);
      const b2 = <u32>load<u8>(p, 2);
      if ((b1 & 0xc0) != 0x80 || (b2 & 0xc0) != 0x80) return false;
      if (b0 == 0xe0 && b1 < 0xa0) return false; // overlong
      if (b0 == 0xed && b1 >= 0xa0) return false; // UTF-16 surrogates
      p += 3;
      continue;
    }
    if (b0 < 0xf5) {
      if (end - p < 4) return false;
      const b1 = <u32>load<u8>(p, 1);
      const b2 = <u32>load<u8>(p, 2);
      const b3 = <u32>load<u8>(p, 3);
      if ((b1 & 0xc0) != 0x80 || (b2 & 0xc0) != 0x80 || (b3 & 0xc0) != 0x80) return false;
      if (b0 == 0xf0 && b1 < 0x90) return false; // overlong
      if (b0 == 0xf4 && b1 >= 0x90) return false; // above U+10FFFF
      p += 4;
      continue;
    }
    return false;
  }
  return true;
}

/**
 * Decodes `msgCount` frames described by the message table at `msgPtr` into record slots from `recPtr`.
 * Writes M_REASON, M_FIRST and M_COUNT of every row; returns the number of records decoded.
 */
export function decodeBatch(msgPtr: usize, msgCount: u32, recPtr: usize): u32 {
  let cursor: u32 = 0;
  // A row whose bytes are not all inside the memory (e.g. the ring's OVERSIZE marker, length 0xFFFFFFFF) is truncated.
  const memEnd = <usize>memory.size() << 16;
  for (let m: u32 = 0; m < msgCount; m++) {
    const row = msgPtr + <usize>m * MSG_BYTES;
    const ptr = <usize>load<u32>(row, M_PTR);
    const len = <usize>load<u32>(row, M_LEN);
    // Records are written speculatively at the cursor; a dead-lettered frame simply does not advance it.
    const reason =
      ptr > memEnd || len > memEnd - ptr ? TRUNCATED : decodeFrame(ptr, len, recPtr + <usize>cursor * REC_BYTES, m);
    store<u32>(row, reason, M_REASON);
    store<u32>(row, cursor, M_FIRST);
    if (reason == OK) {
      const count = <u32>bswap<u16>(load<u16>(ptr, 6));
      store<u32>(row, count, M_COUNT);
      cursor += count;
    } else {
      store<u32>(row, 0, M_COUNT);
    }
  }
  return cursor;
}

function decodeFrame(ptr: usize, len: usize, out: usize, message: u32): u32 {
  if (len < HEADER_BYTES) return TRUNCATED;
  if (load<u32>(ptr) != MAGIC_LE) return BAD_MAGIC;
  if (load<u8>(ptr, 4) != 1) return BAD_VERSION;
  const flags = <u32>load<u8>(ptr, 5);
  if ((flags & 0xfe) != 0) return BAD_FLAGS;
  const count = <u32>bswap<u16>(load<u16>(ptr, 6));
  if (count == 0) return EMPTY_FRAME;
  const equipment = bswap<u32>(load<u32>(ptr, 8));
  const seq = bswap<u32>(load<u32>(ptr, 12));
  const end = ptr + len;
  let p = ptr + HEADER_BYTES;
  for (let i: u32 = 0; i < count; i++) {
    if (end - p < 2) return TRUNCATED;
    const rlen = <usize>bswap<u16>(load<u16>(p));
    if (rlen < RECORD_FIXED_BYTES) return BAD_RECORD_LENGTH;
    if (end - p < rlen) return TRUNCATED;
    const reason = decodeRecord(p, p + rlen, out, equipment, seq, i, message);
    if (reason != OK) return reason;
    out += REC_BYTES;
    p += rlen;
  }
  const rest = end - p;
  if (flags & 1) {
    if (rest < 4) return TRUNCATED;
    if (rest > 4) return TRAILING_BYTES;
    if (crc32(ptr, p - ptr) != bswap<u32>(load<u32>(p))) return CRC_MISMATCH;
  } else if (rest != 0) {
    return TRAILING_BYTES;
  }
  return OK;
}

// @inline keeps the per-record path free of call overhead; the record body is the hot loop.
@inline
function decodeRecord(p: usize, rend: usize, out: usize, equipment: u32, seq: u32, index: u32, message: u32): u32 {
  const time = bswap<u64>(load<u64>(p, 4));
  if (time < TIME_MIN || time >= TIME_END) return BAD_TIME;

  // Loaded little-endian, TBCD digit k is nibble k counted from the least significant end.
  const imsi = load<u64>(p, 20);
  let flags: u32 = 0;
  let digits: u32 = 0;
  if (imsi != ALL_FF) {
    const isF = imsi & (imsi >> 1) & (imsi >> 2) & (imsi >> 3) & NIBBLE_LOW_BITS;
    const firstF = isF & (0 - isF);
    const before = firstF - 1; // every bit below the first F nibble (all bits when there is none)
    const over9 = (imsi >> 3) & ((imsi >> 2) | (imsi >> 1)) & NIBBLE_LOW_BITS;
    if ((over9 & before) != 0) return BAD_IMSI;
    digits = <u32>(ctz<u64>(isF) >> 2);
    if (digits > 16) digits = 16;
    flags = F_IMSI;
  }

  let apnPtr: usize = 0;
  let apnLen: usize = 0;
  let vdPtr: usize = 0;
  let vdLen: usize = 0;
  let rsrp: i32 = 0;
  let target: u32 = 0;
  let setup: u32 = 0;
  let q = p + RECORD_FIXED_BYTES;
  while (q < rend) {
    if (rend - q < 2) return BAD_TLV;
    const tag = <u32>load<u8>(q);
    const tlen = <usize>load<u8>(q, 1);
    const v = q + 2;
    if (rend - v < tlen) return BAD_TLV;
    switch (tag) {
      case 1: {
        if (!validUtf8(v, tlen)) return BAD_UTF8;
        apnPtr = v;
        apnLen = tlen;
        flags |= F_APN;
        break;
      }
      case 2: {
        if (tlen != 2) return BAD_TLV;
        rsrp = <i32><i16>bswap<u16>(load<u16>(v));
        flags |= F_RSRP;
        break;
      }
      case 3: {
        if (tlen != 4) return BAD_TLV;
        target = bswap<u32>(load<u32>(v));
        flags |= F_TARGET_CELL;
        break;
      }
      case 4: {
        if (tlen != 2) return BAD_TLV;
        setup = <u32>bswap<u16>(load<u16>(v));
        flags |= F_SETUP_LATENCY;
        break;
      }
      case 5: {
        if (!validUtf8(v, tlen)) return BAD_UTF8;
        vdPtr = v;
        vdLen = tlen;
        flags |= F_VENDOR_DETAIL;
        break;
      }
      default:
        break;
    }
    q = v + tlen;
  }

  const head = load<u32>(p); // length (2 bytes), type, result
  store<f64>(out, <f64>time, R_TIME_F64);
  store<u32>(out, equipment, R_EQUIPMENT);
  store<u32>(out, seq, R_FRAME_SEQ);
  store<u32>(out, index, R_INDEX);
  store<u32>(out, bswap<u32>(load<u32>(p, 12)), R_CELL);
  store<u32>(out, bswap<u32>(load<u32>(p, 28)), R_DURATION);
  store<u32>(out, bswap<u32>(load<u32>(p, 32)), R_BYTES_UP);
  store<u32>(out, bswap<u32>(load<u32>(p, 36)), R_BYTES_DOWN);
  store<u32>(out, target, R_TARGET_CELL);
  store<u32>(out, <u32>apnPtr, R_APN_PTR);
  store<u32>(out, <u32>apnLen, R_APN_LEN);
  store<u32>(out, <u32>vdPtr, R_VD_PTR);
  store<u32>(out, <u32>vdLen, R_VD_LEN);
  store<u32>(out, <u32>(p + 20), R_IMSI_PTR);
  store<u32>(out, digits, R_IMSI_DIGITS);
  store<u32>(out, (head >>> 16) | (<u32>load<u8>(p, 18) << 16) | (flags << 24), R_CODES);
  store<u32>(out, <u32>bswap<u16>(load<u16>(p, 16)) | (setup << 16), R_CAUSE_SETUP);
  store<i32>(out, rsrp, R_RSRP);
  store<u32>(out, message, R_MESSAGE);
  return OK;
}
