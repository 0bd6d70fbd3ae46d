// The feed ring alone: failures travel one entry each, other records fold into one progress mark per partition, batch marks close a batch, a full ring refuses rather than drops.
import { describe, expect, it } from 'vitest';
import {
  createChannel,
  createSignal,
  E_EQUIPMENT,
  E_PARTITION_FLAGS,
  ENTRY_WORDS,
  entryTime,
  FeedError,
  FeedReader,
  FeedWriter,
  FLAG_BATCH,
  FLAG_FAILURE,
  FLAG_PROGRESS,
} from '../../src/alarms/feed.js';

const T = Date.UTC(2024, 5, 1, 12); // above 2^32 ms: the time spans both words

function drain(reader: FeedReader): Array<{ eq: number; time: number; partition: number; flags: number }> {
  const buf = new Uint32Array(1024 * ENTRY_WORDS);
  const out: Array<{ eq: number; time: number; partition: number; flags: number }> = [];
  for (let n = reader.poll(buf); n > 0; n = reader.poll(buf)) {
    for (let i = 0; i < n; i++) {
      const w = buf[i * ENTRY_WORDS + E_PARTITION_FLAGS];
      out.push({ eq: buf[i * ENTRY_WORDS + E_EQUIPMENT], time: entryTime(buf, i), partition: w & 0xffff, flags: w >>> 16 });
    }
  }
  return out;
}

describe('feed ring', () => {
  it('carries each failure as an entry and folds successes into one progress mark per partition, before the batch mark', () => {
    const ch = createChannel(0, createSignal(), 256);
    const w = new FeedWriter(ch);
    expect(w.add(5, T, 2, true, false)).toBe(true);
    expect(w.add(6, T + 10, 2, false, false)).toBe(true);
    expect(w.add(7, T + 30, 2, false, false)).toBe(true);
    expect(w.add(8, T + 20, 3, false, false)).toBe(true);
    expect(w.endBatch(42)).toBe(true);
    expect(w.flush()).toBe(true);
    const got = drain(new FeedReader(ch));
    expect(got[0]).toEqual({ eq: 5, time: T, partition: 2, flags: FLAG_FAILURE });
    const progress = got.filter((e) => e.flags === FLAG_PROGRESS);
    // the largest event time per partition, and how many records the mark stands for
    expect(progress).toEqual(
      expect.arrayContaining([
        { eq: 2, time: T + 30, partition: 2, flags: FLAG_PROGRESS },
        { eq: 1, time: T + 20, partition: 3, flags: FLAG_PROGRESS },
      ]),
    );
    expect(got[got.length - 1]).toEqual({ eq: 0, time: 42, partition: 0, flags: FLAG_BATCH });
    expect(w.records).toBe(4);
    expect(w.failures).toBe(1);
  });

  it('refuses a record when both its local batch and the ring are full, and takes it once the reader drained the ring', () => {
    const ch = createChannel(1, createSignal(), 4);
    const w = new FeedWriter(ch, 4);
    const reader = new FeedReader(ch);
    let taken = 0;
    while (w.add(taken, T + taken, 0, true, false)) taken++;
    // four in the ring (flushed to make room), four in the local batch
    expect(taken).toBe(8);
    expect(drain(reader).map((e) => e.eq)).toEqual([0, 1, 2, 3]);
    expect(w.add(99, T, 0, true, false)).toBe(true);
    expect(w.flush()).toBe(false); // the ring holds 4 of the 5 waiting
    expect(drain(reader).map((e) => e.eq)).toEqual([4, 5, 6, 7]);
    expect(w.flush()).toBe(true);
    expect(drain(reader).map((e) => e.eq)).toEqual([99]);
  });

  it('rejects a ring of no entries and a partition outside 0..65535 with a located error', () => {
    expect(() => createChannel(3, createSignal(), 0)).toThrow(FeedError);
    expect(() => createChannel(3, createSignal(), 0)).toThrow(/feed ring 3/);
    const w = new FeedWriter(createChannel(4, createSignal(), 16));
    expect(() => w.add(1, T, 70_000, false, false)).toThrow(/feed ring 4: partition 70000 is outside 0\.\.65535/);
  });
});
