// The worker side, in JavaScript and in C: keys resolved through the equipment cache (and dropped with a new reference version), the configured dimensions only, tables that grow within a batch and stay for the next.
import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../src/enrich/snapshot.js';
import { Reference } from '../../src/enrich/reference.js';
import { ByteReader } from '../../src/kpis/leb128.js';
import { M_RECORDS } from '../../src/kpis/measures.js';
import { DIMENSIONS, isStringDimension } from '../../src/kpis/names.js';
import { ChunkReader, readBatchPartials, type PartialsSink } from '../../src/kpis/partials-codec.js';
import { BATCH_PARTIALS, foldSynthetic, smallReference, type SynthRecord } from './harness.js';

const W = 60_000;
const T0 = Date.UTC(2025, 0, 1);

/** Every entry of a batch's partials as `<dimension>:<key>` → records. */
function keysOf(bytes: Uint8Array): Map<string, number> {
  const out = new Map<string, number>();
  const strings: string[] = [];
  const sink: PartialsSink = {
    internString: (t) => strings.push(t) - 1,
    entry: (_w, dim, key, f) => {
      const k = `${DIMENSIONS[dim]}:${isStringDimension(dim) ? strings[key] : key}`;
      out.set(k, (out.get(k) ?? 0) + f[M_RECORDS]);
    },
  };
  for (const c of readBatchPartials(bytes).chunks) new ChunkReader().readChunks(new ByteReader(c, { what: 'chunk' }), sink);
  return out;
}

function reference(version: number, region: string): Reference {
  return new Reference(
    buildSnapshot(
      {
        equipment: [{ equipmentId: 1, name: 'e1', model: null, vendorId: 'NOK', site: null, region }],
        vendors: [{ vendorId: 'NOK', name: `Nokia v${version}` }],
        errorCodes: [],
        interventions: [],
      },
      { version },
    ),
  );
}

describe.each(BATCH_PARTIALS)('batch partials (%s)', (_name, make) => {
  it('resolve region and vendor through a cache that a new reference version empties', () => {
    const p = make({ windowMs: W, shards: 2, dimensions: DIMENSIONS });
    p.use(reference(1, 'North'));
    foldSynthetic(p, [{ time: T0, equipment: 1 }, { time: T0 + 1, equipment: 1 }], 0);
    expect([...keysOf(p.finish())].sort()).toEqual([['cell:101', 2], ['equipment:1', 2], ['region:North', 2], ['vendor:Nokia v1', 2]]);
    p.use(reference(1, 'South')); // the same version: the cache stays (a version names its content)
    foldSynthetic(p, [{ time: T0, equipment: 1 }], 0);
    expect(keysOf(p.finish()).has('region:North')).toBe(true);
    p.use(reference(2, 'South'));
    foldSynthetic(p, [{ time: T0, equipment: 1 }], 0);
    expect([...keysOf(p.finish()).keys()].sort()).toEqual(['cell:101', 'equipment:1', 'region:South', 'vendor:Nokia v2']);
  });

  it('count records of unknown equipment, or without region or vendor name, in the dimensions they have', () => {
    const p = make({ windowMs: W, shards: 1, dimensions: DIMENSIONS });
    p.use(smallReference());
    foldSynthetic(p, [3, 4, 99].map((equipment) => ({ time: T0, equipment })), 0);
    expect([...keysOf(p.finish()).keys()].sort()).toEqual(['cell:301', 'cell:401', 'cell:9901', 'equipment:3', 'equipment:4', 'equipment:99', 'vendor:Ericsson']);
  });

  it('fold only the configured dimensions', () => {
    const p = make({ windowMs: W, shards: 1, dimensions: ['region', 'cell'] });
    p.use(smallReference());
    foldSynthetic(p, [{ time: T0, equipment: 1 }], 0);
    expect([...keysOf(p.finish()).keys()].sort()).toEqual(['cell:101', 'region:R1']);
  });

  it('grow their tables within a batch of many keys and keep every count, batch after batch', () => {
    const p = make({ windowMs: W, shards: 5, dimensions: DIMENSIONS });
    p.use(smallReference());
    for (let batch = 0; batch < 3; batch++) {
      const records: SynthRecord[] = [];
      for (let i = 0; i < 30_000; i++) records.push({ time: T0 + (i % 3) * W, equipment: 1 + (i % 4), cell: 1_000 + (i % 10_000), type: 3, latency: i % 1000 });
      foldSynthetic(p, records, batch);
      const keys = keysOf(p.finish());
      expect(keys.size).toBe(10_000 + 4 + 2 + 2); // cells, equipment, R1/R2, Nokia/Ericsson (each in 3 windows)
      let total = 0;
      for (const [k, n] of keys) if (k.startsWith('cell:')) total += n;
      expect(total).toBe(30_000);
    }
    expect(p.byteSize()).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuse a raw partition beyond 16 bits', () => {
    const p = make({ windowMs: W, shards: 1, dimensions: DIMENSIONS });
    expect(() => foldSynthetic(p, [{ time: T0, equipment: 1 }], 70_000)).toThrow(/raw partition 70000 is outside 0..65535/);
  });
});
