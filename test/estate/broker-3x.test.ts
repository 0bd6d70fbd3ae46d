// Exactly once against a Kafka 3.x broker (3.9.1, KRaft) as well as the 4.x the other tests use: a Java producer's zstd transactions in, LUX killed mid-run and restarted, every committed record once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalBroker, stopBroker, type BrokerOptions } from '../../src/kafka-local/broker.js';
import { consumeAll } from '../kafka-helpers.js';
import { daemonTopics, sleep, startDaemon, writeConfig } from '../pipeline/daemon-harness.js';
import { compileFrameProducer, runJavaProducer } from './java-producer.js';
import { decodeLocally, generatedFrames, sorted } from './estate-harness.js';

/** The 3.x line's last release; LUX_ESTATE_KAFKA_3 tries another. Its own port range (LUX's tests: 19500–19599). */
const BROKER: BrokerOptions = { version: process.env.LUX_ESTATE_KAFKA_3 ?? '3.9.1', port: 19530, progress: (l) => process.stderr.write(`[kafka-3] ${l}\n`) };

describe(`exactly once against Kafka ${BROKER.version}`, () => {
  let started = false;
  const sharedBrokers = process.env.LUX_KAFKA_BROKERS;

  beforeAll(async () => {
    const broker = await startLocalBroker(BROKER);
    started = true;
    expect(broker.version).toBe(BROKER.version);
    // This file's process talks to the 3.x broker only: the helpers and the daemon configs read LUX_KAFKA_BROKERS.
    process.env.LUX_KAFKA_BROKERS = broker.bootstrap;
    compileFrameProducer();
  }, 180_000);

  afterAll(async () => {
    process.env.LUX_KAFKA_BROKERS = sharedBrokers;
    if (started) await stopBroker(BROKER);
  });

  it('a SIGKILL mid-run and a restart: every committed frame\'s records once, aborted ones never', async () => {
    const topics = await daemonTopics('estate-k3');
    const first = generatedFrames({ frames: 400, seed: 31, badShare: 0.02 });
    const second = generatedFrames({ frames: 400, seed: 32, badShare: 0.02 });
    const produce = (frames: Buffer[], id: string) =>
      runJavaProducer({ bootstrap: process.env.LUX_KAFKA_BROKERS!, topic: topics.raw, frames, compression: 'zstd', framesPerTransaction: 25, abortEvery: 4, transactionalId: `${topics.raw}-${id}` });
    const m1 = produce(first, 'java-1');
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t1` });
    const committed = [...first.filter((_, i) => m1[i]!.committed)];

    const d1 = startDaemon(config);
    await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 50, timeoutMs: 60_000 });
    d1.child.kill('SIGKILL');
    await d1.exited;
    const m2 = produce(second, 'java-2');
    committed.push(...second.filter((_, i) => m2[i]!.committed));
    const expected = decodeLocally(committed).records;

    const d2 = startDaemon(config);
    try {
      const out = await consumeAll(topics.enriched, { isolation: 'read_committed', expected: expected.length, timeoutMs: 90_000 });
      await sleep(1500);
      const all = await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 30_000 });
      expect(all.length, d2.output().slice(-3000)).toBe(expected.length);
      expect(sorted(out.map((m) => m.value?.toString() ?? ''))).toEqual(sorted(expected));
    } finally {
      d2.child.kill('SIGTERM');
      await d2.exited;
    }
  });
});
