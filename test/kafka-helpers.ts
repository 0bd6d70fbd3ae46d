// Shared Kafka test fixtures: the broker address, topic creation, producing frames (plain or in a transaction) and reading a topic back.
import { randomUUID } from 'node:crypto';
import {
  committedOffsets,
  createConsumer,
  createProducer,
  kafkaConnection,
  KAFKA_CODES,
  OFFSET_BEGINNING,
  type LibrdKafkaError,
  type Message,
  type MessageHeader,
} from '../src/kafka/client.js';
import { readMetadata } from '../src/kafka/metadata.js';
import { createTopics as createProductTopics } from '../src/kafka/topics.js';

/**
 * The offsets a consumer group has committed on `topic`, as `partition@offset` (-1001: none), read by a consumer that
 * does not join the group (read_committed: offsets of a transaction still open are waited for).
 */
export async function groupOffsets(group: string, topic: string, partitions: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  const consumer = createConsumer(kafkaConnection(brokers()), 'lux-test-offsets', { 'group.id': group, 'enable.auto.commit': false, 'isolation.level': 'read_committed' }, {});
  await call('connect', (cb) => consumer.connect({ timeout: timeoutMs }, cb));
  try {
    const tps = await committedOffsets(consumer, topic, [...Array(partitions).keys()], timeoutMs);
    return tps.map((tp) => `${tp.partition}@${tp.offset}`).join(' ');
  } catch (err) {
    return `(cannot read them: ${(err as Error).message})`;
  } finally {
    await new Promise<void>((r) => consumer.disconnect(() => r()));
  }
}

/** A record as read back from a topic. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer }>;
  timestamp: number | undefined;
}

/** A record to produce; partition undefined lets the partitioner choose (by key). */
export interface Frame {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: Array<{ key: string; value: Buffer | string }>;
}

export interface ProduceOptions {
  /** Produce inside one transaction and commit or abort it; unset: an idempotent, non-transactional producer. */
  transaction?: 'commit' | 'abort';
  /** transactional.id (default: unique per call). */
  transactionalId?: string;
  timeoutMs?: number;
}

export interface ConsumeOptions {
  isolation?: 'read_committed' | 'read_uncommitted';
  /** Stop once this many records are read; unset: stop at the end of every partition (for read_committed, the last stable offset). */
  expected?: number;
  /** Give up (throw) after this long. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** bootstrap.servers for tests: LUX_KAFKA_BROKERS, which test/global-setup.ts sets when it starts the local broker. */
export function brokers(): string {
  const b = process.env.LUX_KAFKA_BROKERS;
  if (b === undefined || b === '') {
    throw new Error('LUX_KAFKA_BROKERS is not set: run the tests through vitest (test/global-setup.ts starts the local broker) or point it at a broker');
  }
  return b;
}

/** A topic name no earlier run has used: `<prefix>-<time>-<random>`. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

function fail(what: string, err: LibrdKafkaError | Error): Error {
  return new Error(`${what}: ${err.message}`, { cause: err });
}

function call(what: string, fn: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(fail(what, err)) : resolve())));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Creates the topics (an existing one is accepted) and waits until every partition has a leader. */
export async function createTopics(names: string[], partitions = 1, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  await createProductTopics(kafkaConnection(brokers()), names.map((name) => ({ name, partitions })), timeoutMs, 'lux-test-admin');
}

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

/**
 * Produces the frames to `topic` and resolves, once every one is acknowledged, to their [partition, offset] in input order.
 * With `transaction`, all frames go in one transaction that is then committed or aborted (aborted frames are written
 * to the log before the abort, as a producer that fails mid-transaction would leave them).
 */
export async function produceFrames(
  topic: string,
  frames: Frame[],
  opts: ProduceOptions = {},
): Promise<Array<{ partition: number; offset: number }>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const producer = createProducer(kafkaConnection(brokers()), 'lux-test-producer', {
    'enable.idempotence': true,
    dr_cb: true,
    ...(opts.transaction !== undefined ? { 'transactional.id': opts.transactionalId ?? `lux-test-${randomUUID()}` } : {}),
  });
  const results: Array<{ partition: number; offset: number }> = new Array(frames.length);
  let acked = 0;
  let deliveryError: Error | undefined;
  producer.on('delivery-report', (err, report) => {
    const i = report.opaque as number;
    if (err) deliveryError ??= fail(`deliver frame ${i} to ${topic}`, err);
    else results[i] = { partition: report.partition, offset: report.offset };
    acked++;
  });
  producer.setPollInterval(20);
  await call('connect', (cb) => producer.connect({ timeout: timeoutMs }, cb));
  try {
    if (opts.transaction !== undefined) {
      await call('initTransactions', (cb) => producer.initTransactions(timeoutMs, cb));
      await call('beginTransaction', (cb) => producer.beginTransaction(cb));
    }
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      const headers: MessageHeader[] | undefined = f.headers?.map((h) => ({ [h.key]: toBuffer(h.value) ?? Buffer.alloc(0) }));
      for (;;) {
        try {
          producer.produce(topic, f.partition ?? null, toBuffer(f.value), toBuffer(f.key), Date.now(), i, headers);
          break;
        } catch (err) {
          // The local queue is full: let delivery reports drain it.
          if ((err as LibrdKafkaError).code !== KAFKA_CODES.ERR__QUEUE_FULL) throw fail(`produce frame ${i} to ${topic}`, err as Error);
          await sleep(20);
        }
      }
    }
    if (opts.transaction === 'commit') await call('commitTransaction', (cb) => producer.commitTransaction(timeoutMs, cb));
    else if (opts.transaction === 'abort') {
      // Write the records to the log first, so the abort marker really hides records a read_uncommitted consumer can see.
      await call('flush', (cb) => producer.flush(timeoutMs, cb));
      await call('abortTransaction', (cb) => producer.abortTransaction(timeoutMs, cb));
    }
    else await call('flush', (cb) => producer.flush(timeoutMs, cb));
    const deadline = Date.now() + timeoutMs;
    while (acked < frames.length && Date.now() < deadline) await sleep(10);
    if (deliveryError !== undefined) throw deliveryError;
    if (acked < frames.length) throw new Error(`${topic}: ${frames.length - acked} of ${frames.length} frames unacknowledged after ${timeoutMs} ms`);
    return results;
  } finally {
    producer.setPollInterval(0);
    await new Promise<void>((resolve) => producer.disconnect(5000, () => resolve()));
  }
}

function toRecord(m: Message): ConsumedRecord {
  const headers: Array<{ key: string; value: Buffer }> = [];
  for (const h of m.headers ?? []) {
    for (const [key, value] of Object.entries(h)) headers.push({ key, value: typeof value === 'string' ? Buffer.from(value) : value });
  }
  const key = m.key === undefined || m.key === null ? null : typeof m.key === 'string' ? Buffer.from(m.key) : m.key;
  return { topic: m.topic, partition: m.partition, offset: m.offset, key, value: m.value, headers, timestamp: m.timestamp };
}

/**
 * Reads `topic` from the beginning of every partition without joining a group (nothing is committed) and returns the records
 * ordered by partition, then offset. Stops at `expected` records, or else when every partition is at its end.
 */
export async function consumeAll(topic: string, opts: ConsumeOptions = {}): Promise<ConsumedRecord[]> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const consumer = createConsumer(
    kafkaConnection(brokers()),
    'lux-test-consumer',
    {
      'group.id': `lux-test-${randomUUID()}`,
      'enable.auto.commit': false,
      'enable.partition.eof': true,
      'isolation.level': opts.isolation ?? 'read_committed',
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const atEnd = new Set<number>();
  // Both events arrive in log order before the batch callback: a record after an end-of-partition means it was not the end.
  consumer.on('partition.eof', (p) => atEnd.add(p.partition));
  consumer.on('data', (m) => atEnd.delete(m.partition));
  await call('connect', (cb) => consumer.connect({ timeout: timeoutMs }, cb));
  try {
    const md = await readMetadata(consumer, 'consumer', timeoutMs, topic);
    const t = md.topics.find((x) => x.name === topic);
    if (t === undefined || t.partitions.length === 0) throw new Error(`topic ${topic} does not exist`);
    consumer.assign(t.partitions.map((p) => ({ topic, partition: p.id, offset: OFFSET_BEGINNING })));
    consumer.setDefaultConsumeTimeout(100);

    const records: ConsumedRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(500, (err, msgs) => (err ? reject(fail(`consume ${topic}`, err)) : resolve(msgs))),
      );
      for (const m of batch) records.push(toRecord(m));
      if (opts.expected !== undefined ? records.length >= opts.expected : atEnd.size === t.partitions.length) break;
      if (Date.now() > deadline) {
        const want = opts.expected !== undefined ? `${opts.expected} records` : `the end of all ${t.partitions.length} partitions`;
        throw new Error(`${topic}: read ${records.length} records but not ${want} within ${timeoutMs} ms`);
      }
    }
    return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
