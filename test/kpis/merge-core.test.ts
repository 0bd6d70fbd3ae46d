// The merge core's exactly-once properties: aborts rewound, crashes restarted from the committed state, late entries dropped and counted once, the watermark over every raw partition.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { KpiFormatError } from '../../src/kpis/errors.js';
import { KpiMergeCore, type KpiMergeOptions } from '../../src/kpis/merge-core.js';
import type { KpiRuleSpec } from '../../src/kpis/rules.js';
import { Mulberry32 } from '../../src/gen/traffic.js';
import { shardOfKey } from '../../src/kpis/shard.js';
import { decodeStateValue } from '../../src/kpis/state-codec.js';
import { loadRef, Log, makeRefDir, SynthInstance, trafficFrames } from './harness.js';
import { kpisById, MergeDriver, producePartials, type MergeOutput, type PartialsLog } from './simulation.js';

const W = 10_000;
const T0 = Date.UTC(2025, 3, 1, 8, 0, 0);

const RULES: KpiRuleSpec[] = [
  { name: 'attach_low', kpi: 'attach_success_rate', dimension: 'cell', below: 0.95, clear: 0.97, min_attempts: 2 },
  { name: 'latency_high', kpi: 'setup_latency_p95_ms', dimension: 'equipment', above: 300, clear: 250, min_attempts: 3 },
  { name: 'drops_high', kpi: 'drop_rate', dimension: 'region', above: 0.02, clear: 0.02, min_attempts: 10 },
];

describe('exactly once across aborts and crashes', () => {
  const refDir = makeRefDir();
  afterAll(() => rmSync(refDir, { recursive: true, force: true }));
  const snapshot = loadRef(refDir);
  const frames = trafficFrames(11, 8_000, T0, 5);
  const log: PartialsLog = producePartials(frames, snapshot, {
    windowMs: W,
    rawPartitions: 3,
    shards: 3,
    instances: [[0], [1, 2]],
    framesPerPartition: 100,
    idleTimeoutMs: 30_000,
  });
  const options: KpiMergeOptions = { windowMs: W, latenessMs: 2_000, rawPartitions: 3, shards: 3, rules: RULES };
  const SHARDS = [0, 1, 2];

  /** Receives `step` messages per shard per transaction; `abort(i)` decides whether transaction i aborts. */
  function run(step: number, abort: (i: number) => boolean = () => false): MergeOutput {
    const d = new MergeDriver(log, SHARDS, options);
    let i = 0;
    let guard = 0;
    while (d.receive(step) > 0 || d.core.due()) {
      d.transaction(!abort(i++));
      if (++guard > 1_000) throw new Error('no progress');
    }
    return d.output;
  }

  const sorted = (o: MergeOutput) => ({
    kpis: o.kpis.map((k) => `${k.key} ${k.value}`).sort(),
    alarms: o.alarms.map((a) => JSON.stringify(a)).sort(),
  });
  const reference = run(5);

  it('the uninterrupted run emits KPIs and alarms of every rule', () => {
    expect(reference.kpis.length).toBeGreaterThan(2000);
    const rules = new Set(reference.alarms.map((a) => a.rule));
    expect([...rules].sort()).toEqual(['attach_low', 'drops_high', 'latency_high']);
    expect(reference.alarms.some((a) => a.state === 'cleared')).toBe(true);
    kpisById(reference); // no (window, dimension, key) twice
  });

  it('a discard after prepare, with the messages received again from the committed offsets, gives exactly the same output', () => {
    // (an abort rewinds to the first message of the oldest open window, ~16 messages back here: the commits between
    // two aborts must read far enough past it to close a window, or a schedule this regular never gets on)
    const rng = new Mulberry32(5);
    const aborts = Array.from({ length: 1_000 }, () => rng.chance(0.2));
    const aborted = run(5, (i) => aborts[i]);
    expect(aborts.slice(0, 20).filter(Boolean).length).toBeGreaterThan(1);
    expect(sorted(aborted)).toEqual(sorted(reference));
    // and with another rhythm: larger steps, most transactions aborted
    expect(sorted(run(40, (i) => i % 4 !== 3))).toEqual(sorted(reference));
  });

  it('a crash (a new core given the committed state, reading from the committed offsets) emits every (window, dimension, key) once, with the same values', () => {
    let d = new MergeDriver(log, SHARDS, options);
    let crashes = 0;
    let t = 0;
    while (d.receive(5) > 0 || d.core.due()) {
      if (t % 7 === 6) {
        // crash in the middle of a transaction: its output is lost with it
        d.core.prepare(0);
        d = new MergeDriver(log, SHARDS, options, d.crash());
        crashes++;
      } else d.transaction(true);
      t++;
    }
    expect(crashes).toBeGreaterThanOrEqual(3);
    expect(sorted(d.output)).toEqual(sorted(reference));
    expect(kpisById(d.output).size).toBe(reference.kpis.length);
  });

  it('two mergers splitting the shards, one crashing, together emit the reference output', () => {
    const a = new MergeDriver(log, [0, 2], options);
    let b = new MergeDriver(log, [1], options);
    for (let j = 0; a.receive(6) + b.receive(8) > 0 || a.core.due() || b.core.due(); j++) {
      if (j > 1_000) throw new Error('no progress');
      a.transaction(true);
      if (j % 5 === 4) {
        b.core.prepare(0);
        b = new MergeDriver(log, [1], options, b.crash());
      } else b.transaction(true);
    }
    const both: MergeOutput = { kpis: [...a.output.kpis, ...b.output.kpis], alarms: [...a.output.alarms, ...b.output.alarms] };
    expect(sorted(both)).toEqual(sorted(reference));
  });

  it('commits the offset of the first message an open window needs, or the next one when none is open', () => {
    const d = new MergeDriver(log, [0], options);
    let last = 0;
    for (let i = 0; i < 6; i++) {
      d.receive(10);
      const o = d.transaction(true).offsets[0].offset;
      expect(o).toBeGreaterThanOrEqual(last);
      last = o;
    }
    expect(last).toBeGreaterThan(0); // windows closed: their first messages are not needed again
    expect(last).toBeLessThan(60); // the open windows' are
    // a shard whose messages carry marks and no entry has no window open: the next offset
    const inst = new SynthInstance(W, 8, [0]);
    const lg = new Log(8);
    for (let i = 0; i < 3; i++) lg.append(inst.batch([{ time: T0 + i * 1000, equipment: 1, cell: 101 }], 0, i).commit(i));
    const used = new Set([shardOfKey('cell', '101', 8), shardOfKey('equipment', '1', 8), shardOfKey('region', 'R1', 8), shardOfKey('vendor', 'Nokia', 8)]);
    const empty = [0, 1, 2, 3, 4, 5, 6, 7].find((s) => !used.has(s))!;
    expect(lg.shards[empty]).toHaveLength(3); // marks only
    const e = new MergeDriver(lg.shards, [empty], { ...options, rawPartitions: 1, shards: 8 });
    e.receive(10);
    expect(e.transaction(true).offsets).toEqual([{ shard: empty, offset: 3 }]);
  });

  it('writes a state value only when it changed', () => {
    const d = new MergeDriver(log, [0], options);
    d.receive(10);
    expect(d.transaction(true).state.map((s) => s.key)).toContain('s0');
    expect(d.transaction(true).state).toEqual([]);
  });
});

describe('late entries', () => {
  const opts: KpiMergeOptions = { windowMs: W, latenessMs: 2_000, rawPartitions: 1, shards: 1 };

  /** m0: window 0; m1: time 30 s (closes windows 0 and 1); m2: 3 late records of window 0 and one at 31 s. */
  function messages(): Log {
    const inst = new SynthInstance(W, 1, [0]);
    const log = new Log(1);
    log.append(inst.batch([{ time: T0 + 5_000, equipment: 1 }], 0).commit());
    log.append(inst.batch([{ time: T0 + 30_000, equipment: 1 }], 0).commit());
    const late = [1, 2, 3].map((i) => ({ time: T0 + 3_000 + i, equipment: 2 }));
    log.append(inst.batch([...late, { time: T0 + 31_000, equipment: 1 }], 0).commit());
    log.append(inst.batch([{ time: T0 + 32_000, equipment: 1 }], 0).commit());
    return log;
  }

  it('are dropped, never emitted, and counted once — not again when read after an abort or a restart', () => {
    const log = messages();
    const d = new MergeDriver(log.shards, [0], opts);
    d.receive(2);
    const p = d.transaction(true);
    expect(new Set(p.kpis.map((k) => JSON.parse(k.value.toString()).window_start))).toEqual(new Set([new Date(T0).toISOString()]));
    d.receive(1); // the late records
    d.transaction(true);
    expect(d.core.counters().lateRecords).toBe(3); // once each (cell dimension), though 4 dimensions held them
    expect(d.committedOffsets.get(0)).toBe(1); // the open window of 30 s still needs the second message
    // an aborted transaction reads it again: not counted again
    d.receive(1);
    d.transaction(false);
    d.receive(2);
    d.transaction(true);
    expect(d.core.counters().lateRecords).toBe(3);
    // nor by a restarted core, which learns how far late records were counted from the state
    const e = new MergeDriver(log.shards, [0], opts, d.crash());
    expect(e.position.get(0)).toBe(1);
    e.receive(10);
    e.transaction(true);
    expect(e.core.counters().lateRecords).toBe(0);
    const emitted = [...kpisById(e.output).keys()]; // both runs' output: nothing twice
    expect(emitted.filter((id) => id.endsWith('equipment:2'))).toEqual([]);
    expect(emitted.filter((id) => id.endsWith('equipment:1')).length).toBe(1);
  });
});

describe('the watermark over every raw partition', () => {
  const opts: KpiMergeOptions = { windowMs: W, latenessMs: 0, rawPartitions: 3, shards: 1 };

  it('is held by a raw partition never heard of, and by the slowest live one; idle partitions do not hold it', () => {
    const a = new SynthInstance(W, 1, [0, 1], 0, 1_000); // owns partitions 0 and 1
    const b = new SynthInstance(W, 1, [2], 0, 1_000); // owns partition 2
    const core = new KpiMergeCore(opts);
    core.assign(0, []);
    let offset = 0;
    const feed = (ms: readonly { value: Buffer }[]): void => {
      for (const m of ms) core.receive(0, offset++, m.value);
    };
    const windows = (): string[] => [...new Set(core.prepare(0).kpis.map((k) => JSON.parse(k.value.toString()).window_start as string))].sort();
    const settle = <T>(v: T): T => {
      core.settle(true);
      return v;
    };
    feed(a.batch([{ time: T0 + 1_000, equipment: 1 }, { time: T0 + 15_000, equipment: 1 }], 0).batch([{ time: T0 + 50_000, equipment: 1 }], 1).commit(10));
    expect(settle(windows())).toEqual([]); // partition 2, never heard of, holds it
    expect(core.counters().watermarkMs).toBe(-Infinity);
    expect(core.due()).toBe(false);
    feed(b.batch([{ time: T0 + 25_000, equipment: 2 }], 2).commit(10));
    // min(partition 0 at 15 s, 1 at 50 s, 2 at 25 s) = 15 s
    expect(settle(windows())).toEqual([new Date(T0).toISOString()]);
    expect(core.counters().watermarkMs).toBe(T0 + 15_000);
    // partition 0 goes idle (its owner says so after 1 s of silence while 1 keeps sending): min(51 s, 25 s) = 25 s
    expect(a.tp.due(1_500)).toBe(true);
    feed(a.batch([{ time: T0 + 51_000, equipment: 1 }], 1, 1_500).commit(1_500));
    expect(settle(windows())).toEqual([new Date(T0 + 10_000).toISOString()]);
    expect(core.counters().watermarkMs).toBe(T0 + 25_000);
    // every partition idle: the largest event time of all (51 s)
    feed(b.commit(3_000));
    feed(a.commit(3_000));
    expect(settle(windows())).toEqual([new Date(T0 + 20_000).toISOString()]);
    expect(core.counters().watermarkMs).toBe(T0 + 51_000);
    // partition 0 comes back with older events: the watermark does not move back; they are late
    feed(a.batch([{ time: T0 + 2_000, equipment: 1 }], 0).commit(3_100));
    expect(settle(windows())).toEqual([]);
    expect(core.counters().lateRecords).toBe(1);
    expect(core.counters().watermarkMs).toBe(T0 + 51_000);
  });

  it('learns idle partitions again from the owner\'s re-announcement every idle timeout', () => {
    const a = new SynthInstance(W, 1, [0], 0, 1_000);
    expect(a.tp.due(999)).toBe(false);
    expect(a.tp.due(1_000)).toBe(true);
    const first = a.commit(1_000);
    expect(first).toHaveLength(1);
    expect(a.tp.due(1_500)).toBe(false);
    expect(a.tp.due(2_000)).toBe(true);
    expect(a.commit(2_000)).toHaveLength(1);
    // a merger without state for the shard, reading from after the flip, learns the partition is idle from the
    // re-announcement: until then the partition, never heard of, holds its watermark
    const b = new SynthInstance(W, 1, [0], 0, 1_000);
    b.batch([{ time: T0 + 1_000, equipment: 1 }], 0);
    const msgs = [b.commit(0), b.commit(1_000), b.commit(2_000)].map((m) => m[0].value);
    const core = new KpiMergeCore({ ...opts, rawPartitions: 1 });
    core.assign(0, []);
    expect(core.counters().watermarkMs).toBe(-Infinity);
    core.receive(0, 2, msgs[2]);
    core.prepare(0);
    core.settle(true);
    expect(core.counters().watermarkMs).toBe(T0 + 1_000);
  });
});

describe('messages that are not ours', () => {
  it('are refused with the shard and offset: another window size, another shard, another shard count, corrupt bytes', () => {
    const inst = new SynthInstance(W, 2, [0]);
    const msgs = inst.batch([{ time: T0, equipment: 1 }, { time: T0, equipment: 2 }], 0).commit();
    const core = new KpiMergeCore({ windowMs: 60_000, rawPartitions: 1, shards: 2 });
    core.assign(0, []);
    core.assign(1, []);
    const m0 = msgs.find((m) => m.shard === 0)!;
    expect(() => core.receive(0, 7, m0.value)).toThrow(/shard 0, offset 7\).*windows of 10000 ms.*60000 ms/);
    const other = new KpiMergeCore({ windowMs: W, rawPartitions: 1, shards: 2 });
    other.assign(1, []);
    other.assign(0, []);
    expect(() => other.receive(1, 3, m0.value)).toThrow(/shard 1, offset 3\).*written for shard 0/);
    const four = new KpiMergeCore({ windowMs: W, rawPartitions: 1, shards: 4 });
    four.assign(0, []);
    expect(() => four.receive(0, 0, m0.value)).toThrow(/2 shards, this one has 4/);
    // a body that does not read fails the prepare that reads it; a discard puts the core back
    const cut = m0.value.subarray(0, m0.value.length - 3);
    other.receive(0, 9, cut);
    try {
      other.prepare(0);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KpiFormatError);
      expect((e as KpiFormatError).offset).toBe(9);
      expect((e as KpiFormatError).reason).toBe('truncated');
    }
    other.discard();
    expect(other.prepared).toBe(false);
    other.receive(0, 9, m0.value);
    expect(other.prepare(0).offsets).toEqual([{ shard: 0, offset: 9 }]);
    other.settle(true);
    // a shard not owned: skipped and counted
    const mine = new KpiMergeCore({ windowMs: W, rawPartitions: 1 });
    mine.receive(5, 0, m0.value);
    expect(mine.counters().messagesSkipped).toBe(1);
  });

  it('holds assign and forget while a transaction is prepared', () => {
    const core = new KpiMergeCore({ windowMs: W, rawPartitions: 1 });
    core.assign(0, []);
    core.prepare(0);
    core.assign(1, []);
    core.forget(0);
    expect(core.owned()).toEqual([0]);
    core.settle(true);
    expect(core.owned()).toEqual([1]);
  });

  it('refuses a state value of another shard', () => {
    const d = new KpiMergeCore({ windowMs: W, rawPartitions: 1 });
    d.assign(0, []);
    const inst = new SynthInstance(W, 1, [0]);
    d.receive(0, 0, inst.batch([{ time: T0, equipment: 1 }], 0).commit()[0].value);
    const value = d.prepare(0).state.find((s) => s.key === 's0')!.value!;
    expect(decodeStateValue(value)).toMatchObject({ kind: 'shard', shard: 0 });
    expect(() => new KpiMergeCore({ windowMs: W, rawPartitions: 1 }).assign(3, [value])).toThrow(/a value of shard 0 given for shard 3/);
  });
});

describe('raw partitions', () => {
  it('a state written when the raw topic had more partitions keeps them holding the watermark', () => {
    const a = new KpiMergeCore({ windowMs: W, latenessMs: 0, rawPartitions: 3 });
    a.assign(0, []);
    const inst = new SynthInstance(W, 1, [0, 1]);
    a.receive(0, 0, inst.batch([{ time: T0 + 50_000, equipment: 1 }], 0).batch([{ time: T0 + 50_000, equipment: 1 }], 1).commit()[0].value);
    const state = a.prepare(0).state.filter((s) => s.value !== null).map((s) => s.value!);
    a.settle(true);
    expect(a.counters().watermarkMs).toBe(-Infinity); // partition 2 never heard of
    const b = new KpiMergeCore({ windowMs: W, latenessMs: 0, rawPartitions: 2 });
    b.assign(0, state);
    expect(b.counters().watermarkMs).toBe(-Infinity); // still 3 partitions
  });
});
