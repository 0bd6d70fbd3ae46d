// The native batches against the real broker: a pass of records (values in shared memory, keys by range) lands in order exactly as node-rdkafka's per-record produce writes it, through a full local queue; a batch read gives the messages node-rdkafka's consume(n) gives; refusals are clear errors.
import { describe, expect, it } from 'vitest';
import { TransactionalSink } from '../../src/sink/transactional-producer.js';
import { loadNative, NATIVE_NO_KEY } from '../../src/kafka/native.js';
import { kafkaConnection, type Message } from '../../src/kafka/client.js';
import { KafkaError } from '../../src/kafka/errors.js';
import { KafkaSource } from '../../src/source/kafka-consumer.js';
import { brokers, consumeAll, createTopics, produceFrames, uniqueTopic } from '../kafka-helpers.js';

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
    const load = loadNative();
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
      expect(() => loadNative().native!.produce('no-such-client', topic, p.values, p.keys, p.spec, 0, 1)).toThrow(/no producer named 'no-such-client'/);
      await s.abort();
    } finally {
      await s.disconnect(5000);
    }
  }, 120_000);
});

/** A source over `topics` reading everything from the start, natively or through node-rdkafka. */
function source(topics: string[], native: boolean, waits: { consumeTimeoutMs?: number; consumeRestMs?: number } = {}): KafkaSource {
  const s = new KafkaSource({
    conn: kafkaConnection(brokers()),
    groupId: `lux-test-native-${native}-${Math.random().toString(36).slice(2)}`,
    clientId: 'lux-test-native',
    topics,
    consumeTimeoutMs: waits.consumeTimeoutMs ?? 100,
    consumeRestMs: waits.consumeRestMs,
    native,
    nativeUnavailable: (reason) => {
      throw new Error(`native consume unavailable: ${reason}`);
    },
  });
  s.setHooks({ assigned: () => undefined, revoking: async () => undefined, failed: () => undefined });
  return s;
}

/** Reads until `n` messages came (in batches of at most 333), as the pipeline's loop does. */
async function readAll(s: KafkaSource, n: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 60000;
  while (got.length < n) {
    if (Date.now() > deadline) throw new Error(`read ${got.length} of ${n} messages in 60 s`);
    const batch = await s.consumeBatch(333);
    expect(batch.length).toBeLessThanOrEqual(333);
    got.push(...batch);
  }
  return got;
}

/** The fields LUX reads, comparable. */
const fields = (m: Message) => ({
  topic: m.topic,
  partition: m.partition,
  offset: m.offset,
  timestamp: m.timestamp,
  size: m.size,
  key: m.key === null || m.key === undefined ? null : Buffer.from(m.key as Buffer).toString('hex'),
  value: m.value === null ? null : m.value.toString('hex'),
});

describe('native batch consume', () => {
  it('reads what node-rdkafka\'s consume(n) reads, field for field, from two topics: values, keys, null keys, null and empty values (librdkafka reads an empty one back as null, in both)', async () => {
    const a = uniqueTopic('lux-test-native-read-a');
    const b = uniqueTopic('lux-test-native-read-b');
    await createTopics([a, b], 3);
    const frames = Array.from({ length: 3000 }, (_, i) => ({
      key: i % 5 === 0 ? null : `key-${i % 37}`,
      value: i % 101 === 0 ? null : i % 103 === 0 ? Buffer.alloc(0) : Buffer.from(`value ${i} ${'v'.repeat(i % 300)}`),
    }));
    await produceFrames(a, frames);
    await produceFrames(b, frames.slice(0, 500));
    const results: Array<Array<ReturnType<typeof fields>>> = [];
    for (const native of [true, false]) {
      const s = source([a, b], native);
      try {
        await s.connect(30000);
        expect(s.nativeConsume).toBe(native);
        s.subscribe();
        const got = await readAll(s, 3500);
        results.push(got.map(fields).sort((x, y) => x.topic.localeCompare(y.topic) || x.partition - y.partition || x.offset - y.offset));
      } finally {
        await s.disconnect(10000);
      }
    }
    expect(results[0]).toHaveLength(3500);
    expect(results[0]).toEqual(results[1]);
    expect(results[0].filter((m) => m.value === null).length).toBeGreaterThan(0);
    expect(results[0].filter((m) => m.key === null).length).toBeGreaterThan(0);
  }, 180_000);

  it('with no rest wait, hands over what is fetched at once: reads of up to 10,000 with a 60 s wait for the first message return the 40 messages there, as node-rdkafka reads them', async () => {
    const topic = uniqueTopic('lux-test-native-rest');
    await createTopics([topic], 2);
    const frames = Array.from({ length: 40 }, (_, i) => ({ key: `key-${i % 7}`, value: Buffer.from(`value ${i}`) }));
    await produceFrames(topic, frames);
    const s = source([topic], true, { consumeTimeoutMs: 60_000, consumeRestMs: 0 });
    const got: Message[] = [];
    try {
      await s.connect(30000);
      expect(s.waitsPerMessage).toBe(false);
      s.subscribe();
      // node-rdkafka's rule would end each of these reads with a 60 s wait for a message that is not there: the
      // test's 50 s budget would run out on the first
      while (got.length < frames.length) got.push(...(await s.consumeBatch(10_000)));
    } finally {
      await s.disconnect(10000);
    }
    const reference = source([topic], false);
    try {
      await reference.connect(30000);
      reference.subscribe();
      const expected = await readAll(reference, frames.length);
      const order = (x: ReturnType<typeof fields>, y: ReturnType<typeof fields>) => x.partition - y.partition || x.offset - y.offset;
      expect(got.map(fields).sort(order)).toEqual(expected.map(fields).sort(order));
    } finally {
      await reference.disconnect(10000);
    }
  }, 50_000);

  it('disconnects cleanly under a read in flight, and names a consumer it does not know', async () => {
    const topic = uniqueTopic('lux-test-native-idle');
    await createTopics([topic], 1);
    const s = source([topic], true);
    await s.connect(30000);
    s.subscribe();
    const reading = s.consumeBatch(1000); // nothing to read: it waits up to its per-message timeout
    await s.disconnect(10000);
    await expect(reading).resolves.toEqual([]);
    const native = loadNative().native!;
    const err = await new Promise<Error | null>((resolve) => native.consume('no-such-consumer', 10, 10, 10, (e) => resolve(e)));
    expect(err?.message).toMatch(/no consumer named 'no-such-consumer'/);
  }, 120_000);
});
