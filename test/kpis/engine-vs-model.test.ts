// The engine (worker batch partials → transaction partials → partials log → merge cores on several shards) against the independent model of SPEC section 7, on random traffic.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/schema.js';
import { enrichedRecords, loadRef, makeRefDir, trafficFrames } from './harness.js';
import { kpiDifferences, modelKpis, type EnrichedRecord } from './model.js';
import { kpisById, MergeDriver, producePartials } from './simulation.js';

const refDir = makeRefDir();
afterAll(() => rmSync(refDir, { recursive: true, force: true }));
const snapshot = loadRef(refDir);

const WINDOW = 10_000;
const LATENESS = 2_000;
const T0 = Date.UTC(2025, 3, 1, 8, 0, 0);

/** The model's objects of the windows the merge could close: those ending at or before the last event time − lateness. */
function closable(records: EnrichedRecord[]): ReturnType<typeof modelKpis> {
  const last = Math.max(...records.map((r) => Date.parse(r.event_time)));
  const model = modelKpis(records, WINDOW);
  for (const [id, k] of model) if (Date.parse(k.window_end) > last - LATENESS) model.delete(id);
  return model;
}

describe('engine against the model', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 3 raw partitions on 2 instances, 4 shards on 2 mergers, windows closed over many prepares — every KPI object the model's`, async () => {
      const frames = trafficFrames(seed, 12_000, T0, 5); // 60 s of traffic: six windows
      const records = await enrichedRecords(snapshot, frames);
      // every kind of record the KPIs distinguish is there
      expect(new Set(records.map((r) => r.type)).size).toBe(9);
      expect(new Set(records.map((r) => r.result)).size).toBe(4);
      expect(records.some((r) => r.equipment === null)).toBe(true);
      expect(records.some((r) => r.equipment !== null && r.equipment.region === null)).toBe(true);
      expect(records.some((r) => r.equipment !== null && r.equipment.vendor === null)).toBe(true);
      expect(records.some((r) => r.setup_latency_ms === undefined && r.type === 'session_start')).toBe(true);
      expect(records.some((r) => r.rsrp_dbm === undefined)).toBe(true);

      const log = producePartials(frames, snapshot, {
        windowMs: WINDOW,
        rawPartitions: 3,
        shards: 4,
        instances: [[0, 1], [2]],
        framesPerPartition: 150,
        idleTimeoutMs: 30_000,
      });
      const options = { windowMs: WINDOW, latenessMs: LATENESS, rawPartitions: 3, shards: 4 };
      const mergers = [new MergeDriver(log, [0, 1], options), new MergeDriver(log, [2, 3], options)];
      let prepares = 0;
      let closedEarly = 0;
      while (mergers.some((m) => m.receive(7) > 0)) {
        for (const m of mergers) {
          const p = m.transaction(true);
          prepares++;
          if (m.position.get(m.shards[0])! < log[m.shards[0]].length) closedEarly += p.kpis.length;
        }
      }
      for (const m of mergers) m.drain();
      expect(prepares).toBeGreaterThan(20);
      expect(closedEarly).toBeGreaterThan(0); // windows closed while messages were still coming

      const engine = new Map<string, unknown>();
      for (const m of mergers) for (const [id, k] of kpisById(m.output)) engine.set(id, k);
      const model = closable(records);
      expect(model.size).toBeGreaterThan(1000);
      expect(kpiDifferences(engine, model)).toEqual([]);
      for (const m of mergers) {
        const c = m.core.counters();
        expect(c.lateRecords).toBe(0);
        expect(c.windowsHeld).toBeGreaterThan(0); // the last window never passes the watermark
      }
      // every dimension is there, and sums of bytes pass 2^32
      const dims = new Set([...engine.values()].map((k) => (k as { dimension: string }).dimension));
      expect([...dims].sort()).toEqual(['cell', 'equipment', 'region', 'vendor']);
      expect([...engine.values()].some((k) => (k as { bytes_up: number }).bytes_up > 2 ** 32)).toBe(true);
    });
  }

  it('the default window size is the SPEC\'s 60 s', () => {
    expect(DEFAULTS.kpis.window_ms).toBe(60_000);
    expect(DEFAULTS.kpis.lateness_ms).toBe(5_000);
  });
});
