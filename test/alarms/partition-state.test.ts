// Window state per input partition: snapshots that hold only their partition's equipment, restores that merge into a running core, forget on revocation, and a partition handed from one core to another raising once and clearing once.
import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../src/alarms/alarm-thread.js';
import { AlarmCore } from '../../src/alarms/core.js';
import { assembleSnapshot, snapshotPartitions, snapshotState } from '../../src/alarms/state-codec.js';
import { restoreState } from '../../src/alarms/state-merge.js';
import type { AlarmJson } from '../../src/alarms/alarm-json.js';
import { createChannel, createSignal, FeedWriter } from '../../src/alarms/feed.js';
import type { AlarmEvent, RuleSpec } from '../../src/alarms/rules.js';

const RULE: RuleSpec = { name: 'rlf', window_ms: 60_000, slide_ms: 10_000, threshold: 5, clear_below: 2, lateness_ms: 5_000 };
const T0 = Date.UTC(2024, 0, 1);

/** A core fed through a real ring, as the alarm thread is. */
function core(): { core: AlarmCore; fail(eq: number, t: number, partition: number, n?: number): void; tick(t: number, partition: number): AlarmEvent[] } {
  const c = new AlarmCore([RULE], 60_000);
  const ch = createChannel(0, createSignal(), 4096);
  c.attach(ch);
  const w = new FeedWriter(ch);
  return {
    core: c,
    fail(eq, t, partition, n = 1) {
      for (let i = 0; i < n; i++) w.add(eq, t + i, partition, true, false);
      w.flush();
      c.drain(0);
    },
    /** a success on `partition` at `t` (moves its watermark), then one evaluation pass */
    tick(t, partition) {
      w.add(1_000_000, t, partition, false, false);
      w.flush();
      c.drain(0);
      return c.advance(0);
    },
  };
}

const states = (events: AlarmEvent[]) => events.map((e) => [e.equipmentId, e.state, e.alarmId]);

describe('per-partition snapshots', () => {
  it('hold only the equipment and watermark of their own partition; a partition with no state gets an empty one', () => {
    const a = core();
    a.core.assign([0, 1, 2], 0);
    a.fail(10, T0, 0, 3);
    a.fail(11, T0, 1, 4);
    a.tick(T0 + 20_000, 0);
    a.tick(T0 + 20_000, 1);
    a.tick(T0 + 20_000, 2);
    const snaps = snapshotPartitions(a.core, [0, 1, 2]);
    expect(snaps.map((s) => s.partition)).toEqual([0, 1, 2]);

    const only0 = new AlarmCore([RULE], 60_000);
    expect(restoreState(only0, snaps[0].state, 0)).toEqual(['rlf']);
    const st = only0.rules.rules[0].store;
    expect(st.active).toBe(1);
    expect(st.find(10)).toBeGreaterThanOrEqual(0);
    expect(st.find(11)).toBe(-1);
    expect(st.windowCount(st.find(10), st.bucketOf(T0) + 6)).toBe(3);
    expect(only0.watermark.exportState().partitions).toEqual([[0, T0 + 20_000]]);

    const empty = snaps[2].state;
    expect(empty.length).toBeLessThan(snaps[1].state.length);
    const fresh = new AlarmCore([RULE], 60_000);
    restoreState(fresh, empty, 0);
    expect(fresh.rules.rules[0].store.active).toBe(0);

    // several partitions in one snapshot, and the whole state (the single-buffer API) still round-trip
    const both = new AlarmCore([RULE], 60_000);
    restoreState(both, snapshotState(a.core, [0, 1]), 0);
    expect(both.rules.rules[0].store.active).toBe(2);
    const whole = new AlarmCore([RULE], 60_000);
    restoreState(whole, snapshotState(a.core), 0);
    expect(snapshotState(whole)).toEqual(snapshotState(a.core));
  });

  it('give an equipment seen on two partitions to the partition of its latest failure', () => {
    const a = core();
    a.fail(20, T0, 0, 2);
    a.fail(20, T0 + 1_000, 1, 2);
    a.tick(T0 + 20_000, 0);
    a.tick(T0 + 20_000, 1);
    const [p0, p1] = snapshotPartitions(a.core, [0, 1]);
    const from0 = new AlarmCore([RULE], 60_000);
    restoreState(from0, p0.state, 0);
    expect(from0.rules.rules[0].store.active).toBe(0);
    const from1 = new AlarmCore([RULE], 60_000);
    restoreState(from1, p1.state, 0);
    const st = from1.rules.rules[0].store;
    expect(st.windowCount(st.find(20), st.bucketOf(T0) + 6)).toBe(4); // the whole slot moved with partition 1
  });

  it('forget drops a revoked partition (slots, deferred events, watermark, late entries); restoring it again counts it once', () => {
    const a = core();
    a.core.assign([0, 1], 0);
    a.fail(30, T0, 0, 3);
    a.fail(31, T0, 1, 1);
    a.tick(T0 + 20_000, 0);
    a.tick(T0 + 20_000, 1);
    a.fail(32, T0 + 3_600_000, 0, 1); // far ahead of the frontier: deferred
    const st = a.core.rules.rules[0].store;
    expect(st.deferredCount).toBe(1);
    const [p0] = snapshotPartitions(a.core, [0]);

    expect(a.core.forget([0])).toBe(1);
    expect(st.find(30)).toBe(-1);
    expect(st.find(31)).toBeGreaterThanOrEqual(0);
    expect(st.deferredCount).toBe(0);
    expect(a.core.watermark.exportState().partitions.map(([p]) => p)).toEqual([1]);
    a.fail(30, T0 + 1_000, 0, 5); // arrives after the revocation: its next owner counts it, not this core
    expect(a.core.closedDropped).toBe(5);
    expect(st.find(30)).toBe(-1);

    // taken back: the restored counts are exactly the snapshot's, and new entries count again
    expect(restoreState(a.core, p0.state, 0)).toEqual(['rlf']);
    a.core.assign([0], 0);
    expect(st.windowCount(st.find(30), st.bucketOf(T0) + 6)).toBe(3);
    expect(st.deferredCount).toBe(1);
    a.fail(30, T0 + 2_000, 0, 2);
    expect(st.windowCount(st.find(30), st.bucketOf(T0) + 6)).toBe(5);
  });
});

describe('a partition handed to another core', () => {
  it('raises once on the first core and clears once on the second, with the same alarm_id', () => {
    const a = core();
    a.core.assign([0, 1], 0);
    a.fail(77, T0, 0, 6);
    a.tick(T0 + 30_000, 1);
    const raised = a.tick(T0 + 30_000, 0);
    expect(states(raised)).toEqual([[77, 'raised', `rlf:77:${T0 + 10_000}`]]);

    // revocation of partition 0: its last snapshot, then it is forgotten
    const [p0] = snapshotPartitions(a.core, [0]);
    a.core.forget([0]);

    const b = core();
    restoreState(b.core, [p0.state], 0);
    b.core.assign([0], 0);
    expect(b.core.rules.openAlarms()).toBe(1);
    b.fail(77, T0 + 31_000, 0, 3); // the episode goes on
    const later = [...b.tick(T0 + 40_000, 0), ...b.tick(T0 + 500_000, 0)];
    expect(states(later)).toEqual([[77, 'cleared', `rlf:77:${T0 + 10_000}`]]);

    // the first core decides nothing more about it
    expect(states(a.tick(T0 + 500_000, 1))).toEqual([]);

    // and the handoff agrees with a core that kept the partition throughout
    const c = core();
    c.core.assign([0], 0);
    c.fail(77, T0, 0, 6);
    const whole = [...c.tick(T0 + 30_000, 0)];
    c.fail(77, T0 + 31_000, 0, 3);
    whole.push(...c.tick(T0 + 40_000, 0), ...c.tick(T0 + 500_000, 0));
    expect(states(whole)).toEqual([...states(raised), ...states(later)]);
  });

  it('does not decide again the windows the first core had evaluated when the second core is behind it', () => {
    const a = core();
    a.core.assign([0], 0);
    a.fail(5, T0 + 90_000, 0, 6);
    expect(states(a.tick(T0 + 125_000, 0))).toEqual([[5, 'raised', `rlf:5:${T0 + 100_000}`]]);
    const [p0] = snapshotPartitions(a.core, [0]);

    // the second core's own partition is far behind: its frontier is at 30 s
    const b = core();
    b.core.assign([1], 0);
    b.tick(T0 + 35_000, 1);
    expect(b.core.rules.rules[0].store.lastBucket).toBe(Math.floor((T0 + 30_000) / 10_000));
    restoreState(b.core, [p0.state], 0);
    b.core.assign([0], 0);
    // windows 40 s … 120 s, already decided by the first core, are not decided again (no clear at 40 s, no second raise)
    expect(states(b.tick(T0 + 125_000, 1))).toEqual([]);
    expect(states(b.tick(T0 + 500_000, 0).concat(b.tick(T0 + 500_000, 1)))).toEqual([[5, 'cleared', `rlf:5:${T0 + 100_000}`]]);
  });

  it('a core without a frontier takes the oldest restored one, so no restored partition is late', () => {
    const a = core();
    a.core.assign([0], 0);
    a.fail(1, T0, 0, 3);
    a.tick(T0 + 20_000, 0);
    const b = core();
    b.core.assign([1], 0);
    b.fail(2, T0 + 100_000, 1, 3);
    b.tick(T0 + 150_000, 1);
    const fresh = new AlarmCore([RULE], 60_000);
    restoreState(fresh, [snapshotPartitions(b.core, [1])[0].state, snapshotPartitions(a.core, [0])[0].state], 0);
    const st = fresh.rules.rules[0].store;
    expect(st.lastBucket).toBe(a.core.rules.rules[0].store.lastBucket);
    expect(st.lateDropped).toBe(0);
    expect(st.find(1)).toBeGreaterThanOrEqual(0);
    expect(st.find(2) >= 0 || st.deferredCount > 0).toBe(true);
  });
});

describe('a partition taken over from an instance that was behind', () => {
  it('has the windows its previous owner had not decided decided here, with its records still to come: no missed raise', () => {
    // instance A owns partition 0 at event time T0+30 s: 3 failures of equipment 50, the window ending at 30 s not
    // decided yet (A's frontier is the window ending at 20 s)
    const a = core();
    a.core.assign([0], 0);
    a.fail(50, T0 + 25_000, 0, 3);
    expect(a.tick(T0 + 30_000, 0)).toEqual([]);
    // instance B owns partition 1, far ahead: its frontier is the window ending at 190 s
    const b = core();
    b.core.assign([1], 0);
    b.fail(60, T0 + 150_000, 1, 5);
    expect(states(b.tick(T0 + 200_000, 1))).toEqual([[60, 'raised', `rlf:60:${T0 + 160_000}`]]); // open through 190 s
    // partition 0 moves from A to B
    const [p0] = snapshotPartitions(a.core, [0]);
    a.core.forget([0]);
    restoreState(b.core, p0.state, 0);
    // partition 0's next records: 2 more failures in the same windows (5: the threshold), then time moves on
    b.fail(50, T0 + 28_000, 0, 2);
    const events = b.tick(T0 + 120_000, 0);
    expect(states(events)).toEqual([
      [50, 'raised', `rlf:50:${T0 + 30_000}`],
      [50, 'cleared', `rlf:50:${T0 + 30_000}`],
    ]);
    expect(events[0].count).toBe(5);
    // B's own equipment is not decided again for the windows it had already decided (its open alarm stays open)
    expect(events.some((e) => e.equipmentId === 60)).toBe(false);
    expect(b.core.rules.openAlarms()).toBe(1);
    expect(b.core.rules.rules[0].store.lateDropped).toBe(0);
  });
});

describe('the alarm thread', () => {

  it('writes each partition\'s changes with the transaction, forgets leaving partitions after it, and merges restored partitions', async () => {
    const one = new AlarmEngine({ rules: [RULE], idleTimeoutMs: 60_000, pollMs: 5 });
    const ch = one.addProducer();
    one.assign([0, 1]);
    await one.start();
    const w = new FeedWriter(ch);
    for (let i = 0; i < 6; i++) w.add(5, T0 + i, 0, true, false);
    w.add(6, T0, 1, true, false);
    w.add(1, T0 + 20_000, 0, false, false);
    w.add(1, T0 + 20_000, 1, false, false);
    w.endBatch(1);
    w.flush();
    const { alarms, entries } = await one.prepare(1, [0, 1]);
    await one.settle(true);
    expect(alarms.map((a) => [a.equipment_id, a.state])).toEqual([[5, 'raised']]); // in the same transaction as the state
    expect(entries.map((e) => [e.partition, e.equipment ?? -1])).toEqual([[0, -1], [1, -1], [0, 5], [1, 6]]);
    const states = [0, 1].map((p) =>
      assembleSnapshot(
        p,
        entries.find((e) => e.partition === p && e.equipment === undefined)!.state!,
        entries.filter((e) => e.partition === p && e.equipment !== undefined).map((e) => e.state!),
      ),
    );
    expect(await one.forget([0])).toBe(1);
    expect(await one.forget([1])).toBe(1);
    await one.stop();

    const got: AlarmJson[] = [];
    const two = new AlarmEngine({ rules: [RULE], idleTimeoutMs: 60_000, pollMs: 5 });
    const ch2 = two.addProducer();
    await two.start();
    expect(await two.restore(states)).toEqual(['rlf']);
    two.assign([0, 1]);
    await expect(two.restore([Buffer.from('nonsense')])).rejects.toThrow(/bad magic|truncated/);
    const w2 = new FeedWriter(ch2);
    w2.add(1, T0 + 400_000, 0, false, false);
    w2.add(1, T0 + 400_000, 1, false, false);
    w2.endBatch(1);
    w2.flush();
    const later = await two.prepare(1, [0, 1]);
    await two.settle(true);
    got.push(...alarms, ...later.alarms);
    await two.stop();
    expect(got.map((a) => [a.equipment_id, a.state, a.alarm_id])).toEqual([
      [5, 'raised', `rlf:5:${T0 + 10_000}`],
      [5, 'cleared', `rlf:5:${T0 + 10_000}`],
    ]);
  }, 30_000);
});

describe('a partition being taken up', () => {
  // The rebalance restores a partition's changelog before the consumer is given the partition, and the pipeline's
  // transactions go on meanwhile (records of other partitions, alarms the thread says are due): the windows decided
  // then for the restored partition must be written with the alarms, or its next owner decides them again.
  it('has the windows decided for it before the consumer reads it written to its changelog with those alarms: its next owner does not decide them again', () => {
    const RULE: RuleSpec = { name: 'r', window_ms: 10_000, slide_ms: 5_000, threshold: 3, clear_below: 1, lateness_ms: 1_000 };
    const HOUR = 3_600_000;
    const feed = (c: AlarmCore) => {
      const ch = createChannel(0, createSignal(), 4096);
      c.attach(ch);
      return new FeedWriter(ch);
    };
    /** the last value of each changelog key, per partition, as the compacted state topic keeps them */
    const topic = new Map<string, { partition: number; equipment: number | undefined; state: Buffer | null }>();
    const write = (entries: { partition: number; equipment: number | undefined; state: Buffer | null }[]) => {
      for (const e of entries) topic.set(`${e.partition}:${e.equipment ?? '-'}`, e);
    };
    const readBack = (partition: number): Buffer => {
      const mine = [...topic.values()].filter((e) => e.partition === partition && e.state !== null);
      const own = mine.find((e) => e.equipment === undefined);
      return assembleSnapshot(partition, own?.state ?? undefined, mine.filter((e) => e.equipment !== undefined).map((e) => e.state as Buffer));
    };

    // instance A owns partitions 0 and 1: partition 1 has all its records (equipment 2 fails 3 times in its first
    // window), partition 0 is still at its start and holds the watermark back: nothing is decided, and A commits
    const a = new AlarmCore([RULE], HOUR);
    const aw = feed(a);
    a.assign([0, 1], 0);
    aw.add(1, T0, 0, false, false);
    for (const dt of [1000, 2000, 3000]) aw.add(2, T0 + dt, 1, true, false);
    aw.add(3, T0 + 40_000, 1, false, false);
    aw.endBatch(1);
    aw.flush();
    const first = a.prepare(1, 0, [0, 1]);
    a.settle(true);
    expect(first.events).toEqual([]);
    write(first.entries);

    // A dies. Instance B is assigned partition 0 (far ahead now), then partition 1: partition 1 is declared and its
    // changelog restored, and a transaction comes before the consumer holds partition 1 (its owned list lacks it)
    const b = new AlarmCore([RULE], HOUR);
    const bw = feed(b);
    b.assign([0], 0);
    bw.add(1, T0 + 60_000, 0, false, false);
    bw.endBatch(1);
    bw.flush();
    b.assign([1], 0);
    restoreState(b, [readBack(1)], 0);
    const early = b.prepare(1, 0, [0]);
    b.settle(true);
    expect(early.events.map((e) => `${e.alarmId} ${e.state}`)).toEqual([`r:2:${T0 + 5_000} raised`, `r:2:${T0 + 5_000} cleared`]);
    write(early.entries);

    // B dies before writing anything else; instance C takes partition 1 up from the changelog
    const c = new AlarmCore([RULE], HOUR);
    feed(c);
    c.assign([1], 0);
    restoreState(c, [readBack(1)], 0);
    const again = c.prepare(0, 0, [1]);
    c.settle(true);
    expect(again.events.map((e) => `${e.alarmId} ${e.state}`), 'decided again by the next owner').toEqual([]);
  });
});

describe('a partition taken up by an instance that is ahead', () => {
  // The restore moves the frontier back to the restored partition's; the instance's own slots are marked decided
  // through its old frontier. That mark must reach the changelog with the rewound frontier, or the next owner of those
  // partitions reads "decided through the rewound frontier" and decides their windows again: an open alarm cleared at
  // a window before its raise, then raised a second time (torture run: partition 4's alarms emitted twice).
  it('writes its own slots as decided through its old frontier: their next owner decides nothing twice', () => {
    const RULE: RuleSpec = { name: 'r', window_ms: 10_000, slide_ms: 5_000, threshold: 3, clear_below: 1, lateness_ms: 1_000 };
    const HOUR = 3_600_000;
    const feed = (c: AlarmCore) => {
      const ch = createChannel(0, createSignal(), 4096);
      c.attach(ch);
      return new FeedWriter(ch);
    };
    const topic = new Map<string, { partition: number; equipment: number | undefined; state: Buffer | null }>();
    const write = (entries: { partition: number; equipment: number | undefined; state: Buffer | null }[]) => {
      for (const e of entries) topic.set(`${e.partition}:${e.equipment ?? '-'}`, e);
    };
    const readBack = (partition: number): Buffer => {
      const mine = [...topic.values()].filter((e) => e.partition === partition && e.state !== null);
      const own = mine.find((e) => e.equipment === undefined);
      return assembleSnapshot(partition, own?.state ?? undefined, mine.filter((e) => e.equipment !== undefined).map((e) => e.state as Buffer));
    };
    const lines = (events: AlarmEvent[]) => events.map((e) => `${e.alarmId} ${e.state} ${e.count} at ${e.windowEndMs - T0}`);

    // instance A owns partition 3 and is behind: its frontier is the window ending at 5 s
    const a = new AlarmCore([RULE], HOUR);
    const aw = feed(a);
    a.assign([3], 0);
    aw.add(1, T0 + 10_000, 3, false, false);
    aw.endBatch(1);
    aw.flush();
    const fromA = a.prepare(1, 0, [3]);
    a.settle(true);
    write(fromA.entries);

    // instance B owns partition 4 and is ahead: equipment 4 raised at the window ending at 105 s, still open
    const b = new AlarmCore([RULE], HOUR);
    const bw = feed(b);
    b.assign([4], 0);
    for (const dt of [100_000, 101_000, 102_000]) bw.add(4, T0 + dt, 4, true, false);
    bw.add(1, T0 + 109_000, 4, false, false);
    bw.endBatch(1);
    bw.flush();
    const raise = b.prepare(1, 0, [4]);
    b.settle(true);
    expect(lines(raise.events)).toEqual([`r:4:${T0 + 105_000} raised 3 at 105000`]);
    write(raise.entries);

    // B takes partition 3 up: the frontier moves back to A's; B's next transaction writes both partitions
    b.assign([3], 0);
    restoreState(b, [readBack(3)], 0);
    bw.add(1, T0 + 11_000, 3, false, false);
    bw.add(1, T0 + 109_500, 4, false, false);
    bw.endBatch(2);
    bw.flush();
    const after = b.prepare(2, 0, [3, 4]);
    b.settle(true);
    expect(after.events).toEqual([]);
    write(after.entries);

    // B dies; C takes both partitions from the changelog and time moves on: equipment 4's alarm clears once, at the
    // first window without its failures, and is never raised again nor cleared at a window B had already decided
    const c = new AlarmCore([RULE], HOUR);
    const cw = feed(c);
    c.assign([3, 4], 0);
    restoreState(c, [readBack(3), readBack(4)], 0);
    cw.add(1, T0 + 130_000, 3, false, false);
    cw.add(1, T0 + 130_000, 4, false, false);
    cw.endBatch(1);
    cw.flush();
    const next = c.prepare(1, 0, [3, 4]);
    c.settle(true);
    expect(lines(next.events)).toEqual([`r:4:${T0 + 105_000} cleared 0 at 115000`]);
  });
});
