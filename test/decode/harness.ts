// Test-side reading of the decoder's output: decodes frames through one shared memory and turns record slots back into objects.
import {
  F_APN, F_IMSI, F_RSRP, F_SETUP_LATENCY, F_TARGET_CELL, F_VENDOR_DETAIL, MSG_WORDS, M_COUNT, M_FIRST, M_REASON,
  REC_WORDS, R_APN_LEN, R_APN_PTR, R_BYTES_DOWN, R_BYTES_UP, R_CAUSE_SETUP, R_CELL, R_CODES, R_DURATION, R_EQUIPMENT,
  R_FRAME_SEQ, R_IMSI_DIGITS, R_IMSI_PTR, R_INDEX, R_MESSAGE, R_RSRP, R_TARGET_CELL, R_TIME_F64, R_VD_LEN, R_VD_PTR,
  memoryPages, slotGeometry, type SlotGeometry,
} from '../../src/decode/layout.js';
import { REASON_NAMES } from '../../src/decode/reasons.js';
import { createDecoderMemory, fillSlot, Lxe1Decoder } from '../../src/decode/wasm-decoder.js';

export interface DecodedRecord {
  eventTime: number;
  equipmentId: number;
  frameSeq: number;
  index: number;
  message: number;
  type: number;
  result: number;
  rat: number;
  cellId: number;
  causeCode: number;
  durationMs: number;
  bytesUp: number;
  bytesDown: number;
  imsi: string | null;
  apn?: string;
  rsrpDbm?: number;
  targetCellId?: number;
  setupLatencyMs?: number;
  vendorDetail?: string;
}

export interface FrameOutcome {
  reason: string;
  first: number;
  count: number;
  records: DecodedRecord[];
}

const SLOTS = 2;
const MAX_MESSAGES = 4096;
const FRAME_BYTES = 4 << 20;
export const memory = createDecoderMemory(memoryPages(SLOTS, MAX_MESSAGES, FRAME_BYTES));
export const decoder = new Lxe1Decoder(memory);
decoder.initCrc();
export const slots: SlotGeometry[] = [slotGeometry(0, MAX_MESSAGES, FRAME_BYTES), slotGeometry(1, MAX_MESSAGES, FRAME_BYTES)];

const text = new TextDecoder('utf-8', { fatal: true });

export function readImsi(u8: Uint8Array, ptr: number, digits: number): string {
  let s = '';
  for (let k = 0; k < digits; k++) {
    const b = u8[ptr + (k >> 1)]!;
    s += String.fromCharCode(48 + (k & 1 ? b >> 4 : b & 0x0f));
  }
  return s;
}

/** Reads record slot `i` of the record area at `recPtr` into an object. */
export function readRecord(recPtr: number, i: number): DecodedRecord {
  const { u8, u32, i32, f64 } = decoder;
  const w = (recPtr >>> 2) + i * REC_WORDS;
  const codes = u32[w + R_CODES]!;
  const flags = codes >>> 24;
  const r: DecodedRecord = {
    eventTime: f64[(w + R_TIME_F64) >>> 1]!,
    equipmentId: u32[w + R_EQUIPMENT]!,
    frameSeq: u32[w + R_FRAME_SEQ]!,
    index: u32[w + R_INDEX]!,
    message: u32[w + R_MESSAGE]!,
    type: codes & 0xff,
    result: (codes >>> 8) & 0xff,
    rat: (codes >>> 16) & 0xff,
    cellId: u32[w + R_CELL]!,
    causeCode: u32[w + R_CAUSE_SETUP]! & 0xffff,
    durationMs: u32[w + R_DURATION]!,
    bytesUp: u32[w + R_BYTES_UP]!,
    bytesDown: u32[w + R_BYTES_DOWN]!,
    imsi: flags & F_IMSI ? readImsi(u8, u32[w + R_IMSI_PTR]!, u32[w + R_IMSI_DIGITS]!) : null,
  };
  if (flags & F_APN) r.apn = text.decode(u8.slice(u32[w + R_APN_PTR]!, u32[w + R_APN_PTR]! + u32[w + R_APN_LEN]!));
  if (flags & F_RSRP) r.rsrpDbm = i32[w + R_RSRP]!;
  if (flags & F_TARGET_CELL) r.targetCellId = u32[w + R_TARGET_CELL]!;
  if (flags & F_SETUP_LATENCY) r.setupLatencyMs = u32[w + R_CAUSE_SETUP]! >>> 16;
  if (flags & F_VENDOR_DETAIL) r.vendorDetail = text.decode(u8.slice(u32[w + R_VD_PTR]!, u32[w + R_VD_PTR]! + u32[w + R_VD_LEN]!));
  return r;
}

/** Decodes the frames as one batch in slot 0; returns each frame's outcome. */
export function decodeFrames(frames: readonly Uint8Array[]): { total: number; frames: FrameOutcome[] } {
  const slot = slots[0]!;
  const n = fillSlot(decoder, slot, frames);
  if (n !== frames.length) throw new Error(`only ${n} of ${frames.length} frames fit the test slot`);
  const total = decoder.decode(slot, n);
  const out: FrameOutcome[] = [];
  for (let m = 0; m < n; m++) {
    const row = (slot.msgPtr >>> 2) + m * MSG_WORDS;
    const first = decoder.u32[row + M_FIRST]!;
    const count = decoder.u32[row + M_COUNT]!;
    const records: DecodedRecord[] = [];
    for (let i = 0; i < count; i++) records.push(readRecord(slot.recPtr, first + i));
    out.push({ reason: REASON_NAMES[decoder.u32[row + M_REASON]!]!, first, count, records });
  }
  return { total, frames: out };
}

/** Decodes one frame; its outcome. */
export function decodeOne(frame: Uint8Array): FrameOutcome {
  return decodeFrames([frame]).frames[0]!;
}
