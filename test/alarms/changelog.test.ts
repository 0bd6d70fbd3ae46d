// The window state moved one transaction at a time: an abort puts it back exactly, a partition's changelog values reassemble its exact state, and a core restored from them after a crash decides what the uninterrupted one decides.
import { describe, expect, it } from 'vitest';
import { AlarmCore, type ChangelogEntry } from '../../src/alarms/core.js';
import { changelogKey, partitionKey } from '../../src/alarms/changelog.js';
import { createChannel, createSignal, FeedWriter } from '../../src/alarms/feed.js';
import type { AlarmEvent, RuleSpec } from '../../src/alarms/rules.js';
import { prng } from '../enrich/record-slots.js';
import { assembleSnapshot, parseSnapshot, snapshotPartitions, snapshotState } from '../../src/alarms/state-codec.js';
import { restoreState } from '../../src/alarms/state-merge.js';

const RULES: RuleSpec[] = [
  { name: 'rlf', window_ms: 60_000, slide_ms: 10_000, threshold: 5, clear_below: 2, lateness_ms: 5_000 },
  { name: 'fast', window_ms: 20_000, slide_ms: 5_000, threshold: 3, clear_below: 1, lateness_ms: 0 },
];
const T0 = Date.UTC(2024, 0, 1);
const PARTITIONS = [0, 1, 2];
const GROUP = 'g';

type Rec = [equipment: number, time: number, partition: number, failure: boolean];

/** A core fed through a real ring, batch by batch, as the alarm thread is. */
class Rig {
  readonly core: AlarmCore;
  private readonly w: FeedWriter;
  private seq = 0;
  constructor(restore?: Buffer[]) {
    this.core = new AlarmCore(RULES, 60_000);
    const ch = createChannel(0, createSignal(), 1 << 16);
    this.core.attach(ch);
    this.w = new FeedWriter(ch);
    if (restore !== undefined && restore.length > 0) restoreState(this.core, restore, 0);
    this.core.assign(PARTITIONS, 0);
  }
  /** One batch into the ring; returns its number. */
  batch(recs: readonly Rec[]): number {
    for (const [eq, t, p, f] of recs) expect(this.w.add(eq, t, p, f, false)).toBe(true);
    const seq = ++this.seq;
    expect(this.w.endBatch(seq)).toBe(true);
    expect(this.w.flush()).toBe(true);
    return seq;
  }
}

/** A state in a form two equal states share: marks, and per rule its frontier, slots and deferred events, sorted. */
function canonical(state: Buffer): unknown {
  const p = parseSnapshot(state);
  return {
    marks: [...p.watermarks].sort((a, b) => a[0] - b[0]),
    rules: p.rules.map((r) => {
      const slots: string[] = [];
      const size = 32 + 4 * r.ring;
      for (let i = 0; i < r.slots; i++) {
        const at = r.slotsAt + i * size;
        const b = Buffer.from(p.buf.subarray(at, at + size));
        // a slot's "already decided" mark matters only past the frontier
        if (!(b.readDoubleLE(24) > r.lastBucket)) b.writeDoubleLE(-Infinity, 24);
        slots.push(b.toString('hex'));
      }
      const deferred: string[] = [];
      for (let i = 0; i < r.deferred; i++) deferred.push(p.buf.toString('hex', r.deferredAt + i * 20, r.deferredAt + (i + 1) * 20));
      return { name: r.name, frontier: r.lastBucket, slots: slots.sort(), deferred: deferred.sort() };
    }),
  };
}

/** Random traffic over three partitions: a clock moving about 2 s a batch, late and early events, bursts. */
function traffic(random: () => number, clock: number): Rec[] {
  const recs: Rec[] = [];
  for (const p of PARTITIONS) {
    const n = Math.floor(random() * 25);
    for (let i = 0; i < n; i++) {
      const r = random();
      const t = r < 0.1 ? clock - Math.floor(random() * 20_000) : r < 0.13 ? clock + Math.floor(random() * 150_000) : clock + Math.floor(random() * 2_000);
      // equipment 1..30 keyed on one partition; now and then one arrives on another partition
      let eq = 1 + Math.floor(random() * 30);
      let part = eq % 3;
      if (random() < 0.05) part = p;
      else eq = eq - (eq % 3) + p || 3;
      recs.push([eq, t, part, random() < (eq % 7 === 0 ? 0.9 : 0.3)]);
    }
  }
  return recs;
}

/** The compacted state topic: the last value per key, a tombstone removing it. */
class Topic {
  readonly values = new Map<string, Buffer>();
  largest = 0;
  write(entries: readonly ChangelogEntry[]): void {
    for (const e of entries) {
      const key = changelogKey(GROUP, e);
      if (e.state === null) this.values.delete(key);
      else {
        this.values.set(key, e.state);
        this.largest = Math.max(this.largest, e.state.length);
      }
    }
  }
  /** A partition's snapshot, reassembled from its values as the daemon does on assignment. */
  snapshot(partition: number): Buffer {
    const own = this.values.get(partitionKey(GROUP, partition));
    const equipment = [...this.values].filter(([k]) => k.startsWith(`${GROUP}:${partition}:e`)).map(([, v]) => v);
    return assembleSnapshot(partition, own, equipment);
  }
}

describe('transactions of the window state', () => {
  it('an aborted transaction leaves every window, frontier, deferred event and watermark as the last commit left them', () => {
    const random = prng(7);
    const rig = new Rig();
    let clock = T0;
    let aborted = 0;
    for (let txn = 0; txn < 300; txn++) {
      clock += Math.floor(random() * 4_000);
      const recs = traffic(random, clock);
      const seq = rig.batch(recs);
      const before = canonical(snapshotState(rig.core));
      const metricsBefore = rig.core.rules.rules.map((r) => r.store.metrics());
      const first = rig.core.prepare(seq, 0, PARTITIONS);
      if (random() < 0.3) {
        rig.core.settle(false);
        aborted++;
        expect(canonical(snapshotState(rig.core))).toEqual(before);
        // the metrics too: the records read again are counted once
        expect(rig.core.rules.rules.map((r) => r.store.metrics())).toEqual(metricsBefore);
        // the rewound records come again, in a new batch: the same decisions as the aborted attempt
        const again = rig.core.prepare(rig.batch(recs), 0, PARTITIONS);
        expect(again.events).toEqual(first.events);
        expect(again.entries).toEqual(first.entries);
      }
      rig.core.settle(true);
    }
    expect(aborted).toBeGreaterThan(50);
    expect(rig.core.rules.rules[0].raised + rig.core.rules.rules[1].raised).toBeGreaterThan(10);
  });

  it('discard drops the staged batches of an aborted transaction and those dispatched after it', () => {
    const rig = new Rig();
    const committed = rig.batch([[3, T0, 0, true]]);
    rig.core.settle(rig.core.prepare(committed, 0, PARTITIONS) !== undefined);
    const before = canonical(snapshotState(rig.core));
    const inTxn = rig.batch([[3, T0 + 1, 0, true], [3, T0 + 2, 0, true]]);
    rig.batch([[3, T0 + 3, 0, true]]); // dispatched, not yet in a transaction
    rig.core.prepare(inTxn, 0, PARTITIONS);
    rig.core.discard();
    expect(rig.core.stagedEntries()).toBe(0);
    expect(canonical(snapshotState(rig.core))).toEqual(before);
  });

  it("a partition's changelog values reassemble its exact state, evictions and moves included", () => {
    const random = prng(11);
    const rig = new Rig();
    const topic = new Topic();
    let clock = T0;
    let tombstones = 0;
    let checked = 0;
    for (let txn = 0; txn < 400; txn++) {
      clock += Math.floor(random() * 4_000);
      const seq = rig.batch(traffic(random, clock));
      const { entries } = rig.core.prepare(seq, 0, PARTITIONS);
      if (random() < 0.1) {
        rig.core.settle(false); // never written
        continue;
      }
      rig.core.settle(true);
      topic.write(entries);
      tombstones += entries.filter((e) => e.state === null).length;
      if (txn % 7 === 0) {
        for (const p of PARTITIONS) {
          expect(canonical(topic.snapshot(p))).toEqual(canonical(snapshotPartitions(rig.core, [p])[0].state));
          checked++;
        }
      }
    }
    expect(tombstones).toBeGreaterThan(50);
    expect(checked).toBeGreaterThan(100);
    expect(topic.largest).toBeLessThan(1024); // one equipment's windows, whatever the number of equipment
  });

  it('a core restored from the changelog after a crash decides exactly what the uninterrupted core decides', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = prng(seed);
      const a = new Rig();
      const topic = new Topic();
      const inputs: Rec[][] = [];
      let clock = T0;
      for (let i = 0; i < 160; i++) {
        clock += Math.floor(random() * 4_000);
        inputs.push(traffic(random, clock));
      }
      const crashAt = 40 + Math.floor(random() * 80);
      const fromA: AlarmEvent[][] = [];
      for (let i = 0; i < inputs.length; i++) {
        const { events, entries } = a.core.prepare(a.batch(inputs[i]), 0, PARTITIONS);
        a.core.settle(true);
        if (i < crashAt) topic.write(entries); // the crash: nothing after crashAt reached the topic
        fromA.push(events);
      }
      // a new instance takes up every partition from the changelog, and reads from the committed offsets on
      const states = PARTITIONS.map((p) => topic.snapshot(p));
      const b = new Rig(states);
      const fromB: AlarmEvent[][] = [];
      for (let i = crashAt; i < inputs.length; i++) {
        const { events } = b.core.prepare(b.batch(inputs[i]), 0, PARTITIONS);
        b.core.settle(true);
        fromB.push(events);
      }
      // within one evaluation, alarms come in slot order, which differs between the two cores
      const sorted = (txns: AlarmEvent[][]) => txns.map((t) => [...t].sort((x, y) => (x.alarmId + x.state < y.alarmId + y.state ? -1 : 1)));
      expect(sorted(fromB)).toEqual(sorted(fromA.slice(crashAt)));
      expect(fromA.flat().length).toBeGreaterThan(5);
      expect(canonical(snapshotState(b.core))).toEqual(canonical(snapshotState(a.core)));
    }
  });

  it('an equipment moving to another partition leaves a tombstone in the one it left', () => {
    const rig = new Rig();
    // every partition has sent: the frontier is known and failures count at once (not deferred)
    const first = rig.core.prepare(rig.batch([[1, T0 + 30_000, 0, false], [1, T0 + 30_000, 1, false], [1, T0 + 30_000, 2, false], [3, T0 + 30_000, 0, true]]), 0, PARTITIONS);
    rig.core.settle(true);
    expect(first.entries.filter((e) => e.equipment === 3).map((e) => [e.partition, e.state === null])).toEqual([[0, false]]);
    const moved = rig.core.prepare(rig.batch([[3, T0 + 30_001, 2, true]]), 0, PARTITIONS);
    rig.core.settle(true);
    expect(moved.entries.filter((e) => e.equipment === 3).map((e) => [e.partition, e.state === null]).sort()).toEqual([
      [0, true],
      [2, false],
    ]);
  });

  it('a partition not owned any more gets no value, whatever changes', () => {
    const rig = new Rig();
    const { entries } = rig.core.prepare(rig.batch([[3, T0, 0, true], [4, T0, 1, true]]), 0, [1]);
    rig.core.settle(true);
    expect(new Set(entries.map((e) => e.partition))).toEqual(new Set([1]));
  });
});
