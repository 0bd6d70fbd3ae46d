// Taking up assigned partitions: the committed window state of those that have one is restored, and those without one hold the watermark back from the start, however slow the main thread is between the steps.
import { afterEach, expect, it } from 'vitest';
import { AlarmEngine } from '../../src/alarms/alarm-thread.js';
import { takeUpPartitions } from '../../src/alarms/assignment.js';
import { changelogKey } from '../../src/alarms/changelog.js';
import { AlarmCore } from '../../src/alarms/core.js';
import { createChannel, createSignal, FeedWriter } from '../../src/alarms/feed.js';
import type { AlarmEvent, RuleSpec } from '../../src/alarms/rules.js';
import { kafkaConnection } from '../../src/kafka/client.js';
import type { Logger } from '../../src/service/logger.js';
import { brokers, createTopics, produceFrames, uniqueTopic } from '../kafka-helpers.js';

const RULE: RuleSpec = { name: 'r', window_ms: 10_000, slide_ms: 5_000, threshold: 3, clear_below: 1, lateness_ms: 1_000 };
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 26, 10);

/** One failure or success: equipment, event time, input partition. */
interface Entry {
  eq: number;
  t: number;
  partition: number;
  failure: boolean;
}

// Partition 0: equipment 1 fails every second for 40 s. Partition 1: equipment 2 fails three times in the first
// window, then a success 40 s on moves its watermark past the windows of both.
const PARTITION_0: Entry[] = Array.from({ length: 40 }, (_, i) => ({ eq: 1, t: T0 + i * 1000, partition: 0, failure: true }));
const PARTITION_1: Entry[] = [
  ...[1000, 2000, 3000].map((dt) => ({ eq: 2, t: T0 + dt, partition: 1, failure: true })),
  { eq: 3, t: T0 + 40_000, partition: 1, failure: false },
];

const ids = (events: Pick<AlarmEvent, 'alarmId' | 'state'>[]) => events.map((e) => `${e.alarmId} ${e.state}`).sort();

/** The alarms one core decides over every entry, in event-time order, evaluated once at the end. */
function reference(): string[] {
  const core = new AlarmCore([RULE], HOUR);
  const ch = createChannel(0, createSignal(), 4096);
  core.attach(ch);
  const w = new FeedWriter(ch);
  for (const e of [...PARTITION_0, ...PARTITION_1].sort((a, b) => a.t - b.t)) w.add(e.eq, e.t, 0, e.failure, false);
  w.flush();
  core.drain(0);
  return ids(core.advance(0));
}

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

let engine: AlarmEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

it('a partition taken up without committed state holds the watermark back while another partition is restored, even with the main thread slow in between', async () => {
  // What the previous owner committed: partition 0's windows, none decided (partition 1 had sent nothing, so it held
  // the watermark back), partition 1 nothing at all.
  const previous = new AlarmCore([RULE], HOUR);
  const ch = createChannel(0, createSignal(), 4096);
  previous.attach(ch);
  const pw = new FeedWriter(ch);
  previous.assign([0, 1], 0);
  for (const e of PARTITION_0) pw.add(e.eq, e.t, e.partition, e.failure, false);
  pw.endBatch(1);
  pw.flush();
  const committed = previous.prepare(1, 0, [0, 1]);
  previous.settle(true);
  expect(committed.events).toEqual([]);
  expect(new Set(committed.entries.map((e) => e.partition))).toEqual(new Set([0]));

  const groupId = 'g';
  const stateTopic = uniqueTopic('alarm-assignment-state');
  await createTopics([stateTopic], 1);
  await produceFrames(stateTopic, committed.entries.map((e) => ({ key: changelogKey(groupId, e), value: e.state === null ? null : Buffer.from(e.state) })));

  engine = new AlarmEngine({ rules: [RULE], idleTimeoutMs: HOUR, pollMs: 5 });
  const feed = new FeedWriter(engine.addProducer());
  await engine.start();
  const running = engine;
  // A loaded host: the main thread answers late after the restore. The alarm thread meanwhile keeps computing its
  // watermark (it checks whether windows are due every poll).
  const slow = {
    restore: async (states: Buffer[]) => {
      const rules = await running.restore(states);
      await new Promise((r) => setTimeout(r, 300));
      return rules;
    },
    assign: (partitions: number[]) => running.assign(partitions),
  } as unknown as AlarmEngine;
  await takeUpPartitions({ engine: slow, conn: kafkaConnection(brokers()), stateTopic, groupId, log: silent, timeoutMs: 30_000 }, [0, 1]);

  // A transaction before partition 1's first records (the thread said windows were due, or another side wanted one):
  // nothing can be decided yet, partition 1 has sent nothing.
  const early = await running.prepare(0, [0, 1]);
  await running.settle(true);
  expect(early.alarms.map((a) => a.alarm_id), 'decided before partition 1 sent anything').toEqual([]);
  // partition 1's first records come now: they belong to windows nobody has decided yet, so they count
  for (const e of PARTITION_1) feed.add(e.eq, e.t, e.partition, e.failure, false);
  feed.endBatch(1);
  feed.flush();
  const { alarms } = await running.prepare(1, [0, 1]);
  await running.settle(true);
  const decided = ids(alarms.map((a) => ({ alarmId: a.alarm_id, state: a.state })));
  expect(decided.filter((a) => a.startsWith('r:2:')), 'equipment 2 (partition 1) must raise and clear in its first windows').not.toEqual([]);
  expect(decided).toEqual(reference());
});
