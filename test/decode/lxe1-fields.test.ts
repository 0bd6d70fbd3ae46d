// Edge cases of the record fields: TLV repetition and unknown tags, imsi TBCD forms, event_time bounds, UTF-8 validity.
import { describe, expect, test } from 'vitest';
import { encodeFrame, type RecordInput } from '../../src/gen/frame-encoder.js';
import { decodeOne, type FrameOutcome } from './harness.js';

const T = Date.UTC(2020, 5, 1);
function one(r: RecordInput, crc = false): FrameOutcome {
  return decodeOne(encodeFrame({ equipmentId: 1, frameSeq: 1, records: [r], crc }));
}
const imsiBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

describe('TLV extensions', () => {
  test('a repeated tag: the last one wins, for text and numbers', () => {
    const out = one({
      eventTime: T,
      tlvs: [
        { tag: 1, value: 'first' }, { tag: 2, value: [0xff, 0x00] }, { tag: 1, value: 'second' }, { tag: 2, value: [0x00, 0x05] },
        { tag: 5, value: 'a' }, { tag: 5, value: 'b' }, { tag: 3, value: [0, 0, 0, 1] }, { tag: 3, value: [0, 0, 0, 2] },
        { tag: 4, value: [0, 1] }, { tag: 4, value: [0, 3] },
      ],
    });
    expect(out.records[0]).toMatchObject({ apn: 'second', rsrpDbm: 5, vendorDetail: 'b', targetCellId: 2, setupLatencyMs: 3 });
  });

  test('unknown tags are skipped, including tag 0 and long values', () => {
    const out = one({ eventTime: T, tlvs: [{ tag: 0, value: [] }, { tag: 0x06, value: new Uint8Array(255) }, { tag: 0xff, value: [1] }, { tag: 1, value: 'x' }] });
    expect(out.reason).toBe('ok');
    expect(out.records[0]!.apn).toBe('x');
  });

  test('a zero-length apn is present and empty', () => {
    const out = one({ eventTime: T, apn: '' });
    expect(out.records[0]!.apn).toBe('');
    expect(out.records[0]).not.toHaveProperty('vendorDetail');
  });

  test('numeric extensions: rsrp is signed, target cell and setup latency unsigned', () => {
    expect(one({ eventTime: T, rsrpDbm: -32768, targetCellId: 0xffffffff, setupLatencyMs: 0 }).records[0]).toMatchObject({
      rsrpDbm: -32768, targetCellId: 0xffffffff, setupLatencyMs: 0,
    });
    expect(one({ eventTime: T, rsrpDbm: 32767 }).records[0]!.rsrpDbm).toBe(32767);
  });

  test('a numeric tag with the wrong length is bad_tlv even when a later one is right', () => {
    expect(one({ eventTime: T, tlvs: [{ tag: 4, value: [0, 0, 1] }, { tag: 4, value: [0, 1] }] }).reason).toBe('bad_tlv');
    expect(one({ eventTime: T, tlvs: [{ tag: 3, value: [0, 0, 0, 0, 0] }] }).reason).toBe('bad_tlv');
  });

  test('a TLV ending exactly at the record end is fine; one byte more is bad_tlv', () => {
    expect(one({ eventTime: T, tlvs: [{ tag: 1, value: 'abc', len: 3 }] }).reason).toBe('ok');
    expect(one({ eventTime: T, tlvs: [{ tag: 1, value: 'abc', len: 4 }] }).reason).toBe('bad_tlv');
  });

  test('an invalid apn that a later apn would replace still dead-letters the frame', () => {
    expect(one({ eventTime: T, tlvs: [{ tag: 1, value: [0xff] }, { tag: 1, value: 'ok' }] }).reason).toBe('bad_utf8');
  });

  test('extension bytes beyond the record length belong to the next record, not to this one', () => {
    const out = decodeOne(encodeFrame({ equipmentId: 1, frameSeq: 1, records: [{ eventTime: T, apn: 'a' }, { eventTime: T + 1 }] }));
    expect(out.records.map((r) => r.apn)).toEqual(['a', undefined]);
  });
});

describe('imsi', () => {
  test('15 digits', () => {
    expect(one({ eventTime: T, imsi: '310150123456789' }).records[0]!.imsi).toBe('310150123456789');
  });
  test('16 digits, no terminating F', () => {
    expect(one({ eventTime: T, imsi: '3101501234567890' }).records[0]!.imsi).toBe('3101501234567890');
  });
  test('all FF is no imsi (null)', () => {
    expect(one({ eventTime: T, imsi: null }).records[0]!.imsi).toBeNull();
  });
  test('a first nibble F is an imsi of zero digits, not null', () => {
    expect(one({ eventTime: T, imsi: imsiBytes('ff00000000000000') }).records[0]!.imsi).toBe('');
    expect(one({ eventTime: T, imsi: imsiBytes('0fffffffffffffff') }).records[0]!.imsi).toBe('');
  });
  test('nibbles after the terminating F are ignored, even A-E', () => {
    expect(one({ eventTime: T, imsi: imsiBytes('21afbcdeabcdeabc') }).records[0]!.imsi).toBe('12');
  });
  test('each of A-E before the end is bad_imsi, in a low or a high nibble, in the first or the last position', () => {
    for (const d of ['a', 'b', 'c', 'd', 'e']) {
      expect(one({ eventTime: T, imsi: imsiBytes(`0${d}ffffffffffffff`) }).reason).toBe('bad_imsi');
      expect(one({ eventTime: T, imsi: imsiBytes(`${d}0ffffffffffffff`) }).reason).toBe('bad_imsi');
      expect(one({ eventTime: T, imsi: imsiBytes(`00000000000000${d}0`) }).reason).toBe('bad_imsi');
      expect(one({ eventTime: T, imsi: imsiBytes(`0000000000000000`.slice(0, 14) + `${d}1`) }).reason).toBe('bad_imsi');
    }
  });
  test('an odd number of digits uses the low nibble of the last byte', () => {
    expect(one({ eventTime: T, imsi: imsiBytes('1032f4ffffffffff') }).records[0]!.imsi).toBe('01234');
  });
});

describe('event_time', () => {
  const lo = Date.UTC(2000, 0, 1);
  const hi = Date.UTC(2100, 0, 1);
  test.each([
    [lo, 'ok'], [lo - 1, 'bad_time'], [hi - 1, 'ok'], [hi, 'bad_time'], [0, 'bad_time'],
  ])('%d is %s', (t, reason) => {
    const out = one({ eventTime: t });
    expect(out.reason).toBe(reason);
    if (reason === 'ok') expect(out.records[0]!.eventTime).toBe(t);
  });
  test('u64 values far beyond 2^53, and with the top bit set, are bad_time', () => {
    expect(one({ eventTime: 0xffffffffffffffffn }).reason).toBe('bad_time');
    expect(one({ eventTime: (1n << 63n) + BigInt(lo) }).reason).toBe('bad_time');
    expect(one({ eventTime: (1n << 32n) + BigInt(lo) }).reason).toBe('ok');
  });
});

describe('UTF-8', () => {
  const ok = (bytes: number[]) => one({ eventTime: T, apn: Uint8Array.from(bytes) }).reason;
  const vd = (bytes: number[]) => one({ eventTime: T, vendorDetail: Uint8Array.from(bytes) }).reason;
  test.each([
    ['ASCII', [0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49]],
    ['2-byte', [0xc2, 0x80]],
    ['3-byte', [0xe2, 0x82, 0xac]],
    ['4-byte', [0xf0, 0x9f, 0x98, 0x80]],
    ['U+10FFFF', [0xf4, 0x8f, 0xbf, 0xbf]],
    ['U+D7FF', [0xed, 0x9f, 0xbf]],
    ['U+E000', [0xee, 0x80, 0x80]],
    ['NUL', [0x00]],
    ['multibyte after 8 ASCII bytes', [0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0xc3, 0xa9]],
  ])('valid %s', (_name, bytes) => {
    expect(ok(bytes)).toBe('ok');
    expect(vd(bytes)).toBe('ok');
  });
  test.each([
    ['overlong 2-byte', [0xc1, 0xbf]],
    ['overlong NUL', [0xc0, 0x80]],
    ['overlong 3-byte', [0xe0, 0x9f, 0xbf]],
    ['overlong 4-byte', [0xf0, 0x8f, 0xbf, 0xbf]],
    ['high surrogate', [0xed, 0xa0, 0x80]],
    ['low surrogate', [0xed, 0xbf, 0xbf]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['F5 lead', [0xf5, 0x80, 0x80, 0x80]],
    ['FF', [0xff]],
    ['lone continuation', [0x80]],
    ['cut 2-byte', [0xc3]],
    ['cut 3-byte', [0xe2, 0x82]],
    ['cut 4-byte', [0xf0, 0x9f, 0x98]],
    ['bad continuation', [0xe2, 0x28, 0xa1]],
    ['invalid after 8 ASCII bytes', [0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x80]],
  ])('invalid %s is bad_utf8', (_name, bytes) => {
    expect(ok(bytes)).toBe('bad_utf8');
    expect(vd(bytes)).toBe('bad_utf8');
  });
  test('a multibyte sequence may not continue across the TLV boundary', () => {
    expect(one({ eventTime: T, tlvs: [{ tag: 1, value: [0xe2, 0x82] }, { tag: 0xac, value: [] }] }).reason).toBe('bad_utf8');
  });
});
