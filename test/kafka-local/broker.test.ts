// The local development broker: it is ready, `start` is idempotent, and records round-trip with keys, headers and partitions.
import { describe, expect, it } from 'vitest';
import { brokerStatus, startBroker } from '../../src/kafka-local/broker.js';
import { brokers, consumeAll, createTopics, produceFrames, uniqueTopic } from '../kafka-helpers.js';

describe('local broker', () => {
  it('reports the broker the tests use as ready', async () => {
    const s = await brokerStatus();
    // Only meaningful when the tests run against the local broker rather than LUX_KAFKA_BROKERS elsewhere.
    if (s.bootstrap !== brokers()) return;
    expect(s.ready).toBe(true);
  });

  it('start on a running broker reports it instead of starting a second', async () => {
    const before = await brokerStatus();
    if (before.bootstrap !== brokers()) return;
    const bootstrap = await startBroker({ progress: () => {} });
    const after = await brokerStatus();
    expect(bootstrap).toBe(before.bootstrap);
    expect(after.pid).toBe(before.pid);
  });

  it('round-trips records with their keys, headers and partitions', async () => {
    const topic = uniqueTopic('lux-test-roundtrip');
    await createTopics([topic], 3);
    const frames = Array.from({ length: 30 }, (_, i) => ({
      key: `equipment-${i % 5}`,
      value: Buffer.from([i, 255 - i, 0, 7]),
      partition: i % 3,
      headers: [{ key: 'seq', value: String(i) }],
    }));
    const acks = await produceFrames(topic, frames);
    expect(acks.map((a) => a.partition)).toEqual(frames.map((f) => f.partition));

    const got = await consumeAll(topic, { isolation: 'read_uncommitted' });
    expect(got).toHaveLength(30);
    for (const r of got) {
      const i = Number(r.headers.find((h) => h.key === 'seq')?.value.toString());
      expect(r.partition).toBe(i % 3);
      expect(r.key?.toString()).toBe(`equipment-${i % 5}`);
      expect(r.value).toEqual(Buffer.from([i, 255 - i, 0, 7]));
      expect(acks[i]).toEqual({ partition: r.partition, offset: r.offset });
    }
  });

  it('reads an empty topic to its end and returns nothing', async () => {
    const topic = uniqueTopic('lux-test-empty');
    await createTopics([topic], 2);
    expect(await consumeAll(topic)).toEqual([]);
  });
});
