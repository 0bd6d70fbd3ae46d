// Transactions on the local broker: a read_committed consumer sees committed records and never aborted ones.
import { describe, expect, it } from 'vitest';
import { consumeAll, createTopics, produceFrames, uniqueTopic } from '../kafka-helpers.js';

const frames = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ key: `${tag}-${i}`, value: `${tag} record ${i}` }));

describe('transactions', () => {
  it('a read_committed consumer sees a committed transaction', async () => {
    const topic = uniqueTopic('lux-test-txn-commit');
    await createTopics([topic], 2);
    await produceFrames(topic, frames('committed', 10), { transaction: 'commit' });
    const got = await consumeAll(topic, { isolation: 'read_committed' });
    expect(got.map((r) => r.key?.toString()).sort()).toEqual(frames('committed', 10).map((f) => f.key).sort());
  });

  it('a read_committed consumer never sees an aborted transaction, a read_uncommitted one does', async () => {
    const topic = uniqueTopic('lux-test-txn-abort');
    await createTopics([topic], 2);
    await produceFrames(topic, frames('aborted', 5), { transaction: 'abort' });
    await produceFrames(topic, frames('committed', 5), { transaction: 'commit' });
    await produceFrames(topic, frames('aborted-late', 5), { transaction: 'abort' });

    const committed = await consumeAll(topic, { isolation: 'read_committed' });
    expect(committed.map((r) => r.value?.toString()).sort()).toEqual(frames('committed', 5).map((f) => f.value).sort());

    const everything = await consumeAll(topic, { isolation: 'read_uncommitted' });
    expect(everything).toHaveLength(15);
  });

  it('records of one transactional.id across transactions keep their commit order', async () => {
    const topic = uniqueTopic('lux-test-txn-order');
    await createTopics([topic], 1);
    await produceFrames(topic, frames('first', 3), { transaction: 'commit', transactionalId: `${topic}-producer` });
    await produceFrames(topic, frames('second', 3), { transaction: 'commit', transactionalId: `${topic}-producer` });
    const got = await consumeAll(topic, { expected: 6 });
    expect(got.map((r) => r.key?.toString())).toEqual([...frames('first', 3), ...frames('second', 3)].map((f) => f.key));
  });
});
