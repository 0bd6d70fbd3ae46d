// A million random and mutated frames: the WASM decoder never crashes or hangs, agrees word for word with the DataView baseline, and points only inside each frame.
import { expect, test } from 'vitest';
import { encodeFrame, type RecordInput, type Tlv } from '../../src/gen/frame-encoder.js';
import { MSG_WORDS, M_COUNT, M_FIRST, M_LEN, M_PTR, M_REASON, REC_WORDS, R_APN_LEN, R_APN_PTR, R_CODES, R_IMSI_PTR, R_INDEX, R_MESSAGE, R_VD_LEN, R_VD_PTR, F_APN, F_VENDOR_DETAIL, R_IMSI_DIGITS } from '../../src/decode/layout.js';
import { REASON_NAMES } from '../../src/decode/reasons.js';
import { DataViewDecoder } from '../../bench/baseline/dataview-decoder.js';
import { decoder, slots } from './harness.js';

const FRAMES = 1_000_000;
const BATCH = 2000;
const UNCHANGED = MSG_WORDS - 1;
const utf8 = new TextDecoder('utf-8', { fatal: true });

let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
const below = (n: number): number => rnd() % n;

const TEXTS = ['internet', '', 'ims', 'é', '€uro', '😀', 'a'.repeat(60), 'mcc208.gprs'];
function randomRecord(): RecordInput {
  const extra: Tlv[] = [];
  for (let i = below(3); i > 0; i--) extra.push({ tag: 6 + below(250), value: Array.from({ length: below(6) }, () => below(256)) });
  const r: RecordInput = {
    type: below(10), result: below(4), rat: below(7), eventTime: 946684800000 + below(0xffffffff) * 500,
    cellId: rnd(), causeCode: below(65536), imsi: below(4) === 0 ? null : String(rnd()).padEnd(below(17), '7').slice(0, 16),
    durationMs: rnd(), bytesUp: rnd(), bytesDown: rnd(), extraTlvs: extra,
  };
  if (below(2)) r.apn = TEXTS[below(TEXTS.length)]!;
  if (below(2)) r.rsrpDbm = below(65536) - 32768;
  if (below(3) === 0) r.targetCellId = rnd();
  if (below(3) === 0) r.setupLatencyMs = below(65536);
  if (below(3) === 0) r.vendorDetail = TEXTS[below(TEXTS.length)]!;
  return r;
}

test('a million random and mutated frames: no crash, baseline agrees, pointers stay inside their frame', () => {
  const pool: Buffer[] = [];
  for (let i = 0; i < 256; i++) {
    const records = Array.from({ length: 1 + below(4) }, randomRecord);
    pool.push(encodeFrame({ equipmentId: rnd(), frameSeq: rnd(), records, crc: below(2) === 0 }));
  }
  const [wasmSlot, baseSlot] = [slots[0]!, slots[1]!];
  const { u8, u32 } = decoder;
  const baseline = new DataViewDecoder(decoder.memory.buffer);
  const reasons = new Array<number>(REASON_NAMES.length).fill(0);
  const wasmRow = wasmSlot.msgPtr >>> 2;
  const baseRow = baseSlot.msgPtr >>> 2;
  let records = 0;

  for (let done = 0; done < FRAMES; done += BATCH) {
    let at = wasmSlot.framePtr;
    for (let m = 0; m < BATCH; m++) {
      const kind = below(8);
      let len: number;
      if (kind === 7) {
        // random bytes, half of them behind a plausible header
        len = below(160);
        for (let i = 0; i < len; i++) u8[at + i] = rnd() & 0xff;
        if (below(2) && len >= 8) {
          u8.set([0x4c, 0x58, 0x45, 0x31, 1, below(2), 0, 1 + below(3)], at);
        }
      } else {
        const src = pool[below(pool.length)]!;
        u8.set(src, at);
        len = src.length;
        if (kind === 1 || kind === 2 || kind === 3) {
          for (let k = 1 + below(3); k > 0; k--) u8[at + below(len)] ^= 1 + below(255);
        } else if (kind === 4) {
          len = below(len);
        } else if (kind === 5) {
          const extra = 1 + below(8);
          for (let i = 0; i < extra; i++) u8[at + len + i] = rnd() & 0xff;
          len += extra;
        } else if (kind === 6) {
          // a record length, TLV length or header byte set to an arbitrary value
          u8[at + below(Math.min(len, 64))] = rnd() & 0xff;
        }
      }
      // the row's spare last word marks an unchanged valid frame, which must decode
      u32[wasmRow + m * MSG_WORDS + UNCHANGED] = kind === 0 ? 1 : 0;
      u32[wasmRow + m * MSG_WORDS + M_PTR] = at;
      u32[wasmRow + m * MSG_WORDS + M_LEN] = len;
      u32[baseRow + m * MSG_WORDS + M_PTR] = at;
      u32[baseRow + m * MSG_WORDS + M_LEN] = len;
      at += len;
    }

    const total = decoder.decode(wasmSlot, BATCH);
    const baseTotal = baseline.decodeBatch(baseSlot.msgPtr, BATCH, baseSlot.recPtr);
    expect(total).toBe(baseTotal);
    records += total;

    for (let m = 0; m < BATCH; m++) {
      const w = wasmRow + m * MSG_WORDS;
      const b = baseRow + m * MSG_WORDS;
      const reason = u32[w + M_REASON]!;
      if (reason !== u32[b + M_REASON] || u32[w + M_FIRST] !== u32[b + M_FIRST] || u32[w + M_COUNT] !== u32[b + M_COUNT]) {
        const bytes = Buffer.from(u8.slice(u32[w + M_PTR]!, u32[w + M_PTR]! + u32[w + M_LEN]!)).toString('hex');
        expect.fail(`frame ${done + m}: wasm ${REASON_NAMES[reason]} vs baseline ${REASON_NAMES[u32[b + M_REASON]!]}: ${bytes}`);
      }
      if (reason >= REASON_NAMES.length) expect.fail(`frame ${done + m}: reason code ${reason}`);
      reasons[reason]!++;
      if (u32[w + UNCHANGED] === 1 && reason !== 0) expect.fail(`frame ${done + m}: an unchanged valid frame was ${REASON_NAMES[reason]}`);
      if (reason !== 0) continue;
      const lo = u32[w + M_PTR]!;
      const hi = lo + u32[w + M_LEN]!;
      const first = u32[w + M_FIRST]!;
      for (let i = 0; i < u32[w + M_COUNT]!; i++) {
        const r = (wasmSlot.recPtr >>> 2) + (first + i) * REC_WORDS;
        const br = (baseSlot.recPtr >>> 2) + (first + i) * REC_WORDS;
        for (let k = 0; k < REC_WORDS; k++) {
          if (u32[r + k] !== u32[br + k]) expect.fail(`frame ${done + m} record ${i}: word ${k} wasm ${u32[r + k]} vs baseline ${u32[br + k]}`);
        }
        const flags = u32[r + R_CODES]! >>> 24;
        const inside = (p: number, n: number) => p >= lo && p + n <= hi;
        if (u32[r + R_MESSAGE] !== m || u32[r + R_INDEX] !== i) expect.fail(`frame ${done + m}: record ${i} misnumbered`);
        if (!inside(u32[r + R_IMSI_PTR]!, 8) || u32[r + R_IMSI_DIGITS]! > 16) expect.fail(`frame ${done + m}: imsi outside the frame`);
        if (flags & F_APN && !inside(u32[r + R_APN_PTR]!, u32[r + R_APN_LEN]!)) expect.fail(`frame ${done + m}: apn outside the frame`);
        if (flags & F_VENDOR_DETAIL && !inside(u32[r + R_VD_PTR]!, u32[r + R_VD_LEN]!)) expect.fail(`frame ${done + m}: vendor_detail outside the frame`);
        // every 50th batch, the platform's strict UTF-8 decoder must accept what we accepted
        if (done % (BATCH * 50) === 0 && flags & F_APN) utf8.decode(u8.slice(u32[r + R_APN_PTR]!, u32[r + R_APN_PTR]! + u32[r + R_APN_LEN]!));
      }
    }
  }

  const seen = Object.fromEntries(REASON_NAMES.map((n, i) => [n, reasons[i]]));
  // the mix must actually exercise decoding and the common reasons, or the test proves little
  expect(reasons.reduce((s, n) => s + n, 0)).toBe(FRAMES);
  expect(seen.ok).toBeGreaterThan(FRAMES / 10);
  for (const name of ['truncated', 'bad_magic', 'bad_record_length', 'crc_mismatch', 'trailing_bytes', 'bad_time']) {
    expect(seen[name], name).toBeGreaterThan(0);
  }
  expect(records).toBeGreaterThan(0);
  console.log(`fuzz: ${FRAMES} frames, ${records} records decoded`, seen);
}, 120_000);
