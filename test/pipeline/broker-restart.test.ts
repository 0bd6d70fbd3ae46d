// The broker stopped and started again under a running daemon: the daemon logs and retries, and once the broker is back nothing is lost and nothing written twice.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker, stopBroker } from '../../src/kafka-local/broker.js';
import { consumeAll, produceFrames } from '../kafka-helpers.js';
import { daemonTopics, expectedRecords, makeFrames, sleep, startDaemon, writeConfig } from './daemon-harness.js';

function require_log(text: string): void {
  if (process.env.TEST_DAEMON_LOG_DIR !== undefined) writeFileSync(`${process.env.TEST_DAEMON_LOG_DIR}/broker-restart.log`, text);
}

// A broker of its own, so the shared test broker stays up for the other test files.
const PORT = 19392;

describe('lux run across a broker restart', () => {
  const saved = process.env.LUX_KAFKA_BROKERS;
  afterAll(async () => {
    process.env.LUX_KAFKA_BROKERS = saved;
    await stopBroker({ port: PORT });
  });

  it('loses nothing and repeats nothing when the broker goes away mid-run and comes back', async () => {
    const bootstrap = await startBroker({ port: PORT });
    process.env.LUX_KAFKA_BROKERS = bootstrap;
    const topics = await daemonTopics('eo-broker', 2);
    // large enough that the daemon is mid-transaction when the broker goes away
    const first = makeFrames(40000, { badEvery: 300 });
    const second = makeFrames(3000, { badEvery: 300, seqBase: 3000 });
    await produceFrames(topics.raw, first);
    const expected = expectedRecords([...first, ...second]);
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t` });
    // the child gets the restartable broker's address through LUX_KAFKA_BROKERS (it overrides kafka.brokers)
    const d = startDaemon(config);
    try {
      await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 1000, timeoutMs: 60000 });
      expect(await stopBroker({ port: PORT })).toBe(true);
      // longer than a transactional call's timeout (20 s here): the daemon's commit fails and it must recover
      await sleep(25000);
      expect(d.child.exitCode, `the daemon must survive the outage:\n${d.output()}`).toBeNull();
      await startBroker({ port: PORT });
      await produceFrames(topics.raw, second);
      const out = await consumeAll(topics.enriched, { isolation: 'read_committed', expected: expected.length, timeoutMs: 120000 });
      await sleep(1500);
      const all = await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 30000 });
      expect(all.length, d.output()).toBe(expected.length);
      expect(out.map((m) => m.value?.toString() ?? '').sort()).toEqual([...expected].sort());
      const dlq = await consumeAll(topics.dlq, { isolation: 'read_committed', timeoutMs: 30000 });
      expect(dlq).toHaveLength([...first, ...second].filter((f) => f.bad).length);
    } finally {
      require_log(d.output());
      d.child.kill('SIGTERM');
      await Promise.race([d.exited, sleep(30000)]);
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
    }
  }, 300_000);
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
