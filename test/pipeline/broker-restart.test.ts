// The broker stopped and started again under a running daemon: the daemon logs and retries, and once the broker is back nothing is lost and nothing written twice, alarms included.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker, stopBroker } from '../../src/kafka-local/broker.js';
import { consumeAll, produceFrames } from '../kafka-helpers.js';
import { daemonTopics, expectedRecords, makeFrames, sleep, startDaemon, writeConfig } from './daemon-harness.js';
import { connectClient, createConsumer, disconnectClient, kafkaConnection, queryWatermarks } from '../../src/kafka/client.js';
import { deleteTopics } from '../../src/kafka/topics.js';
import { AlarmCore } from '../../src/alarms/core.js';
import { createChannel, createSignal, FeedWriter } from '../../src/alarms/feed.js';
import type { AlarmEvent, RuleSpec } from '../../src/alarms/rules.js';

// Failures are every 7th record, 2 records a frame, a frame of each of 50 equipment every 500 ms: about 5.7 failures
// per equipment in 10 s, so windows on both sides of the threshold, many raises and clears.
const RULE: RuleSpec = { name: 'r', window_ms: 10000, slide_ms: 5000, threshold: 6, clear_below: 5, lateness_ms: 1000 };

/**
 * The alarms the rule decides over these records, computed on one core in one pass. Event time grows with the frame
 * in every partition, so no record is ever late and every window's count is fixed: the daemon must decide exactly
 * these, however its transactions were cut, aborted and replayed. Only windows ending by `until` are compared.
 */
function referenceAlarms(records: string[], until: number): string[] {
  const core = new AlarmCore([RULE], 60_000);
  const ch = createChannel(0, createSignal(), 1 << 20);
  core.attach(ch);
  const w = new FeedWriter(ch);
  const out: AlarmEvent[] = [];
  for (const line of records) {
    const r = JSON.parse(line) as { equipment_id: number; event_time: string; result: string };
    expect(w.add(r.equipment_id, Date.parse(r.event_time), 0, r.result !== 'success', false)).toBe(true);
  }
  w.flush();
  core.drain(0);
  core.advance(0, out);
  return out.filter((a) => a.windowEndMs <= until).map((a) => `${a.alarmId} ${a.state} ${a.count}`).sort();
}

/** Keeps the daemon's log of the run in TEST_DAEMON_LOG_DIR when set (one file per run: repeated runs keep theirs). */
function saveLog(text: string): void {
  const dir = process.env.TEST_DAEMON_LOG_DIR;
  if (dir !== undefined && dir !== '') writeFileSync(`${dir}/broker-restart-${new Date().toISOString().replace(/[:.]/g, '-')}.log`, text);
}

// A broker of its own, so the shared test broker stays up for the other test files (TEST_RESTART_BROKER_PORT moves
// it, and its controller on the next port, where several checkouts share a machine).
const PORT = Number(process.env.TEST_RESTART_BROKER_PORT ?? 19392);
// A JVM started on a busy host (the whole suite, or other work, on 2 cores) can take minutes to recover its logs
// after the SIGKILL and become ready; seen over 90 s at a load of 24.
const BROKER_READY_MS = 240_000;

/**
 * Waits until at least `min` records of `topic` are committed and more sit in a transaction still open: the high
 * watermark (what a read_uncommitted reader sees) past the last stable offset (what a read_committed one sees; a
 * client's watermark query answers with its own isolation level). Crashing the broker then hits an open transaction
 * with the daemon busy, not a daemon that happens to sit between two transactions with nothing fetched.
 */
async function transactionOpenPast(topic: string, partitions: number, min: number, timeoutMs: number): Promise<{ committed: number; written: number }> {
  const conn = kafkaConnection(process.env.LUX_KAFKA_BROKERS as string);
  const reader = (isolation: string) => createConsumer(conn, `lux-test-watermarks-${isolation}`, { 'group.id': `lux-test-watermarks-${isolation}`, 'isolation.level': isolation });
  const committedReader = reader('read_committed');
  const writtenReader = reader('read_uncommitted');
  await connectClient(committedReader, 'watermark reader', 'consumer', conn.brokers, 30000);
  await connectClient(writtenReader, 'watermark reader', 'consumer', conn.brokers, 30000);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let committed = 0;
      let written = 0;
      for (let p = 0; p < partitions; p++) {
        committed += (await queryWatermarks(committedReader, topic, p, 5000)).highOffset;
        written += (await queryWatermarks(writtenReader, topic, p, 5000)).highOffset;
      }
      if (committed >= min && written > committed) return { committed, written };
      if (Date.now() > deadline) throw new Error(`${topic}: no transaction open past ${min} committed records within ${timeoutMs} ms (${committed} committed, ${written} written)`);
      await sleep(5);
    }
  } finally {
    await disconnectClient(committedReader);
    await disconnectClient(writtenReader);
  }
}

describe('lux run across a broker restart', () => {
  const saved = process.env.LUX_KAFKA_BROKERS;
  afterAll(async () => {
    process.env.LUX_KAFKA_BROKERS = saved;
    await stopBroker({ port: PORT });
  });

  it('loses nothing and repeats nothing when the broker goes away mid-run and comes back', async () => {
    const bootstrap = await startBroker({ port: PORT, readyTimeoutMs: BROKER_READY_MS });
    process.env.LUX_KAFKA_BROKERS = bootstrap;
    const topics = await daemonTopics('eo-broker', 2);
    const first = makeFrames(40000, { badEvery: 300 });
    const second = makeFrames(3000, { badEvery: 300, seqBase: 40000, timeOffsetMs: 40000 * 10 });
    await produceFrames(topics.raw, first);
    const expected = expectedRecords([...first, ...second]);
    const config = writeConfig(topics, {
      group: `${topics.raw}-g`,
      transactionalId: `${topics.raw}-t`,
      // partitions never count as idle here: every window closes on event time alone, as in the reference
      extra: ['alarms:', '  idle_partition_ms: 3600000', '  rules:', `    - ${JSON.stringify(RULE)}`].join('\n'),
    });
    // the child gets the restartable broker's address through LUX_KAFKA_BROKERS (it overrides kafka.brokers)
    const d = startDaemon(config);
    try {
      // the broker dies (SIGKILL: no graceful shutdown to finish the commit in flight) while the daemon works through
      // the backlog, once it has committed some of it and holds more in an open transaction: that transaction then
      // fails, whatever the machine's load made of the start-up
      const { written } = await transactionOpenPast(topics.enriched, 2, 2000, 60000);
      expect(await stopBroker({ port: PORT }, { crash: true })).toBe(true);
      expect(written, 'the backlog was done before the outage; make it longer').toBeLessThan(expected.length - 3000);
      // longer than a transactional call's timeout (20 s here): the daemon's commit fails and it must recover
      await sleep(25000);
      expect(d.child.exitCode, 'the daemon must survive the outage').toBeNull();
      await startBroker({ port: PORT, readyTimeoutMs: BROKER_READY_MS });
      await produceFrames(topics.raw, second);
      const out = await consumeAll(topics.enriched, { isolation: 'read_committed', expected: expected.length, timeoutMs: 120000 });
      await sleep(1500);
      const all = await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 30000 });
      expect(all.length).toBe(expected.length);
      expect(out.map((m) => m.value?.toString() ?? '').sort()).toEqual([...expected].sort());
      const dlq = await consumeAll(topics.dlq, { isolation: 'read_committed', timeoutMs: 30000 });
      expect(dlq).toHaveLength([...first, ...second].filter((f) => f.bad).length);
      // the alarms: each decided once, with the counts of windows that counted every record once, across the aborts
      // (windows ending by a second before the last window either partition may not have closed yet)
      const lastEvent = Math.max(...expected.map((l) => Date.parse((JSON.parse(l) as { event_time: string }).event_time)));
      const until = lastEvent - RULE.lateness_ms - RULE.window_ms;
      const alarms = (await consumeAll(topics.alarms, { isolation: 'read_committed', timeoutMs: 30000 }))
        .map((m) => JSON.parse(m.value?.toString() ?? '{}') as { alarm_id: string; state: string; count: number; window_end: string })
        .filter((a) => Date.parse(a.window_end) <= until)
        .map((a) => `${a.alarm_id} ${a.state} ${a.count}`)
        .sort();
      const reference = referenceAlarms(expected, until);
      expect(reference.length).toBeGreaterThan(50);
      expect(alarms).toEqual(reference);
      // the outage hit a transaction: its calls failed and were retried, or it was aborted and the input rewound
      const recovered = /transaction failed; aborting and rewinding|transactional call failed; retrying/.test(d.output());
      expect(recovered, 'the outage hit no transaction (no failed or retried transactional call logged)').toBe(true);
    } catch (err) {
      // whatever failed (an assertion, a read that timed out), the daemon's own account of the run goes with it
      process.stderr.write(`--- daemon log of the failed broker-restart run ---\n${d.output()}\n--- end of daemon log ---\n`);
      throw err;
    } finally {
      saveLog(d.output());
      d.child.kill('SIGTERM');
      await Promise.race([d.exited, sleep(30000)]);
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
      // the broker's data outlives the run: every partition left behind is one more to recover after the next SIGKILL
      await deleteTopics(kafkaConnection(bootstrap), [...Object.values(topics), `${topics.raw}-g.kpis.partials`], 30_000, 'lux-test-admin').catch(() => undefined);
    }
  }, 600_000);
});

describe('lux run with the broker down at start', () => {
  it('logs each attempt and keeps retrying instead of exiting', async () => {
    const topics = { raw: 'r', enriched: 'e', dlq: 'd', alarms: 'a', alarmState: 's', refdata: 'f' };
    const saved = process.env.LUX_KAFKA_BROKERS;
    process.env.LUX_KAFKA_BROKERS = '127.0.0.1:1'; // nothing listens there
    const config = writeConfig(topics, { group: 'g', transactionalId: 't' });
    const d = startDaemon(config);
    process.env.LUX_KAFKA_BROKERS = saved;
    try {
      const deadline = Date.now() + 40000;
      while ((d.output().match(/unreachable at start; retrying/g) ?? []).length < 2 && Date.now() < deadline) await sleep(250);
      expect((d.output().match(/unreachable at start; retrying/g) ?? []).length, d.output()).toBeGreaterThanOrEqual(2);
      expect(d.output()).toContain('127.0.0.1:1');
      expect(d.child.exitCode).toBeNull();
    } finally {
      d.child.kill('SIGKILL');
      await d.exited;
    }
  });
});
