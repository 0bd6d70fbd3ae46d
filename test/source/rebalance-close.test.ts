// The source against the real broker: every rebalance is acknowledged whatever its hooks do — a revocation hook that never finishes, a hook that throws — so partitions still move and the consumer's close returns (an unacknowledged rebalance held librdkafka's close, and the process's exit, for good).
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaConnection, type TopicPartition } from '../../src/kafka/client.js';
import { KafkaSource, type RebalanceHooks } from '../../src/source/kafka-consumer.js';
import { brokers, createTopics, uniqueTopic } from '../kafka-helpers.js';

const PARTITIONS = 4;
const WAIT_MS = 60_000;

/** A source in `group` over `topic`, read in a loop (rebalances are served by the reads), with the given hooks. */
function member(topic: string, group: string, name: string, hooks: Partial<RebalanceHooks>) {
  const source = new KafkaSource({
    conn: kafkaConnection(brokers()),
    groupId: group,
    clientId: `lux-test-${name}`,
    topics: [topic],
    consumeTimeoutMs: 50,
    consumeRestMs: 0,
    native: true,
    nativeUnavailable: (reason) => {
      throw new Error(`native consume unavailable: ${reason}`);
    },
  });
  const failures: Array<{ during: string; message: string }> = [];
  source.setHooks({
    assigned: hooks.assigned ?? (() => undefined),
    revoking: hooks.revoking ?? (async () => undefined),
    failed: (err, during) => failures.push({ during, message: err.message }),
  });
  let reading = true;
  let loop: Promise<void> = Promise.resolve();
  return {
    source,
    failures,
    async start(): Promise<void> {
      await source.connect(WAIT_MS);
      source.subscribe();
      loop = (async () => {
        while (reading) source.advance(await source.consumeBatch(100).catch(() => []));
      })();
    },
    /** Ends the reads, then closes, as the pipeline does. */
    async close(timeoutMs: number) {
      reading = false;
      await loop;
      return source.disconnect(timeoutMs);
    },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const open: Array<ReturnType<typeof member>> = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close(5_000).catch(() => undefined);
});

/** A member `a` of a fresh group over a fresh topic, started, with `hooks`; closed after the test. */
async function first(prefix: string, hooks: Partial<RebalanceHooks>) {
  const topic = uniqueTopic(prefix);
  await createTopics([topic], PARTITIONS);
  const group = `${topic}-group`;
  const a = member(topic, group, 'a', hooks);
  open.push(a);
  await a.start();
  return { a, topic, group };
}

/** `a` (with `hooks`) holding every partition, then a member `b` joining its group: a's partitions start to move. */
async function secondJoins(prefix: string, hooks: Partial<RebalanceHooks>) {
  const { a, topic, group } = await first(prefix, hooks);
  await until('a to hold every partition', () => a.source.assigned.size === PARTITIONS);
  const b = member(topic, group, 'b', {});
  open.push(b);
  await b.start();
  return { a, b };
}

describe('the source acknowledges every rebalance', () => {
  it('a revocation whose hook never finishes: the close stops waiting, lets the partitions go and returns; the other member takes them all', async () => {
    const revoked: TopicPartition[][] = [];
    const { a, b } = await secondJoins('lux-rebalance-hang', {
      revoking: (tps) => {
        revoked.push(tps);
        return new Promise<void>(() => undefined); // as a revocation waiting on a loop that has ended
      },
    });
    await until('a revocation on a', () => revoked.length > 0);

    const t0 = Date.now();
    const closed = await a.close(2_000);
    expect(closed).toEqual({ rebalanceUnfinished: true, closed: true });
    expect(Date.now() - t0).toBeLessThan(WAIT_MS);
    await until('b to hold every partition once a has left', () => b.source.assigned.size === PARTITIONS);
    expect(a.failures).toEqual([]);
    expect(await b.close(10_000)).toEqual({ rebalanceUnfinished: false, closed: true });
  });

  it('a revocation whose hook throws: said once, and the partitions move all the same', async () => {
    const { a, b } = await secondJoins('lux-rebalance-throw', {
      revoking: async () => {
        throw new Error('handing over failed');
      },
    });
    await until('the partitions to be shared', () => a.source.assigned.size + b.source.assigned.size === PARTITIONS && b.source.assigned.size > 0);
    expect(a.failures.length).toBeGreaterThan(0);
    expect(a.failures[0]).toEqual({ during: 'revocation', message: 'handing over failed' });
    expect(await a.close(10_000)).toEqual({ rebalanceUnfinished: false, closed: true });
    expect(await b.close(10_000)).toEqual({ rebalanceUnfinished: false, closed: true });
  });

  it('an assignment whose hook throws: said, nothing read from it, and the close returns', async () => {
    const { a } = await first('lux-assign-throw', {
      assigned: async () => {
        throw new Error('state cannot be restored');
      },
    });
    await until('the failure to be said', () => a.failures.length > 0);
    expect(a.failures[0]).toEqual({ during: 'assignment', message: 'state cannot be restored' });
    expect(a.source.assigned.size).toBe(0);
    expect(await a.close(10_000)).toEqual({ rebalanceUnfinished: false, closed: true });
  });
});
