// The torture run's Kafka side: its fresh topics, the input produced into the raw topic, the group's progress (committed raw offsets) and the outputs' committed messages counted as they come.
import { randomUUID } from 'node:crypto';
import {
  committedOffsets,
  connectClient,
  createConsumer,
  createProducer,
  disconnectClient,
  KAFKA_CODES,
  kafkaConnection,
  OFFSET_BEGINNING,
  type KafkaConsumer,
  type KafkaProducer,
  type LibrdKafkaError,
} from '../../src/kafka/client.js';
import { createTopics, deleteTopics } from '../../src/kafka/topics.js';
import { readTortureFrames, type TortureInput } from './input.js';
import type { RunTopics } from './instances.js';

const TIMEOUT_MS = 30_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fresh topic names for one run: `<prefix>-<what>-<time>-<random>`. */
export function runTopics(prefix: string): { group: string; topics: RunTopics } {
  const id = `${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
  const t = (what: string) => `${prefix}-${what}-${id}`;
  return {
    group: t('group'),
    topics: {
      raw: t('raw'),
      enriched: t('enriched'),
      dlq: t('dlq'),
      alarms: t('alarms'),
      alarmState: t('alarm-state'),
      refdata: t('refdata'),
      kpis: t('kpis'),
      kpiPartials: t('kpi-partials'),
      kpiState: t('kpi-state'),
    },
  };
}

/** Creates every topic of the run: `partitions` each (the partials one too: one KPI shard per raw partition). */
export async function createRunTopics(bootstrap: string, topics: RunTopics, partitions: number): Promise<void> {
  const conn = kafkaConnection(bootstrap);
  const plain = [topics.raw, topics.enriched, topics.dlq, topics.alarms, topics.kpis, topics.kpiPartials];
  await createTopics(
    conn,
    [
      ...plain.map((name) => ({ name, partitions })),
      { name: topics.alarmState, partitions, compacted: true },
      { name: topics.kpiState, partitions, compacted: true },
      { name: topics.refdata, partitions: 1, compacted: true },
    ],
    TIMEOUT_MS,
    'lux-torture-admin',
  );
}

export async function deleteRunTopics(bootstrap: string, topics: RunTopics): Promise<void> {
  await deleteTopics(kafkaConnection(bootstrap), Object.values(topics), TIMEOUT_MS, 'lux-torture-admin');
}

/**
 * Produces the input file into the raw topic, each frame to its equipment's partition, keyed by its equipment id,
 * idempotently (partition order kept through retries). Resolves once every frame is acknowledged, with each frame's
 * offset in `offsets` (the dead letters name it). `ratePerS` paces it (frames per second; 0: as fast as it goes).
 */
export async function produceInput(
  bootstrap: string,
  topic: string,
  input: TortureInput,
  opts: { ratePerS?: number; onProgress?: (sent: number) => void; stop?: () => boolean } = {},
): Promise<Float64Array> {
  const offsets = new Float64Array(input.frames).fill(-1);
  const producer: KafkaProducer = createProducer(kafkaConnection(bootstrap), 'lux-torture-input', {
    'enable.idempotence': true,
    'linger.ms': 5,
    'compression.codec': 'lz4',
    'batch.num.messages': 10_000,
    'queue.buffering.max.messages': 200_000,
    'queue.buffering.max.kbytes': 131_072,
    // the broker may restart while the input is still being produced: keep retrying through an outage
    'message.timeout.ms': 600_000,
    dr_cb: true,
  });
  let acked = 0;
  let error: Error | undefined;
  producer.on('delivery-report', (err, report) => {
    const i = report.opaque as number;
    if (err) error ??= new Error(`deliver frame ${i} to ${topic}: ${err.message}`);
    else offsets[i] = report.offset;
    acked++;
  });
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: TIMEOUT_MS }, (err) => (err ? reject(err) : resolve())));
  producer.setPollInterval(20);
  const t0 = Date.now();
  let sent = 0;
  try {
    for (const [i, frame] of readTortureFrames(input.file)) {
      if (opts.stop?.() === true) break;
      if (opts.ratePerS !== undefined && opts.ratePerS > 0 && sent % 200 === 0) {
        const due = t0 + (sent / opts.ratePerS) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      for (;;) {
        try {
          producer.produce(topic, input.framePartition[i], frame, String(input.frameEquipment[i]), Date.now(), i);
          break;
        } catch (err) {
          if ((err as LibrdKafkaError).code !== KAFKA_CODES.ERR__QUEUE_FULL) throw err;
          producer.poll();
          await sleep(5);
        }
      }
      sent++;
      if (sent % 1000 === 0) opts.onProgress?.(sent);
      if (error !== undefined) throw error;
    }
    await new Promise<void>((resolve, reject) => producer.flush(600_000, (err) => (err ? reject(err) : resolve())));
    const deadline = Date.now() + 600_000;
    while (acked < sent && Date.now() < deadline) await sleep(20);
    if (error !== undefined) throw error;
    if (acked < sent) throw new Error(`${topic}: ${sent - acked} of ${sent} frames unacknowledged`);
    return offsets;
  } finally {
    producer.setPollInterval(0);
    await new Promise<void>((resolve) => producer.disconnect(5000, () => resolve()));
  }
}

/** The group's committed raw offsets, read without joining the group. */
export class RunProgress {
  private readonly consumer: KafkaConsumer;
  private connected = false;

  constructor(private readonly bootstrap: string, group: string, private readonly partitions: number) {
    this.consumer = createConsumer(kafkaConnection(bootstrap), 'lux-torture-progress', { 'group.id': group, 'enable.auto.commit': false, 'isolation.level': 'read_committed' });
  }

  private async ready(): Promise<void> {
    if (this.connected) return;
    await connectClient(this.consumer, 'progress reader', 'consumer', this.bootstrap, TIMEOUT_MS);
    this.connected = true;
  }

  /** Frames of the raw topic the group has committed (its committed offsets, summed). */
  async committedFrames(rawTopic: string): Promise<number> {
    await this.ready();
    const out = await committedOffsets(this.consumer, rawTopic, [...Array(this.partitions).keys()], 10_000);
    return out.reduce((s, tp) => s + (tp.offset !== undefined && tp.offset > 0 ? tp.offset : 0), 0);
  }

  async close(): Promise<void> {
    if (this.connected) await disconnectClient(this.consumer);
  }
}

/** Counts the committed messages of a topic as they come (read_committed, from its beginning, no group). */
export class TopicCounter {
  count = 0;
  private readonly consumer: KafkaConsumer;
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly bootstrap: string, private readonly topic: string, private readonly partitions: number) {
    this.consumer = createConsumer(
      kafkaConnection(bootstrap),
      'lux-torture-counter',
      { 'group.id': `lux-torture-counter-${randomUUID()}`, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
      { 'auto.offset.reset': 'earliest' },
    );
  }

  async start(): Promise<void> {
    await connectClient(this.consumer, `${this.topic} counter`, 'consumer', this.bootstrap, TIMEOUT_MS);
    this.consumer.assign(Array.from({ length: this.partitions }, (_, partition) => ({ topic: this.topic, partition, offset: OFFSET_BEGINNING })));
    this.consumer.setDefaultConsumeTimeout(200);
    this.loop = (async () => {
      while (this.running) {
        const n = await new Promise<number>((resolve) => this.consumer.consume(1000, (err, messages) => resolve(err ? 0 : messages.length)));
        this.count += n;
        if (n === 0) await sleep(100);
      }
    })();
  }

  async close(): Promise<void> {
    this.running = false;
    await this.loop;
    await disconnectClient(this.consumer);
  }
}
