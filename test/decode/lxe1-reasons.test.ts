// Every dead-letter reason of SPEC section 1, each from a frame that breaks exactly that one rule; a broken frame yields no record.
import { describe, expect, test } from 'vitest';
import { encodeFrame, type FrameInput, type RecordInput } from '../../src/gen/frame-encoder.js';
import { REASON_NAMES } from '../../src/decode/reasons.js';
import { MSG_WORDS, M_COUNT, M_LEN, M_PTR, M_REASON } from '../../src/decode/layout.js';
import { decodeFrames, decodeOne, decoder, slots } from './harness.js';

const T = Date.UTC(2023, 0, 1);
const rec: RecordInput = { eventTime: T, imsi: '001010123456789', apn: 'internet', rsrpDbm: -90 };
const frame = (records: RecordInput[] = [rec, rec], crc = false): FrameInput => ({ equipmentId: 9, frameSeq: 1, records, crc });

function reasonOf(bytes: Uint8Array): string {
  const out = decodeOne(bytes);
  if (out.reason !== 'ok') {
    expect(out.count).toBe(0);
    expect(out.records).toEqual([]);
  }
  return out.reason;
}

describe('LXE1 dead-letter reasons', () => {
  test('a valid frame is ok, with and without CRC', () => {
    expect(reasonOf(encodeFrame(frame()))).toBe('ok');
    expect(reasonOf(encodeFrame(frame(undefined, true)))).toBe('ok');
  });

  test('truncated: shorter than the 16-byte header', () => {
    expect(reasonOf(new Uint8Array(0))).toBe('truncated');
    expect(reasonOf(encodeFrame(frame()).subarray(0, 15))).toBe('truncated');
  });

  test('truncated: a record runs past the end', () => {
    expect(reasonOf(encodeFrame(frame(), { truncateBy: 1 }))).toBe('truncated');
    expect(reasonOf(encodeFrame(frame([rec]), { recordCount: 2 }))).toBe('truncated');
    expect(reasonOf(encodeFrame(frame([{ eventTime: T }]), { truncateBy: 39 }))).toBe('truncated');
  });

  test('truncated: the CRC trailer is cut short', () => {
    expect(reasonOf(encodeFrame(frame(undefined, true), { truncateBy: 2 }))).toBe('truncated');
  });

  test('truncated: a message row whose bytes lie outside the memory (the ring marks oversize messages with length 0xFFFFFFFF)', () => {
    const slot = slots[0]!;
    const row = slot.msgPtr >>> 2;
    decoder.u32[row + M_PTR] = slot.framePtr;
    decoder.u32[row + M_LEN] = 0xffffffff;
    decoder.u32[row + MSG_WORDS + M_PTR] = decoder.u8.length - 8;
    decoder.u32[row + MSG_WORDS + M_LEN] = 16;
    expect(decoder.decode(slot, 2)).toBe(0);
    expect([decoder.u32[row + M_REASON], decoder.u32[row + M_COUNT]]).toEqual([1, 0]);
    expect(decoder.u32[row + MSG_WORDS + M_REASON]).toBe(1);
  });

  test('bad_magic', () => {
    expect(reasonOf(encodeFrame(frame(), { magic: [0x4c, 0x58, 0x45, 0x32] }))).toBe('bad_magic');
  });

  test('bad_version', () => {
    expect(reasonOf(encodeFrame(frame(), { version: 2 }))).toBe('bad_version');
    expect(reasonOf(encodeFrame(frame(), { version: 0 }))).toBe('bad_version');
  });

  test('bad_flags: any of bits 1-7', () => {
    for (let bit = 1; bit < 8; bit++) expect(reasonOf(encodeFrame(frame(), { flags: 1 << bit }))).toBe('bad_flags');
  });

  test('empty_frame: record_count 0', () => {
    expect(reasonOf(encodeFrame(frame([])))).toBe('empty_frame');
  });

  test('bad_record_length: a length below 40', () => {
    expect(reasonOf(encodeFrame(frame([rec, { eventTime: T, length: 39 }])))).toBe('bad_record_length');
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, length: 0 }])))).toBe('bad_record_length');
  });

  test('bad_tlv: a TLV runs past its record', () => {
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, tlvs: [{ tag: 1, value: 'abc', len: 4 }] }])))).toBe('bad_tlv');
    // a lone tag byte with no room for its length byte
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, tlvs: [{ tag: 9, value: [] }], length: 41 }]), { truncateBy: 1 }))).toBe('bad_tlv');
  });

  test('bad_tlv: a numeric tag with the wrong length', () => {
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, tlvs: [{ tag: 2, value: [1, 2, 3] }] }])))).toBe('bad_tlv');
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, tlvs: [{ tag: 3, value: [1, 2] }] }])))).toBe('bad_tlv');
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, tlvs: [{ tag: 4, value: [] }] }])))).toBe('bad_tlv');
  });

  test('bad_imsi: a digit nibble A-E before the end', () => {
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, imsi: Uint8Array.of(0x21, 0xa3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) }])))).toBe('bad_imsi');
  });

  test('bad_time: before 2000 or from 2100 on', () => {
    expect(reasonOf(encodeFrame(frame([{ eventTime: Date.UTC(1999, 11, 31, 23, 59, 59, 999) }])))).toBe('bad_time');
  });

  test('bad_utf8: an apn or a vendor_detail that is not UTF-8', () => {
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, apn: Uint8Array.of(0x61, 0xff) }])))).toBe('bad_utf8');
    expect(reasonOf(encodeFrame(frame([{ eventTime: T, vendorDetail: Uint8Array.of(0xc0, 0x80) }])))).toBe('bad_utf8');
  });

  test('crc_mismatch', () => {
    expect(reasonOf(encodeFrame(frame(undefined, true), { crcXor: 1 }))).toBe('crc_mismatch');
    expect(reasonOf(encodeFrame(frame(undefined, true), { crcValue: 0 }))).toBe('crc_mismatch');
  });

  test('trailing_bytes: after the last record, or after the trailer', () => {
    expect(reasonOf(encodeFrame(frame(), { trailing: [0] }))).toBe('trailing_bytes');
    expect(reasonOf(encodeFrame(frame(undefined, true), { trailing: [1, 2, 3] }))).toBe('trailing_bytes');
    expect(reasonOf(encodeFrame(frame([rec, rec]), { recordCount: 1 }))).toBe('trailing_bytes');
  });

  test('all twelve reasons are covered and keep their codes', () => {
    expect(REASON_NAMES.slice(1)).toEqual([
      'truncated', 'bad_magic', 'bad_version', 'bad_flags', 'empty_frame', 'bad_record_length', 'bad_tlv', 'bad_imsi',
      'bad_time', 'bad_utf8', 'crc_mismatch', 'trailing_bytes',
    ]);
  });

  test('a frame is dead-lettered whole even when its first records are fine, and the next frame reuses the slots', () => {
    const bad = encodeFrame(frame([rec, rec, { ...rec, rsrpDbm: undefined, tlvs: [{ tag: 2, value: [1] }] }]));
    const good = encodeFrame(frame([{ ...rec, cellId: 77 }]));
    const out = decodeFrames([bad, good]);
    expect(out.total).toBe(1);
    expect(out.frames[0]).toMatchObject({ reason: 'bad_tlv', first: 0, count: 0 });
    expect(out.frames[1]).toMatchObject({ reason: 'ok', first: 0, count: 1 });
    expect(out.frames[1]!.records[0]!.cellId).toBe(77);
  });
});
