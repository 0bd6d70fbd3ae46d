// The record serializers (JavaScript and native) write exactly the bytes JSON.stringify gives for the SPEC section 3 object, a record or a whole slot at a time.
import { describe, expect, it } from 'vitest';
import { recordJsonCapacity, writeIsoTime, type SlotWrite, type SlotWriter } from '../../src/enrich/record-json.js';
import { MSG_WORDS, M_COUNT, M_FIRST, M_REASON, REC_BYTES, type SlotGeometry } from '../../src/decode/layout.js';
import { ReferenceEnricher } from '../../bench/baseline/json-enricher.js';
import { buildSnapshot } from '../../src/enrich/snapshot.js';
import type { RefTables } from '../../src/enrich/csv-tables.js';
import { RecordArena, SLOT_WRITERS, prng, randomRecord, writeOne, type RecordFields } from './record-slots.js';

const T2000 = Date.UTC(2000, 0, 1);
const T2100 = Date.UTC(2100, 0, 1);

const tables: RefTables = {
  vendors: [
    { vendorId: 'nok', name: 'Nokia' },
    { vendorId: 'eri', name: 'Ericsson "AB"' },
    { vendorId: 'hua', name: null },
  ],
  equipment: [
    { equipmentId: 1, name: 'ENB-PAR-001', model: 'AirScale', vendorId: 'nok', site: 'Paris "Nord"', region: 'IDF' },
    { equipmentId: 2, name: 'gNB\\Lyon\n2', model: null, vendorId: 'eri', site: 'Lyon', region: 'ARA' },
    { equipmentId: 3, name: 'Sträßle 日本 😀', model: 'X', vendorId: 'ghost', site: null, region: null },
    { equipmentId: 4, name: 'no vendor', model: 'Y', vendorId: null, site: 'S', region: 'R' },
    { equipmentId: 4294967295, name: 'max', model: 'M', vendorId: 'hua', site: 'S', region: 'R' },
    { equipmentId: 0, name: 'zero', model: 'M', vendorId: 'nok', site: 'S', region: 'R' },
  ],
  errorCodes: [
    { vendorId: 'nok', causeCode: 17, label: 'RRC \u0001 reject', severity: 'major', category: 'radio' },
    { vendorId: 'eri', causeCode: 17, label: 'S1 "setup" failure', severity: null, category: 'core' },
    { vendorId: 'ghost', causeCode: 5, label: 'ghost vendor code', severity: 'minor', category: 'x' },
    { vendorId: 'hua', causeCode: 65535, label: 'max', severity: 'critical', category: 'y' },
    { vendorId: 'nok', causeCode: 0, label: 'zero code', severity: 'info', category: 'z' },
  ],
  interventions: [
    { ticket: 'CHG-1', equipmentId: 1, kind: 'upgrade', startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 2) },
    { ticket: 'CHG-2', equipmentId: 1, kind: 'repair', startMs: Date.UTC(2024, 0, 1, 12), endMs: Date.UTC(2024, 0, 1, 13) },
    { ticket: 'CHG-3', equipmentId: 2, kind: null, startMs: Date.UTC(2023, 0, 1), endMs: Infinity },
    { ticket: 'CHG-4', equipmentId: 99, kind: 'unknown equipment', startMs: T2000, endMs: T2100 },
  ],
};

const snapshot = buildSnapshot(tables);

function serialize(arena: RecordArena, writer: SlotWriter, ptr: number): string {
  const out = new Uint8Array(recordJsonCapacity(snapshot));
  const end = writeOne(writer, arena, ptr, out);
  expect(end).toBeGreaterThan(0);
  return Buffer.from(out.subarray(0, end)).toString('utf8');
}

describe.each(SLOT_WRITERS)('%s', (_name, make) => {
  const reference = new ReferenceEnricher(tables);

  it('writes the SPEC section 3 fields in table order, extensions only when flagged', () => {
    const arena = new RecordArena(1);
    const writer = make(snapshot, arena.memory);
    const ptr = arena.put(0, {
      timeMs: Date.UTC(2024, 0, 1, 12, 30, 0, 7),
      equipmentId: 1,
      frameSeq: 42,
      index: 3,
      type: 5,
      result: 1,
      rat: 4,
      cellId: 1001,
      causeCode: 17,
      durationMs: 250,
      bytesUp: 10,
      bytesDown: 20,
      imsi: '208150123456789',
      rsrpDbm: -97,
      setupLatencyMs: 65535,
    });
    expect(serialize(arena, writer, ptr)).toBe(
      '{"event_time":"2024-01-01T12:30:00.007Z","equipment_id":1,"frame_seq":42,"record_index":3,"type":"handover",' +
        '"result":"failure","rat":"5G-NSA","cell_id":1001,"cause_code":17,"duration_ms":250,"bytes_up":10,"bytes_down":20,' +
        '"imsi":"208150123456789","rsrp_dbm":-97,"setup_latency_ms":65535,' +
        '"equipment":{"name":"ENB-PAR-001","model":"AirScale","vendor":"Nokia","site":"Paris \\"Nord\\"","region":"IDF"},' +
        '"cause":{"label":"RRC \\u0001 reject","severity":"major","category":"radio"},' +
        '"maintenance":{"ticket":"CHG-2","kind":"repair"}}',
    );
  });

  it('writes null for an absent imsi, unknown equipment, cause and maintenance, and "unknown" for unknown codes', () => {
    const arena = new RecordArena(1);
    const writer = make(snapshot, arena.memory);
    const ptr = arena.put(0, { timeMs: T2000, equipmentId: 777, type: 0, result: 9, rat: 200, causeCode: 17, imsi: null });
    expect(serialize(arena, writer, ptr)).toBe(
      '{"event_time":"2000-01-01T00:00:00.000Z","equipment_id":777,"frame_seq":0,"record_index":0,"type":"unknown",' +
        '"result":"unknown","rat":"unknown","cell_id":0,"cause_code":17,"duration_ms":0,"bytes_up":0,"bytes_down":0,' +
        '"imsi":null,"equipment":null,"cause":null,"maintenance":null}',
    );
  });

  it('writes an empty imsi string when the first nibble ends the number', () => {
    const arena = new RecordArena(1);
    const writer = make(snapshot, arena.memory);
    expect(serialize(arena, writer, arena.put(0, { timeMs: T2000, equipmentId: 1, imsi: '' }))).toContain('"imsi":""');
  });

  it('resolves vendor names and causes through the equipment vendor_id', () => {
    const arena = new RecordArena(4);
    const writer = make(snapshot, arena.memory);
    const ghost = JSON.parse(serialize(arena, writer, arena.put(0, { timeMs: T2000, equipmentId: 3, causeCode: 5 })));
    expect(ghost.equipment).toEqual({ name: 'Sträßle 日本 😀', model: 'X', vendor: null, site: null, region: null });
    expect(ghost.cause).toEqual({ label: 'ghost vendor code', severity: 'minor', category: 'x' });
    const noVendor = JSON.parse(serialize(arena, writer, arena.put(1, { timeMs: T2000, equipmentId: 4, causeCode: 17 })));
    expect(noVendor.equipment.vendor).toBeNull();
    expect(noVendor.cause).toBeNull();
    const zero = JSON.parse(serialize(arena, writer, arena.put(2, { timeMs: T2000, equipmentId: 0, causeCode: 0 })));
    expect(zero.cause).toBeNull(); // cause_code 0 means none
    const max = JSON.parse(serialize(arena, writer, arena.put(3, { timeMs: T2000, equipmentId: 4294967295, causeCode: 65535 })));
    expect(max.equipment_id).toBe(4294967295);
    expect(max.cause.label).toBe('max');
    expect(max.equipment.vendor).toBeNull();
  });

  it('escapes apn and vendor_detail bytes exactly as JSON.stringify does', () => {
    const arena = new RecordArena(1);
    const writer = make(snapshot, arena.memory);
    let all = '';
    for (let c = 0; c < 0x80; c++) all += String.fromCharCode(c);
    all += 'é日😀\u2028\u2029\ufeff';
    const bytes = new Uint8Array(Buffer.from(all, 'utf8'));
    const json = serialize(arena, writer, arena.put(0, { timeMs: T2000, equipmentId: 5, apn: bytes, vendorDetail: bytes.subarray(0, 40) }));
    expect(json).toContain(`,"apn":${JSON.stringify(all)},`);
    expect(json).toContain(`,"vendor_detail":${JSON.stringify(all.slice(0, 40))},`);
  });

  it('matches JSON.stringify of the reference object byte for byte over random records', () => {
    const rand = prng(12345);
    const n = 20000;
    const arena = new RecordArena(1000);
    const writer = make(snapshot, arena.memory);
    const out = new Uint8Array(recordJsonCapacity(snapshot));
    const ids = [0, 1, 2, 3, 4, 99, 4294967295];
    for (let i = 0; i < n; i++) {
      if (i % 1000 === 0) arena.resetText();
      const tMin = i % 2 === 0 ? T2000 : Date.UTC(2022, 11, 31);
      const tMax = i % 2 === 0 ? T2100 : Date.UTC(2024, 0, 3);
      const ptr = arena.put(i % 1000, randomRecord(rand, ids, [0, 5, 17, 65535], tMin, tMax));
      const end = writeOne(writer, arena, ptr, out);
      const expected = Buffer.from(reference.recordJson(arena.memory, ptr), 'utf8');
      expect(Buffer.from(out.subarray(0, end)).equals(expected), `record ${i}: ${expected.toString()}`).toBe(true);
    }
  });

  it('writes event_time as Date.prototype.toISOString does, at the edges of the calendar too', () => {
    const arena = new RecordArena(1);
    const writer = make(snapshot, arena.memory);
    for (const ms of [0, -1, Date.UTC(2000, 1, 29, 23, 59, 59, 999), 253402300799999, 253402300800000, -62167219200000, -62167219200001, 8.64e15, -8.64e15]) {
      const json = JSON.parse(serialize(arena, writer, arena.put(0, { timeMs: ms, equipmentId: 1 }))) as { event_time: string };
      expect(json.event_time, String(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('returns -1 when the record might not fit, leaving earlier output alone', () => {
    const arena = new RecordArena(1);
    const writer = make(snapshot, arena.memory);
    const ptr = arena.put(0, { timeMs: T2000, equipmentId: 1 });
    const out = new Uint8Array(recordJsonCapacity(snapshot));
    out.fill(7);
    expect(writeOne(writer, arena, ptr, out.subarray(out.length - 100))).toBe(-1);
    expect(out.every((b) => b === 7)).toBe(true);
    expect(writeOne(writer, arena, ptr, out)).toBeGreaterThan(0);
  });

  it('writes a slot in message order, skips dead-lettered frames, stops where the output fills and resumes there', () => {
    // 12 messages of 0–4 records each, every third dead-lettered; records laid out after a 12-row message table
    const rand = prng(99);
    const messages = 12;
    const arena = new RecordArena(64, 64 * 600, 512);
    const writer = make(snapshot, arena.memory);
    const table = new Uint32Array(arena.memory, 0, messages * MSG_WORDS);
    const expected: string[] = [];
    let next = 0;
    for (let m = 0; m < messages; m++) {
      const n = Math.floor(rand() * 5);
      const dead = m % 3 === 2;
      table[m * MSG_WORDS + M_REASON] = dead ? 4 : 0;
      table[m * MSG_WORDS + M_FIRST] = next;
      table[m * MSG_WORDS + M_COUNT] = dead ? 0 : n;
      for (let r = 0; r < (dead ? 0 : n); r++) {
        const ptr = arena.put(next++, randomRecord(rand, [0, 1, 2, 3, 4, 99], [0, 5, 17], T2000, T2100));
        expect(ptr).toBe(arena.base + (next - 1) * REC_BYTES);
        expected.push(reference.recordJson(arena.memory, ptr));
      }
    }
    const geo = { msgPtr: 0, recPtr: arena.base } as SlotGeometry;
    const ends = new Uint32Array(64);
    // an output area that holds a few records at a time: each call resumes where the last stopped
    const out = new Uint8Array(recordJsonCapacity(snapshot) + 2000);
    const got: string[] = [];
    let from = 0;
    let fromRecord = 0;
    for (let calls = 0; from < messages; calls++) {
      expect(calls).toBeLessThan(100);
      const w: SlotWrite = writer.writeSlot(geo, messages, from, fromRecord, out, ends, false);
      expect(w.records > 0 || !w.full).toBe(true);
      let start = 0;
      for (let i = 0; i < w.records; i++) {
        got.push(Buffer.from(out.subarray(start, ends[i])).toString('utf8'));
        start = ends[i];
      }
      expect(w.full).toBe(w.done < messages);
      from = w.done;
      fromRecord = w.doneRecord;
    }
    expect(got).toEqual(expected);
    // in one call when the output holds them all; `wrap` (warm-up) starts over at 0 instead of stopping
    const whole = writer.writeSlot(geo, messages, 0, 0, new Uint8Array(200_000), ends, false);
    expect(whole).toEqual({ done: messages, doneRecord: 0, records: expected.length, full: false });
    const wrapped = writer.writeSlot(geo, messages, 0, 0, out, ends, true);
    expect(wrapped).toEqual({ done: messages, doneRecord: 0, records: expected.length, full: false });
  });
});

describe('writeIsoTime', () => {
  it('equals Date.prototype.toISOString from 2000 to 2099, on leap days and at the edges', () => {
    const out = new Uint8Array(32);
    const check = (ms: number): void => {
      const end = writeIsoTime(out, 0, ms);
      expect(Buffer.from(out.subarray(0, end)).toString('latin1')).toBe(new Date(ms).toISOString());
    };
    const rand = prng(7);
    for (let i = 0; i < 50000; i++) check(T2000 + Math.floor(rand() * (T2100 - T2000)));
    for (const ms of [T2000, T2100 - 1, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 1, 29), Date.UTC(2099, 11, 31, 23, 59, 59, 999), 0, -1, Date.UTC(1969, 11, 31), 253402300799999, 253402300800000, -62167219200001]) {
      check(ms);
    }
  });
});

export type { RecordFields };
