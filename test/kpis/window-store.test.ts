// The merge's window store: aggregates found again after entries around them were released, every latency kept through vector moves and arena compactions, windows closed in ascending order with their first offsets.
import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../../src/gen/traffic.js';
import { MEASURES, M_RECORDS, M_RSRP_MIN } from '../../src/kpis/measures.js';
import { KpiWindowStore } from '../../src/kpis/window-store.js';

describe('window store', () => {
  it('keeps every aggregate and latency exactly, through growth, vector moves, compactions and releases', () => {
    const rng = new Mulberry32(4);
    const store = new KpiWindowStore(16);
    const expected = new Map<string, { records: number; lat: number[]; min: number }>();
    const f = new Float64Array(MEASURES);
    const lat = new Uint16Array(16);
    let closed = 0;
    for (let round = 0; round < 6; round++) {
      // three windows open at a time; each round adds to them and closes the oldest
      for (let i = 0; i < 20_000; i++) {
        const window = round + rng.int(0, 2);
        const dim = rng.int(0, 1);
        const key = rng.int(0, 3_000);
        const n = rng.chance(0.6) ? rng.int(1, 16) : 0;
        f.fill(0);
        f[M_RECORDS] = 1 + n;
        f[M_RSRP_MIN] = -rng.int(44, 140);
        for (let k = 0; k < n; k++) lat[k] = rng.int(0, 65_535);
        store.offset = round * 100 + i;
        store.entry(window, dim, key, f, lat, n);
        const id = `${window}/${dim}/${key}`;
        const x = expected.get(id) ?? { records: 0, lat: [], min: Infinity };
        x.records += 1 + n;
        x.min = Math.min(x.min, f[M_RSRP_MIN]);
        for (let k = 0; k < n; k++) x.lat.push(lat[k]);
        expected.set(id, x);
      }
      const seen: number[] = [];
      const wrong: string[] = [];
      closed += store.closeThrough(round, (e, window) => {
        seen.push(window);
        const id = `${window}/${store.dim[e]}/${store.key[e]}`;
        const x = expected.get(id)!;
        const got = [...store.sortedLatencies(e)];
        if (store.fields[e * MEASURES + M_RECORDS] !== x.records || store.fields[e * MEASURES + M_RSRP_MIN] !== x.min) wrong.push(`${id}: fields`);
        if (JSON.stringify(got) !== JSON.stringify(x.lat.sort((a, b) => a - b))) wrong.push(`${id}: latencies`);
        expected.delete(id);
      });
      expect(wrong.slice(0, 3)).toEqual([]);
      expect(new Set(seen)).toEqual(new Set([round]));
      // everything of later windows is still found
      for (const id of expected.keys()) {
        const [w, d, k] = id.split('/').map(Number);
        expect(store.find(w, d, k, false)).toBeGreaterThanOrEqual(0);
      }
    }
    expect(closed).toBe(6);
    expect(store.active).toBe(expected.size);
    expect(store.latencies).toBe([...expected.values()].reduce((n, x) => n + x.lat.length, 0));
  });

  it('closes windows in ascending order and gives the first offset an open window needs', () => {
    const store = new KpiWindowStore();
    const f = new Float64Array(MEASURES);
    f[M_RECORDS] = 1;
    f[M_RSRP_MIN] = Infinity;
    const none = new Uint16Array(0);
    for (const [offset, window] of [[10, 7], [11, 5], [12, 6], [13, 5], [14, 9]] as const) {
      store.offset = offset;
      store.entry(window, 0, 1, f, none, 0);
    }
    expect(store.firstOffset()).toBe(10);
    const order: number[] = [];
    expect(store.closeThrough(7, (_e, w) => order.push(w))).toBe(3);
    expect(order).toEqual([5, 6, 7]);
    expect(store.firstOffset()).toBe(14);
    store.closeThrough(Infinity, () => undefined);
    expect(store.firstOffset()).toBe(-1);
    expect(store.windowCount).toBe(0);
  });
});
