// The transactional sink against the real broker: a producer fenced (a fatal error) is replaced under the same transactional.id, and what the old one left open never becomes visible.
import { describe, expect, it } from 'vitest';
import { TransactionalSink } from '../../src/sink/transactional-producer.js';
import { kafkaConnection } from '../../src/kafka/client.js';
import { brokers, consumeAll, createTopics, uniqueTopic } from '../kafka-helpers.js';

function sink(transactionalId: string): TransactionalSink {
  return new TransactionalSink({ conn: kafkaConnection(brokers()), clientId: 'lux-test-sink', transactionalId, transactionTimeoutMs: 20000, callTimeoutMs: 10000 });
}

/** Produces one message and waits until the local queue took it. */
function put(s: TransactionalSink, topic: string, value: string): void {
  expect(s.produce(topic, Buffer.from(value), value)).toBe(true);
}

describe('TransactionalSink', () => {
  it('renews a producer that failed fatally: the new one commits, the old one\'s open transaction is never visible', async () => {
    const topic = uniqueTopic('lux-test-sink-renew');
    await createTopics([topic], 1);
    const id = `${topic}-t`;
    const a = sink(id);
    const b = sink(id);
    try {
      await a.connect(30000);
      await a.begin();
      put(a, topic, 'a: left open, then fenced');
      // another producer with the same transactional.id fences the first (as a transaction the broker aborted on
      // its own does, during a long outage)
      await b.connect(30000);
      await b.disconnect(5000);
      const failed = await a.commit([], undefined as never).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((failed as { kafka?: { isFatal?: boolean } }).kafka?.isFatal, String(failed)).toBe(true);

      await a.renew(30000);
      expect(a.renewals).toBe(1);
      expect(a.inTransaction).toBe(false);
      await a.begin();
      put(a, topic, 'a: after the renewal');
      await a.commit([], undefined as never);
      const got = await consumeAll(topic, { isolation: 'read_committed', expected: 1, timeoutMs: 30000 });
      expect(got.map((m) => m.value?.toString())).toEqual(['a: after the renewal']);
    } finally {
      await a.disconnect(5000);
    }
  }, 120_000);
});
