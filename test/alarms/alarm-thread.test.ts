// The alarm thread fed through real rings: batches applied with their transaction, aborts undone, alarms with suppression, restarts mid-episode.
import { describe, expect, it } from 'vitest';
import { AlarmEngine, type AlarmEngineOptions } from '../../src/alarms/alarm-thread.js';
import { AlarmCore } from '../../src/alarms/core.js';
import { assembleSnapshot, snapshotState } from '../../src/alarms/state-codec.js';
import { restoreState } from '../../src/alarms/state-merge.js';
import { createChannel, createSignal, FeedWriter } from '../../src/alarms/feed.js';
import type { RuleSpec } from '../../src/alarms/rules.js';

const RULE: RuleSpec = { name: 'rlf', window_ms: 60_000, slide_ms: 10_000, threshold: 5, clear_below: 2, lateness_ms: 5_000 };
const T0 = Date.UTC(2024, 0, 1);

/** An alarm thread with RULE (options may change it) owning `partitions`, started, and a feed writer into it. */
async function startEngine(partitions: number[] = [0], options: Partial<AlarmEngineOptions> = {}): Promise<{ engine: AlarmEngine; w: FeedWriter }> {
  const engine = new AlarmEngine({ rules: [RULE], idleTimeoutMs: 60_000, pollMs: 5, ...options });
  const ch = engine.addProducer();
  engine.assign(partitions);
  await engine.start();
  return { engine, w: new FeedWriter(ch) };
}


describe('feed rings', () => {
  it('carry failures whole and fold other records into progress marks', () => {
    const signal = createSignal();
    const ch = createChannel(0, signal, 64);
    const writer = new FeedWriter(ch);
    const core = new AlarmCore([RULE], 60_000);
    core.attach(ch);
    for (let i = 0; i < 5; i++) writer.add(8, T0 + i, 3, true, false);
    for (let i = 0; i < 100; i++) writer.add(9, T0 + 200_000 + i, 3, false, false);
    expect(writer.flush()).toBe(true);
    expect(new Int32Array(signal)[0]).toBe(1);
    expect(core.drain(0)).toBe(6); // 5 failures + 1 progress mark
    expect(core.records).toBe(105);
    expect(core.failures).toBe(5);
    expect(core.advance(0).map((e) => e.state)).toEqual(['raised', 'cleared']);
  });

  it('refuse records when the ring and the batch are full, and take them after a drain', () => {
    const ch = createChannel(0, createSignal(), 8);
    const writer = new FeedWriter(ch, 8);
    const core = new AlarmCore([RULE], 60_000);
    core.attach(ch);
    let taken = 0;
    while (writer.add(1, T0 + taken, 0, true, false)) taken++;
    expect(taken).toBe(16); // 8 in the ring, 8 in the batch
    core.drain(0);
    expect(writer.add(1, T0, 0, true, false)).toBe(true); // flushes the batch into the ring, keeps this one
    expect(writer.flush()).toBe(false); // the ring is full again
    core.drain(0);
    expect(writer.flush()).toBe(true);
    core.drain(0);
    expect(core.failures).toBe(17);
  });
});

describe('state snapshot', () => {
  it('restored mid-episode raises nothing twice and clears with the same alarm_id', () => {
    const a = new AlarmCore([RULE], 60_000);
    const ch = createChannel(0, createSignal(), 1024);
    a.attach(ch);
    const w = new FeedWriter(ch);
    for (let i = 0; i < 6; i++) w.add(77, T0 + i * 1_000, 0, true, false);
    w.add(1, T0 + 30_000, 0, false, false);
    w.flush();
    a.drain(0);
    const first = a.advance(0);
    expect(first.map((e) => e.state)).toEqual(['raised']);
    const snap = snapshotState(a);

    const b = new AlarmCore([RULE], 60_000);
    expect(restoreState(b, snap, 0)).toEqual(['rlf']);
    expect(b.rules.openAlarms()).toBe(1);
    // more failures in the same episode, then time passes
    for (let i = 0; i < 3; i++) b.rules.addFailure(77, T0 + 31_000 + i);
    b.watermark.observe(0, T0 + 500_000, 0);
    const later = b.advance(0);
    expect(later.map((e) => [e.state, e.alarmId])).toEqual([['cleared', first[0].alarmId]]);
    // the restored copy and an uninterrupted run agree
    for (let i = 0; i < 3; i++) a.rules.addFailure(77, T0 + 31_000 + i);
    a.watermark.observe(0, T0 + 500_000, 0);
    expect(a.advance(0)).toEqual(later);
  });
});

/** Closes batch `seq` on a writer and pushes it. */
function close(w: FeedWriter, seq: number): void {
  expect(w.endBatch(seq)).toBe(true);
  expect(w.flush()).toBe(true);
}

describe('alarm thread', () => {
  it('counts records from two producer rings when their transaction is prepared, with suppression applied', async () => {
    const engine = new AlarmEngine({
      rules: [RULE],
      idleTimeoutMs: 60_000,
      pollMs: 5,
      maintenance: (eq, t) => eq === 2 && t >= T0 && t < T0 + 3_600_000,
      equipment: (eq) => (eq === 1 ? { name: 'n1', model: 'm', vendor: 'v', site: 's', region: 'r' } : null),
    });
    const ch0 = engine.addProducer();
    engine.assign([0, 1]); // partition 1 holds the watermark until its ring, added after start, delivers
    await engine.start();
    const ch1 = engine.addProducer(); // a ring added after start
    const p0 = new FeedWriter(ch0);
    const p1 = new FeedWriter(ch1);
    for (let i = 0; i < 5; i++) {
      p0.add(1, T0 + i, 0, true, false);
      p1.add(2, T0 + i, 1, true, true);
    }
    p0.add(1, T0 + 1, 0, false, false);
    close(p0, 1);
    close(p1, 2);
    // advance both partitions well past the episode
    p0.add(1, T0 + 300_000, 0, false, false);
    p1.add(2, T0 + 300_000, 1, false, false);
    close(p0, 3);
    close(p1, 4);
    const { alarms, entries } = await engine.prepare(4, [0, 1]);
    await engine.settle(true);
    const seen = alarms.map((a) => `${a.equipment_id}:${a.state}:${a.suppressed}`).sort();
    expect(seen).toEqual(['1:cleared:false', '1:raised:false', '2:cleared:true', '2:raised:true']);
    const raised1 = alarms.find((a) => a.equipment_id === 1 && a.state === 'raised')!;
    expect(raised1.equipment?.name).toBe('n1');
    expect(raised1.window_end).toBe('2024-01-01T00:00:10.000Z');
    // the changelog: each partition's value; the equipment came and went within the transaction, so none of theirs
    expect(entries.map((e) => [e.partition, e.equipment ?? -1]).sort()).toEqual([
      [0, -1],
      [1, -1],
    ]);
    const c = engine.counters();
    expect(c.records).toBe(13);
    expect(c.failures).toBe(10);
    expect(c.raised).toBe(2);
    expect(c.cleared).toBe(2);
    expect(c.suppressed).toBe(2);
    expect(c.openAlarms).toBe(0);
    await engine.stop();
  }, 30_000);

  it('applies only the batches the transaction holds; the later ones wait for theirs', async () => {
    const { engine, w } = await startEngine();
    for (let i = 0; i < 5; i++) w.add(5, T0 + i, 0, true, false);
    close(w, 1);
    w.add(5, T0 + 20_000, 0, false, false);
    close(w, 2);
    w.add(5, T0 + 400_000, 0, false, false); // would close the episode: in batch 3, not yet in a transaction
    close(w, 3);
    const first = await engine.prepare(2, [0]);
    await engine.settle(true);
    expect(first.alarms.map((a) => a.state)).toEqual(['raised']);
    const second = await engine.prepare(3, [0]);
    await engine.settle(true);
    expect(second.alarms.map((a) => [a.state, a.alarm_id])).toEqual([['cleared', `rlf:5:${T0 + 10_000}`]]);
    await engine.stop();
  }, 30_000);

  it('takes a transaction\'s batches by number when the decode pool fed them out of order', async () => {
    // Piscina does not run its tasks first in, first out (seen with one worker: batch 28 fed before 27): the ring
    // holds batch 2, then 3, then 1. The transaction through 2 holds batches 1 and 2, and must count both before
    // batch 2's event time moves the watermark; batch 3 waits for its own transaction.
    const { engine, w } = await startEngine();
    w.add(5, T0 + 30_000, 0, false, false); // batch 2: later records of the same partition
    close(w, 2);
    w.add(5, T0 + 400_000, 0, false, false); // batch 3: would close the episode
    close(w, 3);
    for (let i = 0; i < 5; i++) w.add(5, T0 + i, 0, true, false); // batch 1: the episode
    close(w, 1);
    w.add(5, T0 + 500_000, 0, true, false); // batch 4, still open (no mark yet): no transaction takes it
    expect(w.flush()).toBe(true);
    const first = await engine.prepare(2, [0]);
    await engine.settle(true);
    expect(first.alarms.map((a) => [a.state, a.count, a.window_end])).toEqual([['raised', 5, '2024-01-01T00:00:10.000Z']]);
    expect(engine.counters()).toMatchObject({ failures: 5, records: 6, lateDropped: 0 });
    const second = await engine.prepare(3, [0]);
    await engine.settle(true);
    expect(second.alarms.map((a) => [a.state, a.alarm_id])).toEqual([['cleared', `rlf:5:${T0 + 10_000}`]]);
    expect(engine.counters()).toMatchObject({ failures: 5, records: 7, lateDropped: 0 });
    close(w, 4);
    await engine.prepare(4, [0]);
    await engine.settle(true);
    expect(engine.counters()).toMatchObject({ failures: 6, records: 8, lateDropped: 0 });
    await engine.stop();
  }, 30_000);

  it('puts the windows back after an abort: the records read again decide the same alarm once', async () => {
    const { engine, w } = await startEngine();
    const episode = (seq: number): void => {
      for (let i = 0; i < 5; i++) w.add(7, T0 + i, 0, true, false);
      w.add(7, T0 + 20_000, 0, false, false);
      close(w, seq);
    };
    episode(1);
    const aborted = await engine.prepare(1, [0]);
    expect(aborted.alarms.map((a) => a.state)).toEqual(['raised']);
    await engine.discard(); // the transaction aborted; the pipeline rewinds and reads the same records again
    expect(engine.counters().openAlarms).toBe(0);
    expect(engine.counters().raised).toBe(0);
    episode(2);
    const again = await engine.prepare(2, [0]);
    await engine.settle(true);
    expect(again.alarms.map((a) => [a.state, a.alarm_id, a.count])).toEqual([['raised', `rlf:7:${T0 + 10_000}`, 5]]);
    expect(again.entries.map((e) => [e.partition, e.equipment])).toEqual(aborted.entries.map((e) => [e.partition, e.equipment]));
    expect(engine.counters().raised).toBe(1);
    expect(engine.counters().openAlarms).toBe(1);
    await engine.stop();
  }, 30_000);

  it('restarts from a snapshot without raising the open alarm again', async () => {
    const one = new AlarmEngine({ rules: [RULE], idleTimeoutMs: 60_000, pollMs: 5 });
    const ch = one.addProducer();
    one.assign([0]);
    await one.start();
    const w = new FeedWriter(ch);
    for (let i = 0; i < 5; i++) w.add(5, T0 + i, 0, true, false);
    w.add(5, T0 + 20_000, 0, false, false);
    close(w, 1);
    const first = await one.prepare(1, [0]);
    await one.settle(true);
    await one.stop();
    expect(first.alarms.map((a) => a.state)).toEqual(['raised']);
    const own = first.entries.find((e) => e.equipment === undefined)!.state!;
    const snap = assembleSnapshot(0, own, first.entries.flatMap((e) => (e.equipment !== undefined && e.state !== null ? [e.state] : [])));

    const two = new AlarmEngine({ rules: [RULE], idleTimeoutMs: 60_000, pollMs: 5, restore: snap });
    const ch2 = two.addProducer();
    await two.start();
    expect(two.restored).toEqual(['rlf']);
    const w2 = new FeedWriter(ch2);
    for (let i = 0; i < 5; i++) w2.add(5, T0 + 21_000 + i, 0, true, false); // the same episode goes on
    w2.add(5, T0 + 400_000, 0, false, false);
    close(w2, 1);
    const later = await two.prepare(1, [0]);
    await two.settle(true);
    await two.stop();
    expect(later.alarms.map((a) => [a.state, a.alarm_id])).toEqual([['cleared', `rlf:5:${T0 + 10_000}`]]);
    expect(later.entries.map((e) => [e.equipment ?? -1, e.state === null])).toEqual([[-1, false], [5, true]]); // evicted once cleared
  }, 30_000);

  it('asks for a transaction when windows are due and no batch comes', async () => {
    const { engine, w } = await startEngine([0, 1], { idleTimeoutMs: 200 });
    for (let i = 0; i < 5; i++) w.add(9, T0 + i, 0, true, false);
    w.add(9, T0 + 100_000, 0, false, false);
    close(w, 1);
    // partition 1 never sends: the watermark waits for it to idle out
    const first = await engine.prepare(1, [0, 1]);
    await engine.settle(true);
    expect(first.alarms).toEqual([]);
    expect(engine.due).toBe(false);
    const until = Date.now() + 5_000;
    while (!engine.due && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(engine.due).toBe(true);
    const late = await engine.prepare(1, [0, 1]);
    await engine.settle(true);
    expect(late.alarms.map((a) => a.state)).toEqual(['raised', 'cleared']);
    await engine.stop();
  }, 30_000);

  it('a dead alarm thread fails every later request fatally (the pipeline ends, systemd restarts it)', async () => {
    const engine = new AlarmEngine({ rules: [RULE], idleTimeoutMs: 60_000, pollMs: 5 });
    engine.addProducer();
    await engine.start();
    await (engine as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread.worker.terminate();
    await expect(engine.prepare(1, [0])).rejects.toMatchObject({ isFatal: true, message: expect.stringMatching(/alarm thread exited/) });
    await expect(engine.discard()).rejects.toMatchObject({ isFatal: true });
    // a thread that has exited is not waited for (the daemon's stop once waited for its exit for good)
    await engine.stop();
  }, 30_000);
});
