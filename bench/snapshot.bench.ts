// Benchmark: building the shared reference-data snapshot from 1,000,000 equipment rows (time, SAB size) and its lookups.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/snapshot.bench.js [equipmentCount]
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import type { RefTables } from '../src/enrich/csv-tables.js';
import { buildSnapshot, type Snapshot } from '../src/enrich/snapshot.js';
import type { MicroCase } from './micro-case.js';

const VENDORS = ['nokia', 'ericsson', 'huawei', 'samsung'];
const REGIONS = ['Île-de-France', 'Auvergne-Rhône-Alpes', 'Occitanie', 'Bretagne', 'Grand Est', 'Normandie'];

export function snapshotTables(count: number): RefTables {
  const T = Date.UTC(2024, 0, 1);
  return {
    vendors: VENDORS.map((v) => ({ vendorId: v, name: v.toUpperCase() })),
    equipment: Array.from({ length: count }, (_, i) => ({
      equipmentId: 1 + i * 3, // sparse ids
      name: `ENB-${String(i).padStart(7, '0')}`,
      model: `AirScale-${i % 20}`,
      vendorId: VENDORS[i % 4],
      site: `SITE-${Math.floor(i / 4)}`,
      region: REGIONS[i % REGIONS.length],
    })),
    errorCodes: VENDORS.flatMap((v) =>
      Array.from({ length: 500 }, (_, c) => ({ vendorId: v, causeCode: c + 1, label: `${v} ${c}`, severity: 'minor', category: 'radio' })),
    ),
    interventions: Array.from({ length: 10_000 }, (_, k) => ({
      ticket: `CHG-${k}`,
      equipmentId: 1 + (k * 97 % count) * 3,
      kind: 'repair',
      startMs: T + k * 60_000,
      endMs: T + k * 60_000 + 3_600_000,
    })),
  };
}

let hits = 0;
const found = (): number => hits;

/** Lookups in a built snapshot as tinybench tasks (`n`: the equipment count it was built from; ids are 1/3 present). */
export function snapshotCases(snap: Snapshot, n: number, time = 1000): MicroCase[] {
  const ids = Uint32Array.from({ length: 65536 }, (_, i) => 1 + ((i * 2654435761) % (n * 3))); // 1/3 present
  const bench = new Bench({ name: 'snapshot lookups, 65536 per op', time });
  bench.add('equipmentRow (1/3 present)', () => {
    for (let i = 0; i < ids.length; i++) if (snap.equipmentRow(ids[i]) >= 0) hits++;
  });
  bench.add('interventionAt', () => {
    for (let i = 0; i < ids.length; i++) if (snap.interventionAt(ids[i], Date.UTC(2024, 0, 1, 12)) >= 0) hits++;
  });
  return [{ group: 'reference lookups', bench, perOp: ids.length, unit: 'lookups', note: `${n} equipment` }];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const t = snapshotTables(n);
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const snap = buildSnapshot(t);
  const cpu = process.cpuUsage(cpu0);
  const buildMs = performance.now() - t0;
  console.log(
    `buildSnapshot: ${n} equipment, ${snap.stringCount} distinct strings: ${buildMs.toFixed(0)} ms wall, ` +
      `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU (all threads, GC included), ` +
      `SharedArrayBuffer ${(snap.buffer.byteLength / 1048576).toFixed(1)} MiB ` +
      `(heap delta after build ${((process.memoryUsage().heapUsed - heapBefore) / 1048576).toFixed(1)} MiB)`,
  );

  // an overlay of 1,000 changed equipment + 100 tombstones over that base (what a live update publishes)
  {
    const changed = t.equipment.slice(0, 1000).map((e) => ({ ...e, name: `${e.name}-v2` }));
    const o0 = performance.now();
    const overlay = buildSnapshot(
      { equipment: changed, vendors: t.vendors, errorCodes: [], interventions: [] },
      { vendorOrder: snap.vendorIdList(), overlay: { deletedEquipment: t.equipment.slice(1000, 1100).map((e) => e.equipmentId), deletedErrorCodes: [], interventionEquipment: [] } },
    );
    console.log(`overlay of 1000 rows + 100 tombstones: ${(performance.now() - o0).toFixed(1)} ms, ${(overlay.buffer.byteLength / 1024).toFixed(0)} KiB`);
  }

  const [{ bench }] = snapshotCases(snap, n);
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as { latency?: { mean: number } };
    console.log(`${task.name}: ${(((r.latency?.mean ?? NaN) * 1e6) / 65536).toFixed(1)} ns/lookup`);
  }
  if (found() < 0) console.log(found());
}
