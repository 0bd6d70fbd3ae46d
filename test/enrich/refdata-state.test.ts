// Live updates through an overlay give the same enriched bytes as a full rebuild with the changes applied.
import { describe, expect, it } from 'vitest';
import { RecordJsonWriter, recordJsonCapacity } from '../../src/enrich/record-json.js';
import { ReferenceEnricher } from '../../bench/baseline/json-enricher.js';
import { Reference, openReference } from '../../src/enrich/reference.js';
import { RefdataState } from '../../src/enrich/refdata-state.js';
import { isBadUpdate, readUpdate, type RowUpdate } from '../../src/enrich/refdata-update.js';
import { buildSnapshot } from '../../src/enrich/snapshot.js';
import type { RefTables } from '../../src/enrich/csv-tables.js';
import { RecordArena, SLOT_WRITERS, prng, randomRecord, writeOne } from './record-slots.js';

const T = Date.UTC(2024, 0, 1);
const H = 3600_000;
const VENDORS = ['nok', 'eri', 'hua', 'sam'];

function csv(): RefTables {
  return {
    vendors: VENDORS.slice(0, 3).map((v) => ({ vendorId: v, name: v.toUpperCase() })),
    equipment: Array.from({ length: 40 }, (_, i) => ({
      equipmentId: i + 1,
      name: `E${i + 1}`,
      model: i % 3 === 0 ? null : 'M',
      vendorId: i % 7 === 6 ? null : VENDORS[i % 4],
      site: `S${i % 5}`,
      region: 'R',
    })),
    errorCodes: VENDORS.flatMap((v) => [1, 2, 3].map((c) => ({ vendorId: v, causeCode: c, label: `${v}-${c}`, severity: 'minor', category: 'radio' }))),
    interventions: Array.from({ length: 30 }, (_, k) => ({
      ticket: `T${k}`,
      equipmentId: 1 + (k % 12),
      kind: k % 2 === 0 ? 'repair' : null,
      startMs: T + (k % 4) * H,
      endMs: k % 5 === 0 ? Infinity : T + (k % 4) * H + 3 * H,
    })),
  };
}

function update(key: string, value: unknown): RowUpdate {
  const u = readUpdate(key, value === null ? null : JSON.stringify(value));
  if (isBadUpdate(u)) throw new Error(`${key}: ${u.message}`);
  return u;
}

/** A random valid update: upserts and tombstones over all four tables, new keys and vendors included. */
function randomUpdate(rand: () => number): RowUpdate {
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rand() * xs.length)];
  const del = rand() < 0.25;
  const eq = 1 + Math.floor(rand() * 50);
  const vendor = pick([...VENDORS, 'new', 'zte']);
  switch (pick(['equipment', 'equipment', 'vendors', 'error_codes', 'interventions', 'interventions'])) {
    case 'equipment':
      return update(`equipment:${eq}`, del ? null : { equipment_id: eq, name: `E${eq}-${Math.floor(rand() * 100)}`, model: 'X', vendor_id: rand() < 0.1 ? null : vendor, site: 'S', region: null });
    case 'vendors':
      return update(`vendors:${vendor}`, del ? null : { vendor_id: vendor, name: `${vendor} ${Math.floor(rand() * 100)} "q"` });
    case 'error_codes': {
      const c = 1 + Math.floor(rand() * 4);
      return update(`error_codes:${vendor}:${c}`, del ? null : { vendor_id: vendor, cause_code: c, label: `L${Math.floor(rand() * 100)}`, severity: null, category: 'c' });
    }
    default: {
      const ticket = `T${Math.floor(rand() * 40)}`;
      const start = T + Math.floor(rand() * 5) * H;
      return update(`interventions:${ticket}`, del ? null : { ticket, equipment_id: 1 + Math.floor(rand() * 14), kind: 'k', start: new Date(start).toISOString(), end: rand() < 0.2 ? null : new Date(start + Math.floor(1 + rand() * 4) * H).toISOString() });
    }
  }
}

describe('RefdataState overlays', () => {
  it('enrich base + overlay exactly as a full rebuild with the changes applied (random updates, random records)', () => {
    const rand = prng(4242);
    const arena = new RecordArena(64);
    const ids = Array.from({ length: 52 }, (_, i) => i);
    for (let round = 0; round < 40; round++) {
      const state = new RefdataState();
      state.setCsv(csv());
      const base = state.rebuildNow(1);
      let version = 1;
      const steps = 1 + Math.floor(rand() * 30);
      for (let s = 0; s < steps; s++) state.apply(randomUpdate(rand));
      const overlay = state.overlay(++version);
      const live = new Reference(base, overlay);
      const full = buildSnapshot(state.tables());
      const plain = new ReferenceEnricher(state.tables());
      const a = new RecordJsonWriter(live, arena.memory);
      const b = new RecordJsonWriter(full, arena.memory);
      const out = new Uint8Array(Math.max(recordJsonCapacity(live), recordJsonCapacity(full)));
      const slotWriters = SLOT_WRITERS.map(([, make]) => make(live, arena.memory));
      const out2 = new Uint8Array(out.length);
      for (let i = 0; i < 400; i++) {
        if (i % 64 === 0) arena.resetText();
        const ptr = arena.put(i % 64, randomRecord(rand, ids, [0, 1, 2, 3, 4], T - H, T + 10 * H));
        const ea = a.write(ptr, out, 0);
        const eb = b.write(ptr, out2, 0);
        const got = Buffer.from(out.subarray(0, ea)).toString();
        expect(got, `round ${round}, record ${i}`).toBe(Buffer.from(out2.subarray(0, eb)).toString());
        expect(got).toBe(plain.recordJson(arena.memory, ptr));
        // a whole slot's path, through both serializers, on the same base + overlay
        for (const w of slotWriters) expect(Buffer.from(out.subarray(0, writeOne(w, arena, ptr, out))).toString()).toBe(got);
      }
      // the allocating lookups agree with the writer too
      for (const id of ids) expect(live.equipmentJson(id)).toBe(new Reference(full).equipmentJson(id));
    }
  });

  it('shows a vendor rename on every equipment of that vendor, and a tombstone hides the base row', () => {
    const state = new RefdataState();
    state.setCsv(csv());
    const base = state.rebuildNow(1);
    state.apply(update('vendors:nok', { vendor_id: 'nok', name: 'Nokia Networks' }));
    state.apply(update('equipment:2', null));
    state.apply(update('error_codes:eri:1', null));
    state.apply(update('interventions:T25', null));
    const overlay = state.overlay(2);
    expect(overlay?.equipmentCount).toBe(1); // the tombstone only: the rename did not copy equipment rows
    const ref = new Reference(base, overlay);
    for (let id = 1; id <= 40; id++) {
      const e = ref.equipmentJson(id);
      if (id === 2) expect(e).toBe('null');
      else if ((id - 1) % 4 === 0 && (id - 1) % 7 !== 6) expect(JSON.parse(e).vendor).toBe('Nokia Networks');
    }
    expect(new Reference(base).equipmentJson(1)).toContain('"vendor":"NOK"');
    // equipment 6 is eri (index 5): its cause 1 is gone, cause 2 stays
    expect(ref.causeJson(6, 1)).toBe('null');
    expect(ref.causeJson(6, 2)).toBe('{"label":"eri-2","severity":"minor","category":"radio"}');
    // T1, T13 and T25 start together on equipment 2 (the later row wins): deleting T25 leaves T13
    expect(new Reference(base).maintenanceJson(2, T + H)).toBe('{"ticket":"T25","kind":null}');
    expect(ref.maintenanceJson(2, T + H)).toBe('{"ticket":"T13","kind":null}');
    expect(ref.maintenanceJson(3, T + 2 * H)).toBe(new Reference(base).maintenanceJson(3, T + 2 * H));
  });

  it('keeps topic updates above the CSV rows across a CSV reload', () => {
    const state = new RefdataState();
    state.setCsv(csv());
    state.rebuildNow(1);
    state.apply(update('equipment:3', { name: 'from topic', vendor_id: 'nok' }));
    state.apply(update('equipment:4', null));
    const again = csv();
    state.setCsv({ ...again, equipment: again.equipment.map((e) => ({ ...e, site: 'moved' })) });
    expect(state.needsRebuild).toBe(true);
    const base = state.rebuildNow(2);
    const ref = new Reference(base);
    expect(JSON.parse(ref.equipmentJson(3)).name).toBe('from topic');
    expect(ref.equipmentJson(4)).toBe('null');
    expect(JSON.parse(ref.equipmentJson(5)).site).toBe('moved');
  });

  it('openReference reuses the base it opened while only the overlay changes', () => {
    const state = new RefdataState();
    state.setCsv(csv());
    const base = state.rebuildNow(7);
    state.apply(update('equipment:1', { name: 'x' }));
    const o1 = state.overlay(8);
    const r1 = openReference(base.buffer, o1?.buffer ?? null);
    state.apply(update('equipment:1', { name: 'y' }));
    const o2 = state.overlay(9);
    // a buffer posted to a worker arrives as a new object over the same memory: recognised by version
    const r2 = openReference(structuredClone(base.buffer), o2?.buffer ?? null);
    expect(r2.base).toBe(r1.base);
    expect(r2.version).toBe(9);
    expect(JSON.parse(r2.equipmentJson(1)).name).toBe('y');
  });
});
