// The native KPI batch partials write BatchPartials' bytes: decoded traffic over every dimension subset, windows across boundaries, raw partitions, reference versions changing between batches (overlays, tombstones, renames), tables grown past their first sizes, and odd values.
import { describe, expect, it } from 'vitest';
import { MSG_WORDS, M_COUNT, M_FIRST, M_REASON, REC_WORDS, R_CELL, R_EQUIPMENT, R_TIME_F64 } from '../../src/decode/layout.js';
import type { RefTables } from '../../src/enrich/csv-tables.js';
import { Reference } from '../../src/enrich/reference.js';
import { RefdataState } from '../../src/enrich/refdata-state.js';
import { isBadUpdate, readUpdate, type RowUpdate } from '../../src/enrich/refdata-update.js';
import { buildSnapshot } from '../../src/enrich/snapshot.js';
import { Mulberry32 } from '../../src/gen/traffic.js';
import { BatchPartials, type BatchPartialsOptions } from '../../src/kpis/batch-partials.js';
import { EQUIPMENT_KEYS_DEFAULTS } from '../../src/kpis/equipment-keys.js';
import { loadKpiPartials, NativeBatchPartials } from '../../src/kpis/native-batch-partials.js';
import { DIMENSIONS } from '../../src/kpis/names.js';
import { DecodeBatches, FLEET, foldSynthetic, loadRef, makeRefDir, trafficFrames, type SynthRecord } from './harness.js';

const T0 = Date.UTC(2025, 3, 1, 11, 59, 30);
/** past the C side's first sizes: 2,048 entries, 1,024 latencies, 2,048 cached equipment, 64 strings, 16 partitions */
const EQUIPMENT = 6_000;
const VENDORS = ['NOK', 'ERI', 'HUA', 'SAM', 'ZTE', 'NEC', 'FUJ'];
const REGION_NAMES = ['Île-de-France', '東京', 'São Paulo 🚀', 'a"quoted\\name', 'tab\there'];

function update(key: string, value: unknown): RowUpdate {
  const u = readUpdate(key, value === null ? null : JSON.stringify(value));
  if (isBadUpdate(u)) throw new Error(`${key}: ${u.message}`);
  return u;
}

/** Many equipment over 300 regions (some null, some "", some not ASCII) and vendors, one with no name. */
function bigTables(prefix: string): RefTables {
  return {
    vendors: VENDORS.filter((v) => v !== 'FUJ').map((v) => ({ vendorId: v, name: `${prefix} vendor ${v}` })),
    equipment: Array.from({ length: EQUIPMENT }, (_, i) => ({
      equipmentId: i + 1,
      name: `ENB-${i + 1}`,
      model: null,
      vendorId: VENDORS[i % VENDORS.length],
      site: null,
      region: i % 97 === 0 ? null : i % 89 === 0 ? '' : i % 50 === 0 ? REGION_NAMES[i % REGION_NAMES.length] : `${prefix} region ${i % 300}`,
    })),
    errorCodes: [],
    interventions: [],
  };
}

/** Reference versions to move through: the test fleet's, two big bases, and a base with overlays (renames, tombstones, moves). */
function references(): Reference[] {
  const small = loadRef(makeRefDir());
  const state = new RefdataState();
  state.setCsv(bigTables('b'));
  const base = state.rebuildNow(12);
  state.apply(update('vendors:NOK', { vendor_id: 'NOK', name: 'Nokia renamed' }));
  for (let id = 2; id < 200; id += 7) state.apply(update(`equipment:${id}`, null));
  for (let id = 3; id < 400; id += 11) state.apply(update(`equipment:${id}`, { name: `moved ${id}`, vendor_id: 'ERI', region: `moved region ${id % 13}` }));
  const overlay13 = state.overlay(13);
  state.apply(update('vendors:NOK', { vendor_id: 'NOK', name: '' }));
  state.apply(update(`equipment:9999`, { name: 'new', vendor_id: 'SAM', region: 'brand new' }));
  const overlay14 = state.overlay(14);
  return [
    new Reference(buildSnapshot(bigTables('a'), { version: 10 })),
    new Reference(small),
    new Reference(base),
    new Reference(base, overlay13),
    new Reference(buildSnapshot(bigTables('c'), { version: 11 })),
    new Reference(base, overlay14),
  ];
}

function both(options: BatchPartialsOptions): [BatchPartials, NativeBatchPartials] {
  const load = loadKpiPartials();
  if (load.addon === undefined) throw new Error(load.reason);
  return [new BatchPartials(options), new NativeBatchPartials(load.addon, options)];
}

/** Every decoded record of a slot: its word index in the decoder's memory. */
function recordWords(u32: Uint32Array, msgPtr: number, recPtr: number, count: number): number[] {
  const words: number[] = [];
  for (let m = 0; m < count; m++) {
    const row = (msgPtr >>> 2) + m * MSG_WORDS;
    if (u32[row + M_REASON] !== 0) continue;
    for (let r = 0; r < u32[row + M_COUNT]; r++) words.push((recPtr >>> 2) + (u32[row + M_FIRST] + r) * REC_WORDS);
  }
  return words;
}

describe('native batch partials', () => {
  it('load here, built for this record and partials layout', () => {
    const load = loadKpiPartials();
    expect(load.addon === undefined ? load.reason : 'loaded').toBe('loaded');
  });

  it('write the same bytes as BatchPartials for decoded traffic, dimension subsets, windows, partitions, reference versions and grown tables', () => {
    const refs = references();
    const decode = new DecodeBatches();
    const rng = new Mulberry32(20250401);
    let batches = 0;
    let bytes = 0;
    for (let subset = 0; subset < 16; subset++) {
      const dimensions = DIMENSIONS.filter((_, i) => (subset >> i) & 1);
      const windowMs = [1, 7, 1_000, 60_000, 3_600_000][rng.int(0, 4)];
      const shards = rng.int(1, 7);
      const [js, c] = both({ windowMs, shards, dimensions });
      let ref = rng.int(0, refs.length - 1);
      js.use(refs[ref]);
      c.use(refs[ref]);
      for (let b = 0; b < 6; b++) {
        if (rng.chance(0.4)) {
          ref = (ref + rng.int(1, refs.length - 1)) % refs.length;
          js.use(refs[ref]);
          c.use(refs[ref]);
        }
        const frames = trafficFrames(rng.int(1, 1_000_000), rng.int(1, 600), T0 + b * 40_000, [1, 3, 50][rng.int(0, 2)]);
        const wide = rng.chance(0.5);
        const partitions = frames.map(() => rng.int(0, wide ? 300 : 3));
        const d = decode.decode(frames, partitions);
        if (rng.chance(0.5)) {
          // many keys: cells and equipment spread wide (tables grow), times scattered across window boundaries
          for (const w of recordWords(d.u32, d.slot.msgPtr, d.slot.recPtr, d.count)) {
            d.u32[w + R_EQUIPMENT] = rng.chance(0.02) ? rng.int(0, 0xffffffff) : rng.int(1, EQUIPMENT + 50);
            d.u32[w + R_CELL] = rng.int(0, 0xffffffff);
            if (rng.chance(0.3)) d.f64[(w + R_TIME_F64) >>> 1] = T0 + rng.int(-3_600_000, 3_600_000);
          }
        }
        js.addSlot(d.u32, d.i32, d.f64, d.slot, d.count);
        c.addSlot(d.u32, d.i32, d.f64, d.slot, d.count);
        expect(c.records).toBe(js.records);
        const a = js.finish();
        const n = c.finish();
        expect(Buffer.from(n).equals(Buffer.from(a)), `subset ${subset}, batch ${b}: ${n.length} bytes against ${a.length}`).toBe(true);
        batches++;
        bytes += a.length;
      }
    }
    expect(batches).toBe(96);
    expect(bytes).toBeGreaterThan(100_000);
  });

  it('write the same bytes for odd values: event times negative, fractional and huge, extreme rsrp and byte counts, every type and result, 16-bit partitions', () => {
    const rng = new Mulberry32(99);
    const odd: SynthRecord[] = [];
    for (let i = 0; i < 3_000; i++) {
      const time = [() => -rng.int(0, 10_000_000), () => T0 + rng.next() * 1e6, () => 2 ** 50 + rng.int(0, 1e6), () => 0, () => T0 + rng.int(0, 600_000)][rng.int(0, 4)]();
      odd.push({
        time,
        equipment: rng.int(1, FLEET + 20),
        cell: rng.int(0, 0xffffffff),
        type: rng.int(0, 9),
        result: rng.int(0, 3),
        rsrp: rng.chance(0.5) ? [-2147483648, 2147483647, rng.int(-140, -44)][rng.int(0, 2)] : undefined,
        latency: rng.chance(0.5) ? rng.int(0, 0xffff) : undefined,
        up: rng.int(0, 0xffffffff),
        down: rng.chance(0.5) ? 0 : 0xffffffff,
      });
    }
    const small = new Reference(loadRef(makeRefDir()));
    for (const windowMs of [1, 60_000]) {
      const [js, c] = both({ windowMs, shards: 5, dimensions: DIMENSIONS });
      js.use(small);
      c.use(small);
      for (let b = 0; b < 4; b++) {
        for (let i = 0; i < 6; i++) {
          const part = odd.slice(rng.int(0, 2_900));
          const partition = [0, 1, 17, 4_000, 0xffff][rng.int(0, 4)];
          foldSynthetic(js, part, partition);
          foldSynthetic(c, part, partition);
        }
        foldSynthetic(js, [], 0);
        foldSynthetic(c, [], 0);
        expect(Buffer.from(c.finish()).equals(Buffer.from(js.finish()))).toBe(true);
      }
    }
  });

  it('refuse a raw partition beyond 16 bits from a slot as BatchPartials does, and start the next batch empty after reset', () => {
    const decode = new DecodeBatches();
    const frames = trafficFrames(5, 10, T0, 10);
    for (const p of both({ windowMs: 60_000, shards: 2, dimensions: DIMENSIONS })) {
      p.use(new Reference(loadRef(makeRefDir())));
      const d = decode.decode(frames, frames.map((_, i) => (i === 7 ? 70_000 : 1)));
      expect(() => p.addSlot(d.u32, d.i32, d.f64, d.slot, d.count)).toThrow(/kpis: raw partition 70000 is outside 0..65535/);
      p.reset();
      expect(p.records).toBe(0);
    }
    const [js, c] = both({ windowMs: 60_000, shards: 2, dimensions: DIMENSIONS });
    expect(Buffer.from(c.finish()).equals(Buffer.from(js.finish()))).toBe(true);
  });

  it('start the interned strings afresh with BatchPartials when a version change finds too many', () => {
    const limits = EQUIPMENT_KEYS_DEFAULTS as { maxStrings: number };
    const kept = limits.maxStrings;
    limits.maxStrings = 40;
    try {
      const refs = [new Reference(buildSnapshot(bigTables('x'), { version: 30 })), new Reference(buildSnapshot(bigTables('y'), { version: 31 }))];
      const [js, c] = both({ windowMs: 60_000, shards: 3, dimensions: ['region', 'vendor'] });
      const rng = new Mulberry32(4);
      for (let b = 0; b < 6; b++) {
        js.use(refs[b % 2]);
        c.use(refs[b % 2]);
        const records: SynthRecord[] = Array.from({ length: 2_000 }, () => ({ time: T0 + rng.int(0, 120_000), equipment: rng.int(1, EQUIPMENT) }));
        foldSynthetic(js, records, 2);
        foldSynthetic(c, records, 2);
        expect(Buffer.from(c.finish()).equals(Buffer.from(js.finish()))).toBe(true);
      }
      expect(c.keys.strings.length).toBeLessThan(400);
    } finally {
      limits.maxStrings = kept;
    }
  });
});
