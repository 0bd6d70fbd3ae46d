// The shared-memory contract between the main thread, the WASM decoder and the workers: where a batch's frames, its message table and its decoded records live.
//
// One shared WebAssembly.Memory holds everything the decoder touches. Its buffer is a SharedArrayBuffer, so the main
// thread writes frame bytes in once and every worker decodes them in place. Low memory up to RESERVED_BYTES belongs to
// us (the CRC table); AssemblyScript's static data starts at RESERVED_BYTES (asc --memoryBase) and the batch slots
// start at SLOTS_BASE. A slot is owned by exactly one thread at a time (main thread fills, one worker decodes, main
// thread drains), so no locks are needed inside a slot.

/** Bytes below which only our own fixed regions live (asc --memoryBase). */
export const RESERVED_BYTES = 64 * 1024;
/** Where the CRC-32 lookup tables live (slice-by-4: 4 × 256 u32 = 4 KiB). */
export const CRC_TABLE_PTR = 1024;
/** First byte of the first batch slot; leaves room for the decoder's static data. */
export const SLOTS_BASE = 1024 * 1024;
export const WASM_PAGE = 65536;

// ── Message table: one row per Kafka message (one frame) in the batch, MSG_WORDS u32 words per row.
export const MSG_WORDS = 8;
export const MSG_BYTES = MSG_WORDS * 4;
/** in: absolute byte offset of the frame in the memory */
export const M_PTR = 0;
/** in: frame length in bytes */
export const M_LEN = 1;
/** out: 0 when decoded, else a Reason code (reasons.ts) */
export const M_REASON = 2;
/** out: index of the frame's first decoded record in the slot's record area */
export const M_FIRST = 3;
/** out: number of records decoded from the frame (0 when dead-lettered) */
export const M_COUNT = 4;
/** in: the Kafka partition the message came from (read by the alarm feed for per-partition watermarks; ignored by the decoder) */
export const M_PARTITION = 5;

// ── Decoded record: REC_WORDS u32 words, written by the decoder, read by enrichment and the alarm feed.
export const REC_WORDS = 20;
export const REC_BYTES = REC_WORDS * 4;
/** f64 (words 0–1): event_time in ms since the epoch; exact for every valid time */
export const R_TIME_F64 = 0;
export const R_EQUIPMENT = 2;
export const R_FRAME_SEQ = 3;
export const R_INDEX = 4;
export const R_CELL = 5;
export const R_DURATION = 6;
export const R_BYTES_UP = 7;
export const R_BYTES_DOWN = 8;
export const R_TARGET_CELL = 9;
/** absolute offset and byte length of the apn value, in the frame bytes (not copied) */
export const R_APN_PTR = 10;
export const R_APN_LEN = 11;
/** absolute offset and byte length of the vendor_detail value, in the frame bytes (not copied) */
export const R_VD_PTR = 12;
export const R_VD_LEN = 13;
/** absolute offset of the 8 TBCD imsi bytes, in the frame bytes */
export const R_IMSI_PTR = 14;
/** number of imsi digits (0–16); meaningless when F_IMSI is clear */
export const R_IMSI_DIGITS = 15;
/** type | result << 8 | rat << 16 | flags << 24 (codes as on the wire; names in codes.ts) */
export const R_CODES = 16;
/** cause_code | setup_latency_ms << 16 */
export const R_CAUSE_SETUP = 17;
/** rsrp_dbm as a signed 32-bit integer */
export const R_RSRP = 18;
/** index of the record's message (frame) in the batch */
export const R_MESSAGE = 19;

// Flags in the top byte of R_CODES: which optional fields the record carries.
export const F_APN = 1;
export const F_RSRP = 2;
export const F_TARGET_CELL = 4;
export const F_SETUP_LATENCY = 8;
export const F_VENDOR_DETAIL = 16;
/** set when the imsi is present (not all FF); clear means imsi null */
export const F_IMSI = 32;

/** Smallest possible frame: header and one 40-byte record. */
export const MIN_FRAME_BYTES = 16 + 40;
/** Record capacity that a frame area of `frameBytes` can ever need: each record takes at least 40 bytes. */
export function recordCapacity(frameBytes: number): number {
  return Math.floor(frameBytes / 40) + 1;
}

/** Geometry of one batch slot, computed once from the configured sizes. All offsets are absolute. */
export interface SlotGeometry {
  readonly index: number;
  readonly base: number;
  readonly maxMessages: number;
  readonly frameBytes: number;
  readonly maxRecords: number;
  /** message table */
  readonly msgPtr: number;
  /** frame bytes area */
  readonly framePtr: number;
  /** decoded records area */
  readonly recPtr: number;
  /** first byte after the slot */
  readonly end: number;
}

export function slotGeometry(index: number, maxMessages: number, frameBytes: number): SlotGeometry {
  const maxRecords = recordCapacity(frameBytes);
  const size = align(maxMessages * MSG_BYTES, 64) + align(frameBytes, 64) + align(maxRecords * REC_BYTES, 64);
  const base = SLOTS_BASE + index * size;
  const msgPtr = base;
  const framePtr = msgPtr + align(maxMessages * MSG_BYTES, 64);
  const recPtr = framePtr + align(frameBytes, 64);
  return { index, base, maxMessages, frameBytes, maxRecords, msgPtr, framePtr, recPtr, end: base + size };
}

/** Pages of shared memory needed for `slots` slots of the given size. */
export function memoryPages(slots: number, maxMessages: number, frameBytes: number): number {
  const last = slotGeometry(slots - 1, maxMessages, frameBytes);
  return Math.ceil(last.end / WASM_PAGE);
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
