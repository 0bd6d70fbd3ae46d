// The native batch produce against the real broker: a pass of records (values in shared memory, keys by range) lands in order, exactly as node-rdkafka's per-record produce writes it, through a full local queue, and refusals are clear errors.
import { describe, expect, it } from 'vitest';
import { TransactionalSink } from '../../src/sink/transactional-producer.js';
import { loadNativeProduce, NATIVE_NO_KEY } from '../../src/sink/native-produce.js';
import { kafkaConnection } from '../../src/kafka/client.js';
import { KafkaError } from '../../src/kafka/errors.js';
import { brokers, consumeAll, createTopics, uniqueTopic } from '../kafka-helpers.js';

function sink(transactionalId: string, native: boolean, own: Record<string, number> = {}): TransactionalSink {
  return new TransactionalSink({
    conn: kafkaConnection(brokers()),
    clientId: 'lux-test-native',
    transactionalId,
    transactionTimeoutMs: 20000,
    callTimeoutMs: 10000,
    native,
    nativeUnavailable: (reason) => {
      throw new Error(`native produce unavailable: ${reason}`);
    },
    own,
  });
}

/** A pass as the pass writer builds one: values back to back in shared memory, keys in their own bytes, 4 words each. */
function pass(n: number, keyCount: number): { values: Uint8Array; keys: Uint8Array; spec: Uint32Array; expected: Array<[string | null, string]> } {
  const values = new Uint8Array(new SharedArrayBuffer(64 * n + 100));
  const keyText = Array.from({ length: keyCount }, (_, k) => `equipment-${k}`);
  const keys = new TextEncoder().encode(keyText.join(''));
  const keyStart: number[] = [];
  keyText.reduce((at, k) => (keyStart.push(at), at + k.length), 0);
  const spec = new Uint32Array(4 * n);
  const expected: Array<[string | null, string]> = [];
  let at = 100; // not at 0: ranges are offsets into the buffer, not into a view
  for (let i = 0; i < n; i++) {
    const value = `{"record":${i},"text":"${'x'.repeat(i % 17)}"}`;
    values.set(new TextEncoder().encode(value), at);
    const k = i % (keyCount + 1);
    spec.set([at, at + value.length, k === keyCount ? NATIVE_NO_KEY : keyStart[k], k === keyCount ? 0 : keyStart[k] + keyText[k].length], i * 4);
    expected.push([k === keyCount ? null : keyText[k], value]);
    at += value.length;
  }
  return { values, keys, spec, expected };
}

/** Every record, grouped by partition in offset order, as [key, value]. */
async function readBack(topic: string, expected: number): Promise<Map<number, Array<[string | null, string]>>> {
  const got = await consumeAll(topic, { isolation: 'read_committed', expected, timeoutMs: 60000 });
  const byPartition = new Map<number, Array<[string | null, string]>>();
  for (const m of got.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const list = byPartition.get(m.partition) ?? [];
    list.push([m.key?.toString() ?? null, m.value?.toString() ?? '']);
    byPartition.set(m.partition, list);
  }
  return byPartition;
}

/** Produces a pass in chunks, as the pass writer does: polls and waits while librdkafka's queue is full. */
function produceAll(s: TransactionalSink, topic: string, p: ReturnType<typeof pass>, from: number, to: number): number {
  let partial = 0;
  while (from < to) {
    const n = s.produceMany(topic, p.values, p.keys, p.spec, from, to);
    if (from + n < to) partial++;
    from += n;
    if (from < to) {
      s.poll();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
  return partial;
}

describe('native batch produce', () => {
  it('is built for this Node (npm run build:native) and runs node-rdkafka\'s librdkafka', () => {
    const load = loadNativeProduce();
    expect(load.reason).toBeUndefined();
    expect(load.native?.librdkafkaVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('writes a pass exactly as node-rdkafka\'s one call a record does: same keys, same partitions, same order, committed', async () => {
    const p = pass(5000, 7);
    const results: Array<Map<number, Array<[string | null, string]>>> = [];
    for (const native of [true, false]) {
      const topic = uniqueTopic(`lux-test-native-${native}`);
      await createTopics([topic], 3);
      const s = sink(`${topic}-t`, native);
      try {
        await s.connect(30000);
        expect(s.nativeProduce).toBe(native);
        await s.begin();
        produceAll(s, topic, p, 0, 2000);
        produceAll(s, topic, p, 2000, 5000);
        expect(s.produced).toBe(5000);
        await s.commit([], undefined as never);
      } finally {
        await s.disconnect(5000);
      }
      results.push(await readBack(topic, 5000));
    }
    const [native, perRecord] = results;
    expect([...native.values()].reduce((n, l) => n + l.length, 0)).toBe(5000);
    // the partitioner chose by key alike (records without a key go to a partition at random, in both), and each
    // partition holds its records in pass order
    const keyed = (m: Map<number, Array<[string | null, string]>>) => new Map([...m].map(([p, l]) => [p, l.filter(([k]) => k !== null)]));
    expect(keyed(native)).toEqual(keyed(perRecord));
    expect([...native.values()].flat().filter(([k]) => k === null).length).toBe(p.expected.filter(([k]) => k === null).length);
    for (const list of native.values()) {
      const order = list.map(([, v]) => JSON.parse(v).record as number);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    const all = new Map(p.expected.map(([k, v]) => [v, k]));
    for (const list of native.values()) for (const [k, v] of list) expect(all.get(v)).toBe(k);
  }, 180_000);

  it('stops at a full local queue and goes on from there: nothing lost, nothing reordered', async () => {
    const topic = uniqueTopic('lux-test-native-full');
    await createTopics([topic], 1);
    const s = sink(`${topic}-t`, true, { 'queue.buffering.max.messages': 100 });
    const p = pass(3000, 0);
    try {
      await s.connect(30000);
      await s.begin();
      const partial = produceAll(s, topic, p, 0, 3000);
      expect(partial).toBeGreaterThan(0); // the queue of 100 filled: the call returned early and resumed
      expect(s.produced).toBe(3000);
      await s.commit([], undefined as never);
    } finally {
      await s.disconnect(5000);
    }
    const got = (await readBack(topic, 3000)).get(0)!;
    expect(got.map(([, v]) => v)).toEqual(p.expected.map(([, v]) => v));
  }, 120_000);

  it('refuses with clear errors: outside a transaction (librdkafka\'s code), ranges outside the buffers, a producer it does not know', async () => {
    const topic = uniqueTopic('lux-test-native-errors');
    await createTopics([topic], 1);
    const s = sink(`${topic}-t`, true);
    const p = pass(10, 1);
    try {
      await s.connect(30000);
      const outside = (() => {
        try {
          s.produceMany(topic, p.values, p.keys, p.spec, 0, 10);
        } catch (err) {
          return err;
        }
      })();
      expect(outside).toBeInstanceOf(KafkaError);
      expect(String(outside)).toMatch(new RegExp(`produce to '${topic}' failed: Local: Erroneous state \\(a transactional producer produces only inside a transaction\\)`));
      await s.begin();
      const bad = new Uint32Array([0, p.values.length + 1, NATIVE_NO_KEY, 0]);
      expect(() => s.produceMany(topic, p.values, p.keys, bad, 0, 1)).toThrow(/a value range is outside values/);
      const badKey = new Uint32Array([0, 1, 0, p.keys.length + 1]);
      expect(() => s.produceMany(topic, p.values, p.keys, badKey, 0, 1)).toThrow(/a key range is outside keys/);
      expect(() => s.produceMany(topic, p.values, p.keys, p.spec, 0, 11)).toThrow(/outside spec/);
      expect(() => loadNativeProduce().native!.produce('no-such-client', topic, p.values, p.keys, p.spec, 0, 1)).toThrow(/no producer named 'no-such-client'/);
      await s.abort();
    } finally {
      await s.disconnect(5000);
    }
  }, 120_000);
});
