// Golden LXE1 frames built by hand: every record field lands in its slot word, batches lay records out in order, CRC on and off.
import { describe, expect, test } from 'vitest';
import { crc32 } from 'node:zlib';
import { encodeFrame, encodeFrameStream, encodeImsi, type RecordInput } from '../../src/gen/frame-encoder.js';
import { MSG_WORDS, M_COUNT, M_FIRST, M_REASON, REC_WORDS, R_APN_PTR, R_IMSI_PTR } from '../../src/decode/layout.js';
import { decoderFormat, decoderFormatNames } from '../../src/decode/registry.js';
import { decodeFrames, decodeOne, decoder, slots } from './harness.js';

const T = Date.UTC(2024, 4, 17, 12, 30, 45, 123);

const full: RecordInput = {
  type: 5,
  result: 1,
  eventTime: T,
  cellId: 0xfedcba98,
  causeCode: 0xbeef,
  rat: 4,
  reserved: 0xaa,
  imsi: '208150123456789',
  durationMs: 4000000000,
  bytesUp: 123456789,
  bytesDown: 0xffffffff,
  apn: 'internet.mnc015.mcc208.gprs',
  rsrpDbm: -140,
  targetCellId: 0x80000001,
  setupLatencyMs: 65535,
  vendorDetail: 'RLF: T310 expiry — cellule voisine',
};

describe('LXE1 golden frames', () => {
  test('a record with every field and every extension decodes to the exact values', () => {
    const frame = encodeFrame({ equipmentId: 0xdeadbeef, frameSeq: 4242, records: [full] });
    const out = decodeOne(frame);
    expect(out.reason).toBe('ok');
    expect(out.count).toBe(1);
    expect(out.records[0]).toEqual({
      eventTime: T,
      equipmentId: 0xdeadbeef,
      frameSeq: 4242,
      index: 0,
      message: 0,
      type: 5,
      result: 1,
      rat: 4,
      cellId: 0xfedcba98,
      causeCode: 0xbeef,
      durationMs: 4000000000,
      bytesUp: 123456789,
      bytesDown: 0xffffffff,
      imsi: '208150123456789',
      apn: 'internet.mnc015.mcc208.gprs',
      rsrpDbm: -140,
      targetCellId: 0x80000001,
      setupLatencyMs: 65535,
      vendorDetail: 'RLF: T310 expiry — cellule voisine',
    });
  });

  test('a record without extensions carries no optional field and unknown codes pass through as on the wire', () => {
    const frame = encodeFrame({
      equipmentId: 1,
      frameSeq: 0,
      records: [{ type: 0, result: 9, rat: 200, eventTime: T, imsi: null }],
    });
    const r = decodeOne(frame).records[0]!;
    expect(r).toEqual({
      eventTime: T, equipmentId: 1, frameSeq: 0, index: 0, message: 0, type: 0, result: 9, rat: 200,
      cellId: 0, causeCode: 0, durationMs: 0, bytesUp: 0, bytesDown: 0, imsi: null,
    });
  });

  test('hand-written bytes decode (the encoder is not the only witness)', () => {
    const hex =
      '4c584531' + '01' + '00' + '0001' + '00000007' + '00000009' + // header: version 1, no CRC, 1 record
      '002c' + '03' + '00' + '0000018bcfe56800' + '0000abcd' + '0000' + '03' + '00' + // length 44, session_start
      '0218000000ffffff' + '00000064' + '00000001' + '00000002' + // imsi 2081000000
      '0202ff9c'; // rsrp_dbm -100
    const out = decodeOne(Buffer.from(hex, 'hex'));
    expect(out.reason).toBe('ok');
    expect(out.records[0]).toEqual({
      eventTime: 1700000000000, equipmentId: 7, frameSeq: 9, index: 0, message: 0, type: 3, result: 0, rat: 3,
      cellId: 0xabcd, causeCode: 0, durationMs: 100, bytesUp: 1, bytesDown: 2, imsi: '2081000000', rsrpDbm: -100,
    });
  });

  test('frames with and without a CRC trailer both decode; the trailer is zlib.crc32, big-endian', () => {
    const plain = encodeFrame({ equipmentId: 3, frameSeq: 1, records: [full, full] });
    const crc = encodeFrame({ equipmentId: 3, frameSeq: 1, records: [full, full], crc: true });
    expect(crc.length).toBe(plain.length + 4);
    expect(crc[5]).toBe(1);
    expect(crc.readUInt32BE(crc.length - 4)).toBe(crc32(crc.subarray(0, crc.length - 4)));
    const out = decodeFrames([plain, crc]);
    expect(out.total).toBe(4);
    expect(out.frames.map((f) => f.reason)).toEqual(['ok', 'ok']);
    expect(out.frames[1]!.records.map((r) => ({ ...r, message: 0 }))).toEqual(out.frames[0]!.records);
  });

  test('the WASM CRC-32 equals zlib.crc32 for every length up to 300', () => {
    const slot = slots[0]!;
    for (let i = 0; i < 300; i++) decoder.u8[slot.framePtr + i] = (i * 131 + 7) & 0xff;
    for (let len = 0; len <= 300; len++) {
      expect(decoder.crc32(slot.framePtr, len)).toBe(crc32(decoder.u8.slice(slot.framePtr, slot.framePtr + len)));
    }
  });

  test('a batch lays records out back to back; a dead-lettered frame takes no record slot', () => {
    const a = encodeFrame({ equipmentId: 10, frameSeq: 1, records: [{ eventTime: T }, { eventTime: T + 1 }, { eventTime: T + 2 }] });
    const bad = encodeFrame({ equipmentId: 11, frameSeq: 2, records: [{ eventTime: T }, { eventTime: 0 }] });
    const b = encodeFrame({ equipmentId: 12, frameSeq: 3, records: [{ eventTime: T + 3 }, { eventTime: T + 4 }] });
    const out = decodeFrames([a, bad, b]);
    expect(out.total).toBe(5);
    expect(out.frames.map((f) => [f.reason, f.first, f.count])).toEqual([['ok', 0, 3], ['bad_time', 3, 0], ['ok', 3, 2]]);
    expect(out.frames[2]!.records.map((r) => [r.equipmentId, r.message, r.index, r.eventTime])).toEqual([
      [12, 2, 0, T + 3],
      [12, 2, 1, T + 4],
    ]);
    // the message table words, read raw
    const row = (slots[0]!.msgPtr >>> 2) + 2 * MSG_WORDS;
    expect([decoder.u32[row + M_REASON], decoder.u32[row + M_FIRST], decoder.u32[row + M_COUNT]]).toEqual([0, 3, 2]);
  });

  test('apn and imsi pointers point into the frame bytes, not into a copy', () => {
    const frame = encodeFrame({ equipmentId: 1, frameSeq: 1, records: [{ eventTime: T, apn: 'ims', imsi: '1' }] });
    decodeOne(frame);
    const slot = slots[0]!;
    const w = slot.recPtr >>> 2;
    expect(decoder.u32[w + R_IMSI_PTR]).toBe(slot.framePtr + 16 + 20);
    expect(decoder.u32[w + R_APN_PTR]).toBe(slot.framePtr + 16 + 40 + 2);
    expect(REC_WORDS).toBe(20);
  });

  test('the encoder writes TBCD imsi and the decode stream framing', () => {
    expect(Buffer.from(encodeImsi('208150123456789')).toString('hex')).toBe('02180521436587f9');
    expect(Buffer.from(encodeImsi('12')).toString('hex')).toBe('21ffffffffffffff');
    expect(Buffer.from(encodeImsi(null)).toString('hex')).toBe('ffffffffffffffff');
    const s = encodeFrameStream([Uint8Array.of(1, 2), Uint8Array.of(3)]);
    expect(s.toString('hex')).toBe('000000020102' + '0000000103');
  });

  test('the registry maps lxe1 to the WASM decoder and rejects unknown formats', async () => {
    expect(decoderFormatNames()).toContain('lxe1');
    const f = decoderFormat('lxe1');
    const mod = await f.compile();
    const d = f.create(decoder.memory, mod);
    const frame = encodeFrame({ equipmentId: 5, frameSeq: 6, records: [{ eventTime: T }] });
    const n = decodeFrames([frame]).total;
    expect(d.decode(slots[0]!, 1)).toBe(n);
    expect(() => decoderFormat('lxe2')).toThrow(/unknown frame format "lxe2"/);
  });
});
