// The KPI JSON: the byte writer of a window close writes exactly what JSON.stringify of the plain-object baseline writes, for every kind of aggregate.
import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../../src/gen/traffic.js';
import { kpiObject, windowTimes } from '../../src/kpis/kpi-json.js';
import { KpiJsonWriter } from '../../src/kpis/kpi-json-writer.js';
import { ByteWriter } from '../../src/kpis/leb128.js';
import { MEASURES, M_RSRP_MIN } from '../../src/kpis/measures.js';
import { KpiWindowStore } from '../../src/kpis/window-store.js';

describe('KPI JSON', () => {
  it('the writer and JSON.stringify(kpiObject) agree byte for byte on random aggregates, keys and latencies', () => {
    const rng = new Mulberry32(8);
    const store = new KpiWindowStore();
    const texts = ['Occitanie', 'Provence-Alpes-Côte d\'Azur', 'quote " and \\ backslash', 'tab\there', 'Île-de-France 🗼'];
    const f = new Float64Array(MEASURES);
    const lat = new Uint16Array(64);
    const W = 60_000;
    const window = Math.floor(Date.UTC(2025, 1, 3) / W);
    for (let i = 0; i < 3000; i++) {
      const dim = rng.int(0, 3);
      const key = dim >= 2 ? store.internString(rng.pick(texts)) : rng.chance(0.1) ? 0xffffffff : rng.int(0, 5_000_000);
      const records = rng.int(1, 50);
      const pick = (max: number): number => (rng.chance(0.3) ? 0 : rng.int(0, max));
      f.fill(0);
      f[0] = records;
      f[1] = pick(records);
      f[2] = pick(10);
      f[3] = pick(f[2]);
      f[4] = pick(10);
      f[5] = pick(f[4]);
      f[6] = pick(10);
      f[7] = pick(f[6]);
      f[8] = pick(5);
      f[9] = pick(5);
      f[10] = pick(records);
      f[11] = -f[10] * rng.int(44, 140) - rng.int(0, f[10]);
      f[M_RSRP_MIN] = f[10] === 0 ? Infinity : -rng.int(44, 32768);
      f[13] = rng.chance(0.5) ? rng.int(0, 2 ** 31) * 2 ** 21 : rng.int(0, 9);
      f[14] = pick(4_294_967_295);
      const n = rng.chance(0.5) ? 0 : rng.int(1, 64);
      for (let k = 0; k < n; k++) lat[k] = rng.int(0, 65_535);
      store.entry(window + rng.int(0, 2), dim, key, f, lat, n);
    }
    const w = new ByteWriter(64);
    const writer = new KpiJsonWriter(store);
    const wrong: string[] = [];
    let n = 0;
    store.closeThrough(Infinity, (e, win) => {
      const times = windowTimes(win, W);
      const at = w.pos;
      writer.write(w, e, times);
      const bytes = Buffer.from(w.buf.subarray(at, w.pos)).toString('utf8');
      const baseline = JSON.stringify(kpiObject(store, e, times));
      if (bytes !== baseline && wrong.length < 3) wrong.push(`${bytes}\n${baseline}`);
      n++;
    });
    expect(wrong).toEqual([]);
    expect(n).toBeGreaterThan(1000);
  });
});
