// Test-side check of generated frames against the real LXE1 WASM decoder: each frame's dead-letter reason and record count.
import { M_COUNT, M_FIRST, M_REASON, MSG_WORDS, R_CAUSE_SETUP, R_CODES, R_EQUIPMENT, R_FRAME_SEQ, R_RSRP, REC_WORDS, F_RSRP, F_TARGET_CELL, F_IMSI, R_IMSI_DIGITS, memoryPages, slotGeometry } from '../../src/decode/layout.js';
import { REASON_NAMES } from '../../src/decode/reasons.js';
import { createDecoderMemory, fillSlot, Lxe1Decoder } from '../../src/decode/wasm-decoder.js';

const MAX_MESSAGES = 2048;
const FRAME_BYTES = 1 << 20;
const slot = slotGeometry(0, MAX_MESSAGES, FRAME_BYTES);
const decoder = new Lxe1Decoder(createDecoderMemory(memoryPages(1, MAX_MESSAGES, FRAME_BYTES)));
decoder.initCrc();

export interface DecodedSummary {
  equipmentId: number;
  frameSeq: number;
  type: number;
  result: number;
  causeCode: number;
  rsrpDbm: number | undefined;
  hasTargetCell: boolean;
  imsiDigits: number | null;
}

export interface FrameVerdict {
  reason: string;
  records: DecodedSummary[];
}

/** Decodes every frame (in as many batches as needed) and returns each one's reason ('ok' when decoded) and records. */
export function decodeAll(frames: readonly Uint8Array[]): FrameVerdict[] {
  const out: FrameVerdict[] = [];
  const { u32, i32 } = decoder;
  for (let start = 0; start < frames.length; ) {
    const n = fillSlot(decoder, slot, frames, start);
    if (n === 0) throw new Error(`frame ${start} does not fit the test slot`);
    decoder.decode(slot, n);
    for (let m = 0; m < n; m++) {
      const row = (slot.msgPtr >>> 2) + m * MSG_WORDS;
      const first = u32[row + M_FIRST]!;
      const count = u32[row + M_COUNT]!;
      const records: DecodedSummary[] = [];
      for (let i = 0; i < count; i++) {
        const w = (slot.recPtr >>> 2) + (first + i) * REC_WORDS;
        const codes = u32[w + R_CODES]!;
        const flags = codes >>> 24;
        records.push({
          equipmentId: u32[w + R_EQUIPMENT]!,
          frameSeq: u32[w + R_FRAME_SEQ]!,
          type: codes & 0xff,
          result: (codes >>> 8) & 0xff,
          causeCode: u32[w + R_CAUSE_SETUP]! & 0xffff,
          rsrpDbm: flags & F_RSRP ? i32[w + R_RSRP]! : undefined,
          hasTargetCell: (flags & F_TARGET_CELL) !== 0,
          imsiDigits: flags & F_IMSI ? u32[w + R_IMSI_DIGITS]! : null,
        });
      }
      out.push({ reason: REASON_NAMES[u32[row + M_REASON]!]!, records });
    }
    start += n;
  }
  return out;
}
