// The shared snapshot: hash lookups (collisions, absent keys), vendors, intervals, and one buffer shared by workers.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { EquipmentRow, RefTables } from '../../src/enrich/csv-tables.js';
import { EQ_WORDS, EQ_ID, NO_VENDOR, buildSnapshot, openSnapshot } from '../../src/enrich/snapshot.js';

const empty: RefTables = { equipment: [], vendors: [], errorCodes: [], interventions: [] };
const eq = (equipmentId: number, vendorId: string | null = 'nok'): EquipmentRow => ({
  equipmentId,
  name: `E${equipmentId}`,
  model: 'M',
  vendorId,
  site: 'S',
  region: 'R',
});

/** Ids whose Fibonacci hash lands in the same slot of a table of `cap` slots. */
function collidingIds(cap: number, n: number): number[] {
  const shift = 32 - Math.log2(cap);
  const target = Math.imul(12345, 0x9e3779b1) >>> shift;
  const ids: number[] = [];
  for (let id = 12345; ids.length < n; id++) if (Math.imul(id, 0x9e3779b1) >>> shift === target) ids.push(id);
  return ids;
}

describe('buildSnapshot / openSnapshot', () => {
  it('finds every equipment and nothing else, through colliding probe chains and the u32 extremes', () => {
    const ids = [...collidingIds(64, 20), 0, 4294967295, 2147483648];
    const snap = buildSnapshot({ ...empty, equipment: ids.map((id) => eq(id)) });
    for (const id of ids) {
      const row = snap.equipmentRow(id);
      expect(row).toBeGreaterThanOrEqual(0);
      expect(snap.u32[snap.eqBase + row * EQ_WORDS + EQ_ID]).toBe(id);
      expect(snap.equipmentJson(row)).toBe(`{"name":"E${id}","model":"M","vendor":null,"site":"S","region":"R"}`);
    }
    for (const absent of [1, 12344, 4294967294, ...collidingIds(64, 25).slice(20)]) expect(snap.equipmentRow(absent)).toBe(-1);
  });

  it('returns -1 for every lookup on empty tables', () => {
    const snap = buildSnapshot(empty);
    expect(snap.equipmentRow(1)).toBe(-1);
    expect(snap.errorCodeRow(0, 1)).toBe(-1);
    expect(snap.interventionAt(1, 0)).toBe(-1);
    expect(snap.vendorIndex('nok')).toBe(NO_VENDOR);
  });

  it('interns vendor_id strings, resolves names and leaves unknown vendors nameless', () => {
    const snap = buildSnapshot({
      equipment: [eq(1, 'nok'), eq(2, 'ghost'), eq(3, null)],
      vendors: [{ vendorId: 'nok', name: 'Nokia' }, { vendorId: 'eri', name: 'Ericsson' }],
      errorCodes: [
        { vendorId: 'nok', causeCode: 7, label: 'a', severity: 'b', category: 'c' },
        { vendorId: 'ghost', causeCode: 7, label: 'g', severity: null, category: null },
        { vendorId: 'eri', causeCode: 65535, label: 'e', severity: 'x', category: 'y' },
      ],
      interventions: [],
    });
    const nok = snap.vendorIndex('nok');
    const ghost = snap.vendorIndex('ghost');
    expect(snap.equipmentVendor(snap.equipmentRow(1))).toBe(nok);
    expect(snap.equipmentVendor(snap.equipmentRow(2))).toBe(ghost);
    expect(snap.equipmentVendor(snap.equipmentRow(3))).toBe(NO_VENDOR);
    expect(JSON.parse(snap.equipmentJson(snap.equipmentRow(1))).vendor).toBe('Nokia');
    expect(JSON.parse(snap.equipmentJson(snap.equipmentRow(2))).vendor).toBeNull();
    expect(snap.causeJson(snap.errorCodeRow(nok, 7))).toBe('{"label":"a","severity":"b","category":"c"}');
    expect(snap.causeJson(snap.errorCodeRow(ghost, 7))).toBe('{"label":"g","severity":null,"category":null}');
    expect(snap.causeJson(snap.errorCodeRow(snap.vendorIndex('eri'), 65535))).toBe('{"label":"e","severity":"x","category":"y"}');
    expect(snap.errorCodeRow(nok, 8)).toBe(-1);
    expect(snap.errorCodeRow(NO_VENDOR, 7)).toBe(-1);
  });

  it('stores each distinct string once, pre-escaped', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ ...eq(i), site: 'Paris "Nord"\n', region: 'IDF' }));
    const snap = buildSnapshot({ ...empty, equipment: rows });
    // null, 1000 names, "M", site, region, vendor_id "nok"
    expect(snap.stringCount).toBe(1 + 1000 + 4);
    expect(snap.equipmentJson(0)).toContain('"site":"Paris \\"Nord\\"\\n"');
  });

  it('picks the intervention with start <= t < end and the latest start among overlaps', () => {
    const T = Date.UTC(2024, 0, 1);
    const H = 3600000;
    const snap = buildSnapshot({
      ...empty,
      interventions: [
        { ticket: 'long', equipmentId: 5, kind: 'a', startMs: T, endMs: T + 10 * H },
        { ticket: 'inner', equipmentId: 5, kind: 'b', startMs: T + 2 * H, endMs: T + 3 * H },
        { ticket: 'late', equipmentId: 5, kind: 'c', startMs: T + 20 * H, endMs: Infinity },
        { ticket: 'tie', equipmentId: 5, kind: 'd', startMs: T + 2 * H, endMs: T + 4 * H },
        { ticket: 'other', equipmentId: 6, kind: null, startMs: T, endMs: T + H },
      ],
    });
    const at = (id: number, t: number): string => snap.maintenanceJson(snap.interventionAt(id, t));
    expect(at(5, T - 1)).toBe('null');
    expect(at(5, T)).toBe('{"ticket":"long","kind":"a"}');
    expect(at(5, T + 2 * H - 1)).toBe('{"ticket":"long","kind":"a"}');
    expect(at(5, T + 2 * H)).toBe('{"ticket":"tie","kind":"d"}'); // equal starts: the later input row
    expect(at(5, T + 3 * H)).toBe('{"ticket":"tie","kind":"d"}');
    expect(at(5, T + 4 * H)).toBe('{"ticket":"long","kind":"a"}');
    expect(at(5, T + 10 * H)).toBe('null'); // end is exclusive
    expect(at(5, T + 20 * H)).toBe('{"ticket":"late","kind":"c"}');
    expect(at(5, Date.UTC(2099, 0, 1))).toBe('{"ticket":"late","kind":"c"}'); // ongoing
    expect(at(6, T)).toBe('{"ticket":"other","kind":null}');
    expect(at(7, T)).toBe('null');
  });

  it('lets a later row with the same key replace an earlier one (upsert order)', () => {
    const snap = buildSnapshot({ ...empty, equipment: [eq(1), { ...eq(1), name: 'renamed' }] });
    expect(snap.equipmentCount).toBe(1);
    expect(JSON.parse(snap.equipmentJson(snap.equipmentRow(1))).name).toBe('renamed');
  });

  it('reopens the same SharedArrayBuffer, carrying its version', () => {
    const snap = buildSnapshot({ ...empty, equipment: [eq(9)] }, { version: 42 });
    const again = openSnapshot(snap.buffer);
    expect(again.version).toBe(42);
    expect(again.buffer).toBe(snap.buffer);
    expect(again.equipmentJson(again.equipmentRow(9))).toBe(snap.equipmentJson(snap.equipmentRow(9)));
    expect(() => openSnapshot(new SharedArrayBuffer(64))).toThrow(/not a reference-data snapshot/);
  });

  it('is readable from a worker thread without a copy', async () => {
    const snap = buildSnapshot({ ...empty, equipment: [eq(3)] });
    // the worker reads the header magic and the first equipment id straight from the shared memory
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const u32 = new Uint32Array(workerData);
      parentPort.postMessage([u32[0], u32.length]);`;
    const w = new Worker(code, { eval: true, workerData: snap.buffer });
    const [magic, words] = await new Promise<number[]>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(magic).toBe(snap.u32[0]);
    expect(words).toBe(snap.buffer.byteLength / 4);
  });
});
