// The KPI byte formats: varints, batch partials, partials messages and state values round-trip; corrupt bytes fail with KpiFormatError naming what and where, never with anything else.
import { describe, expect, it } from 'vitest';
import { KpiFormatError } from '../../src/kpis/errors.js';
import { ByteReader, ByteWriter, unzigzag, zigzag } from '../../src/kpis/leb128.js';
import { M_ATTACH_ATTEMPTS, M_BYTES_DOWN, M_BYTES_UP, M_FAILURES, M_RECORDS, M_RSRP_COUNT, M_RSRP_MIN, M_RSRP_SUM, M_SESSION_ATTEMPTS, M_SESSION_SUCCESSES, MEASURES } from '../../src/kpis/measures.js';
import { isStringDimension } from '../../src/kpis/names.js';
import { ChunkReader, encodePartialsMessage, openPartialsMessage, readBatchPartials, type PartialsSink } from '../../src/kpis/partials-codec.js';
import { decodeStateValue, encodeAlarmState, encodeShardState, type ShardState } from '../../src/kpis/state-codec.js';
import { Mulberry32 } from '../../src/gen/traffic.js';
import { DIMENSIONS } from '../../src/kpis/names.js';
import { shardOfKey } from '../../src/kpis/shard.js';
import { BATCH_PARTIALS, foldSynthetic, synthInstances, type SynthRecord } from './harness.js';

const W = 60_000;
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

interface Entry {
  window: number;
  dim: number;
  key: number | string;
  fields: number[];
  lat: number[];
}

/** A sink that keeps everything it is given, string keys resolved. */
class Recorder implements PartialsSink {
  readonly strings: string[] = [];
  readonly entries: Entry[] = [];
  internString(text: string): number {
    this.strings.push(text);
    return this.strings.length - 1;
  }
  entry(window: number, dim: number, key: number, fields: Float64Array, lat: Uint16Array, latCount: number): void {
    this.entries.push({ window, dim, key: isStringDimension(dim) ? this.strings[key] : key, fields: [...fields], lat: [...lat.subarray(0, latCount)].sort((a, b) => a - b) });
  }
}

function readAll(value: Uint8Array, shard: number, offset = 0): { marks: unknown; entries: Entry[] } {
  const { reader, header } = openPartialsMessage(value, shard, offset, W);
  const rec = new Recorder();
  new ChunkReader().readChunks(reader, rec);
  return { marks: header.marks, entries: rec.entries };
}

describe('varints', () => {
  it('round-trip unsigned values up to 2^53 and signed ones through zigzag', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 1_735_732_800_000, 2 ** 53 - 1];
    const w = new ByteWriter(4);
    for (const v of values) w.uint(v);
    const signed = [0, -1, 1, -120, 65_535, -(2 ** 40), 2 ** 40];
    for (const v of signed) w.sint(v);
    const r = new ByteReader(w.copy(), { what: 'test' });
    expect(values.map(() => r.uint('v'))).toEqual(values);
    expect(signed.map(() => r.sint('v'))).toEqual(signed);
    r.done('test');
    for (const v of signed) expect(unzigzag(zigzag(v))).toBe(v);
    expect(new ByteWriter().buf.length).toBeGreaterThan(0);
  });

  it('refuse a varint that runs out, one longer than 8 bytes, and one beyond 2^53', () => {
    expect(() => new ByteReader(Uint8Array.of(0x80, 0x80), { what: 'x' }).uint('count')).toThrow(/x: truncated: count missing at byte 0/);
    expect(() => new ByteReader(new Uint8Array(9).fill(0x80), { what: 'x' }).uint('count')).toThrow(/longer than 8 bytes/);
    expect(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), { what: 'x' }).uint('count')).toThrow(/exceeds 2\^53/);
  });
});

describe.each(BATCH_PARTIALS)('partials (%s)', (_name, make) => {
  const synth = synthInstances(make);
  const records: SynthRecord[] = [
    { time: T0 + 1, equipment: 1, cell: 101, type: 3, result: 0, latency: 120, rsrp: -90, up: 4_000_000_000, down: 1 },
    { time: T0 + 2, equipment: 1, cell: 101, type: 3, result: 1, latency: 900, rsrp: -110, up: 4_000_000_000, down: 2 },
    { time: T0 + 3, equipment: 1, cell: 101, type: 1, result: 2 },
    { time: T0 + W + 5, equipment: 2, cell: 201, type: 7, result: 0, rsrp: -70 },
    { time: T0 + W + 6, equipment: 3, cell: 301, type: 4, result: 0 }, // region "": no region entry
    { time: T0 + W + 7, equipment: 4, cell: 401, type: 4, result: 0 }, // no region, vendor without name
    { time: T0 + W + 8, equipment: 77, cell: 7701, type: 4, result: 0 }, // unknown equipment
  ];

  it('a transaction\'s message holds every (window, dimension, key) aggregate of its batches, with its marks', () => {
    const inst = synth(W, 1, [0, 3]);
    inst.batch(records.slice(0, 2), 0, 10).batch(records.slice(2), 3, 10);
    const [message] = inst.commit(10);
    const { marks, entries } = readAll(message.value, 0, 5);
    expect(marks).toEqual([
      { partition: 0, timeMs: T0 + 2, idle: false },
      { partition: 3, timeMs: T0 + W + 8, idle: false },
    ]);
    const w0 = Math.floor(T0 / W);
    const find = (window: number, dim: number, key: number | string): Entry[] => entries.filter((e) => e.window === window && e.dim === dim && e.key === key);
    // two batches: cell 101 has an entry in each; added up they are the window's aggregate
    const cell = find(w0, 0, 101);
    expect(cell).toHaveLength(2);
    const sum = new Array<number>(MEASURES).fill(0);
    for (const e of cell) e.fields.forEach((v, i) => (sum[i] += i === M_RSRP_MIN ? 0 : v));
    expect(sum[M_RECORDS]).toBe(3);
    expect(sum[M_FAILURES]).toBe(2);
    expect(sum[M_SESSION_ATTEMPTS]).toBe(2);
    expect(sum[M_SESSION_SUCCESSES]).toBe(1);
    expect(sum[M_ATTACH_ATTEMPTS]).toBe(1);
    expect(sum[M_RSRP_COUNT]).toBe(2);
    expect(sum[M_RSRP_SUM]).toBe(-200);
    expect(Math.min(...cell.map((e) => e.fields[M_RSRP_MIN]))).toBe(-110);
    expect(sum[M_BYTES_UP]).toBe(8_000_000_000);
    expect(sum[M_BYTES_DOWN]).toBe(3);
    expect(cell.flatMap((e) => e.lat).sort((a, b) => a - b)).toEqual([120, 900]);
    expect(find(w0, 2, 'R1').map((e) => e.fields[M_RECORDS])).toEqual([2, 1]);
    expect(find(w0, 3, 'Nokia')).toHaveLength(2);
    // the awkward equipment count in cell and equipment only (3 keeps its vendor)
    const w1 = w0 + 1;
    expect(find(w1, 1, 3)).toHaveLength(1);
    expect(find(w1, 3, 'Ericsson')).toHaveLength(1);
    expect(entries.filter((e) => e.window === w1 && e.dim === 2).map((e) => e.key)).toEqual(['R2']);
    expect(entries.filter((e) => e.window === w1 && e.dim === 3).map((e) => e.key).sort()).toEqual(['Ericsson', 'Nokia']);
    expect(find(w1, 0, 7701)).toHaveLength(1);
    expect(entries).toHaveLength(4 + 4 + 4 + 3 + 2 + 2); // equipment 1 in both batches, 2: 4 dimensions each; 3: no region; 4, 77: cell and equipment
  });

  it('a batch\'s partials hold its partitions\' largest event times and record counts, and one chunk per shard with each key in its shard', () => {
    const p = synth(W, 3, [0, 1]).partials;
    foldSynthetic(p, records.slice(0, 3), 0);
    foldSynthetic(p, records.slice(3), 5);
    const v = readBatchPartials(p.finish());
    expect({ partitions: v.partitions, maxTimes: v.maxTimes, records: v.records }).toEqual({ partitions: [0, 5], maxTimes: [T0 + 3, T0 + W + 8], records: [3, 4] });
    expect(v.chunkShards).toEqual([...new Set(v.chunkShards)].sort());
    let entries = 0;
    v.chunks.forEach((chunk, i) => {
      const rec = new Recorder();
      new ChunkReader().readChunks(new ByteReader(chunk, { what: 'chunk' }), rec);
      for (const e of rec.entries) expect(shardOfKey(DIMENSIONS[e.dim], String(e.key), 3)).toBe(v.chunkShards[i]);
      entries += rec.entries.length;
    });
    expect(entries).toBe(4 + 4 + 3 + 2 + 2); // equipment 1 and 2: 4 dimensions; 3: no region; 4 and 77: cell and equipment
    // the next batch starts empty
    expect(readBatchPartials(p.finish())).toMatchObject({ partitions: [], chunks: [] });
  });

  it('corrupt bytes fail with KpiFormatError naming the shard and offset, at every cut and for random damage', () => {
    const inst = synth(W, 1, [0]);
    const [message] = inst.batch(records, 0).commit();
    const value = message.value;
    expect(() => readAll(Buffer.from('LXKQ\x01'), 0, 3)).toThrow(/KPI partials message \(shard 0, offset 3\): bad magic/);
    const v2 = Buffer.from(value);
    v2[4] = 2;
    expect(() => readAll(v2, 0, 3)).toThrow(/unsupported KPI partials message version 2 \(this build reads 1\)/);
    let kinds = new Set<string>();
    for (let cut = 0; cut < value.length; cut++) {
      try {
        readAll(value.subarray(0, cut), 0, 42);
        // a cut between two chunks is a shorter but valid message
      } catch (e) {
        expect(e, `cut at ${cut}`).toBeInstanceOf(KpiFormatError);
        expect((e as KpiFormatError).offset).toBe(42);
        kinds.add((e as KpiFormatError).reason);
      }
    }
    expect(kinds.has('truncated')).toBe(true);
    const rng = new Mulberry32(3);
    kinds = new Set();
    for (let i = 0; i < 3000; i++) {
      const bad = Buffer.from(value);
      for (let k = rng.int(1, 3); k > 0; k--) bad[rng.int(0, bad.length - 1)] = rng.int(0, 255);
      try {
        readAll(bad, 0, i);
      } catch (e) {
        if (!(e instanceof KpiFormatError)) throw e;
        kinds.add(e.reason);
      }
    }
    expect(kinds.size).toBeGreaterThanOrEqual(4);
  });

  it('a message names its window size, shard and shard count', () => {
    const m = encodePartialsMessage(W, 2, 4, [{ partition: 9, timeMs: -Infinity, idle: true }], []);
    expect(() => openPartialsMessage(m, 2, 0, 30_000)).toThrow(/windows of 60000 ms, this instance merges windows of 30000 ms/);
    expect(() => openPartialsMessage(m, 1, 0, W)).toThrow(/written for shard 2, read from shard 1/);
    expect(openPartialsMessage(m, 2, 0, W).header).toEqual({ windowMs: W, shard: 2, shards: 4, marks: [{ partition: 9, timeMs: -Infinity, idle: true }] });
  });

  it('a batch of another window size or shard count is refused by the transaction', () => {
    const a = synth(W, 2, [0]);
    const b = synth(30_000, 2, [0]);
    foldSynthetic(b.partials, records, 0);
    expect(() => a.tp.add(b.partials.finish(), 0)).toThrow(/built for windows of 30000 ms, the transaction's are 60000 ms/);
    const c = synth(W, 3, [0]);
    foldSynthetic(c.partials, records, 0);
    expect(() => a.tp.add(c.partials.finish(), 0)).toThrow(/built for 3 shards, the transaction has 2/);
    expect(() => readBatchPartials(Uint8Array.of(1, 2, 3))).toThrow(KpiFormatError);
  });
});

describe('state values', () => {
  it('round-trip a shard\'s frontier, late-counted offset and marks, and an open alarm', () => {
    const s: ShardState = {
      shard: 7,
      windowMs: W,
      closedThroughMs: T0,
      lateCountedThrough: 123_456,
      rawPartitions: 12,
      marks: [
        { partition: 0, timeMs: T0 + 5, idle: false },
        { partition: 11, timeMs: -Infinity, idle: true },
        { partition: 3, timeMs: T0, idle: true },
      ],
    };
    expect(decodeStateValue(encodeShardState(s))).toEqual({ kind: 'shard', ...s });
    const fresh = { ...s, closedThroughMs: -Infinity, lateCountedThrough: -1, marks: [] };
    expect(decodeStateValue(encodeShardState(fresh))).toEqual({ kind: 'shard', ...fresh });
    const a = { rule: 'slow.setup', dimension: 'region' as const, key: "Provence-Alpes-Côte d'Azur: nord", raiseEndMs: T0 + W };
    expect(decodeStateValue(encodeAlarmState(7, a))).toEqual({ kind: 'alarm', shard: 7, ...a });
  });

  it('refuse corrupt values naming the key', () => {
    const v = encodeShardState({ shard: 1, windowMs: W, closedThroughMs: T0, lateCountedThrough: 4, rawPartitions: 2, marks: [{ partition: 1, timeMs: T0, idle: false }] });
    const where = { what: 'KPI state value s1' };
    expect(() => decodeStateValue(Buffer.from('nope!'), where)).toThrow(/KPI state value s1: bad magic/);
    for (let cut = 0; cut < v.length; cut++) expect(() => decodeStateValue(v.subarray(0, cut), where)).toThrow(KpiFormatError);
    expect(() => decodeStateValue(Buffer.concat([v, Buffer.of(0)]), where)).toThrow(/1 bytes after the end of the KPI shard state/);
  });
});
