// The main thread's side: one message per shard with something to say, the marks of the owned raw partitions in each, idle announcements, and an abort that puts the marks back.
import { describe, expect, it } from 'vitest';
import { ChunkReader, openPartialsMessage } from '../../src/kpis/partials-codec.js';
import { shardOfKey } from '../../src/kpis/shard.js';
import { TransactionPartials } from '../../src/kpis/transaction-partials.js';
import { BATCH_PARTIALS, foldSynthetic, synthInstances } from './harness.js';

const W = 60_000;
const T0 = Date.UTC(2025, 0, 1);

const header = (value: Buffer, shard: number) => openPartialsMessage(value, shard, 0, W).header;
const entries = (value: Buffer, shard: number): number => {
  const { reader } = openPartialsMessage(value, shard, 0, W);
  return new ChunkReader().readChunks(reader, null);
};

describe.each(BATCH_PARTIALS)('transaction partials (%s)', (_name, make) => {
  const synth = synthInstances(make);
  it('concatenate the chunks of the transaction\'s batches per shard, and send the marks to every shard when they move', () => {
    const inst = synth(W, 4, [0, 1], 0, 10_000);
    inst.batch([{ time: T0, equipment: 1 }], 0, 5).batch([{ time: T0 + 7, equipment: 1 }, { time: T0 + 3, equipment: 2 }], 1, 5);
    const messages = inst.commit(5);
    expect(messages.map((m) => m.shard)).toEqual([0, 1, 2, 3]); // marks moved: every shard hears
    for (const m of messages) {
      expect(header(m.value, m.shard).marks).toEqual([
        { partition: 0, timeMs: T0, idle: false },
        { partition: 1, timeMs: T0 + 7, idle: false },
      ]);
    }
    // 2 batches: equipment 1's 4 keys in each; equipment 2 adds cell, equipment and region (its vendor is 1's)
    expect(messages.reduce((n, m) => n + entries(m.value, m.shard), 0)).toBe(11);
    // nothing new, nothing due: no message
    expect(inst.tp.due(6)).toBe(false);
    expect(inst.commit(6)).toEqual([]);
    // records that do not move the marks go to their keys' shards only
    inst.batch([{ time: T0 - 5, equipment: 4 }], 0, 7); // equipment 4: cell and equipment keys only
    const shards = [...new Set([shardOfKey('cell', '401', 4), shardOfKey('equipment', '4', 4)])].sort();
    expect(inst.commit(7).map((m) => m.shard)).toEqual(shards);
  });

  it('announce a partition silent for the idle timeout once when it flips, again every timeout, and not after it is revoked', () => {
    const tp = new TransactionPartials({ windowMs: W, shards: 2, idleTimeoutMs: 1_000 });
    tp.assign([3, 4], 0);
    expect(tp.due(999)).toBe(false);
    expect(tp.prepare(999)).toEqual([]); // assigned, silent, not idle yet: not announced (it holds the watermark)
    tp.settle(true);
    expect(tp.due(1_000)).toBe(true);
    const flip = tp.prepare(1_000);
    tp.settle(true);
    expect(flip.map((m) => header(m.value, m.shard).marks)).toEqual([0, 1].map(() => [
      { partition: 3, timeMs: -Infinity, idle: true },
      { partition: 4, timeMs: -Infinity, idle: true },
    ]));
    expect(tp.due(1_999)).toBe(false);
    expect(tp.due(2_000)).toBe(true);
    expect(tp.prepare(2_000)).toHaveLength(2);
    tp.settle(true);
    tp.revoke([3]);
    expect(header(tp.prepare(3_000)[0].value, 0).marks).toEqual([{ partition: 4, timeMs: -Infinity, idle: true }]);
    tp.settle(true);
  });

  it('bring a partition back from idle with its records', () => {
    const inst = synth(W, 1, [0], 0, 1_000);
    inst.commit(1_000);
    inst.batch([{ time: T0, equipment: 1 }], 0, 1_200);
    expect(header(inst.commit(1_200)[0].value, 0).marks).toEqual([{ partition: 0, timeMs: T0, idle: false }]);
  });

  it('put the marks back and drop the chunks when the transaction aborts', () => {
    const inst = synth(W, 1, [0], 0, 1_000);
    inst.batch([{ time: T0, equipment: 1 }], 0, 10);
    inst.commit(10);
    inst.batch([{ time: T0 + 5_000, equipment: 1 }], 0, 20);
    expect(inst.tp.pendingChunks).toBe(1);
    inst.tp.prepare(20);
    inst.tp.settle(false);
    expect(inst.tp.pendingChunks).toBe(0);
    // the aborted records come again after the rewind; until then the marks are the committed ones
    expect(inst.commit(30)).toEqual([]);
    expect(inst.tp.due(1_010)).toBe(true); // idle since its last committed record (10)
  });

  it('refuse a batch that is not KPI partials', () => {
    const tp = new TransactionPartials({ windowMs: W, shards: 1 });
    expect(() => tp.add(Buffer.from('hello world'), 0)).toThrow(/batch partials: bad magic/);
    const p = synth(W, 1, [0]).partials;
    foldSynthetic(p, [{ time: T0, equipment: 1 }], 0);
    const bytes = p.finish();
    expect(() => tp.add(bytes.subarray(0, bytes.length - 1), 0)).toThrow(/truncated/);
  });
});
