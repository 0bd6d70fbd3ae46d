// The baseline of `lux bench`: the daemon's own node-rdkafka consumer and transactional producer copying raw frames topic to topic, with no decode or enrichment.
//
// Run as a child process: node dist/bench/e2e/passthrough.js --brokers B --group G --transactional-id T --in RAW --out OUT
//   [--batch-max-messages N] [--commit-interval-ms MS]
// Same loop shape and commit policy as src/pipeline.ts (batch consume, produce into the open transaction, commit the
// consumed offsets in it as soon as the previous commit has returned, commit_interval_ms bounding the gap), so the gap
// between the two is what decoding, enrichment and the worker hand-off cost.
import { parseArgs } from 'node:util';
import type { Message, TopicPartitionOffset } from '../../src/kafka/client.js';
import { KafkaSource } from '../../src/source/kafka-consumer.js';
import { TransactionalSink } from '../../src/sink/transactional-producer.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { SINK_INTERNALS } from '../../src/config/internals.js';
import { kafkaConnection } from '../../src/kafka/client.js';

const { values: v } = parseArgs({
  options: {
    brokers: { type: 'string' },
    group: { type: 'string' },
    'transactional-id': { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    'batch-max-messages': { type: 'string' },
    'commit-interval-ms': { type: 'string' },
  },
});
for (const k of ['brokers', 'group', 'transactional-id', 'in', 'out'] as const) {
  if (v[k] === undefined) {
    process.stderr.write(`passthrough: missing --${k}\n`);
    process.exit(2);
  }
}
const maxBatch = Number(v['batch-max-messages'] ?? DEFAULTS.pipeline.batch_max_messages);
const commitIntervalMs = Number(v['commit-interval-ms'] ?? DEFAULTS.pipeline.commit_interval_ms);
const input = v.in as string;
const output = v.out as string;
const say = (msg: string, extra: object = {}): void => {
  process.stdout.write(JSON.stringify({ time: Date.now(), msg, ...extra }) + '\n');
};

const conn = kafkaConnection(v.brokers as string);
const source = new KafkaSource({
  conn,
  groupId: v.group as string,
  clientId: 'lux-passthrough',
  topics: [input],
  consumeTimeoutMs: 20,
});
const sink = new TransactionalSink({
  conn,
  clientId: 'lux-passthrough',
  transactionalId: v['transactional-id'] as string,
  transactionTimeoutMs: DEFAULTS.kafka.transaction_timeout_ms,
  callTimeoutMs: 30_000,
});
const pending = new Map<number, number>();
let stopping = false;
let openedAt = 0;
let committedAt = 0;
let copied = 0;
let quiesce: (() => void) | undefined;
let loopEnded = false;
/** the commit in flight: the loop consumes meanwhile, as the daemon does, and waits for it only before it produces */
let inFlight: Promise<void> | undefined;
let commitError: unknown;

function startCommit(): void {
  inFlight = commit().then(
    () => undefined,
    (err: unknown) => {
      commitError ??= err;
    },
  );
}

async function settled(): Promise<void> {
  if (inFlight !== undefined) await inFlight;
  inFlight = undefined;
  if (commitError !== undefined) throw commitError;
}

async function commit(): Promise<void> {
  if (!sink.inTransaction) return;
  const offsets: TopicPartitionOffset[] = [];
  for (const [partition, offset] of pending) offsets.push({ topic: input, partition, offset });
  await sink.commit(offsets, source.consumer);
  pending.clear();
  committedAt = Date.now();
}

source.setHooks({
  assigned: (tps) => say('partitions assigned', { partitions: tps.map((t) => t.partition) }),
  // Commit what the open transaction holds before the partitions move, as the daemon does (after the loop: nothing is open).
  revoking: () => (loopEnded ? Promise.resolve() : new Promise<void>((resolve) => (quiesce = resolve))),
  failed: (err) => {
    console.error(`passthrough: ${err.message}`);
    process.exit(1);
  },
});

const wait = new Int32Array(new SharedArrayBuffer(4));

async function main(): Promise<void> {
  await sink.connect(30_000);
  await source.connect(30_000);
  await source.partitions(30_000);
  source.subscribe();
  say('passthrough started', { input, output });
  let batchSize = 64;
  while (!stopping) {
    if (quiesce !== undefined) {
      await settled();
      await commit();
      quiesce();
      quiesce = undefined;
    }
    let messages: Message[] = [];
    try {
      messages = await source.consumeBatch(batchSize);
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
    const n = messages.length;
    batchSize = n >= batchSize ? Math.min(maxBatch, batchSize * 2) : Math.max(16, Math.min(maxBatch, n * 2));
    if (n > 0) {
      await settled();
      if (!sink.inTransaction) {
        await sink.begin();
        openedAt = Date.now();
      }
      for (let i = 0; i < n; i++) {
        const m = messages[i];
        while (!sink.produce(output, m.value ?? Buffer.alloc(0), m.key ?? null)) {
          sink.poll();
          Atomics.wait(wait, 0, 0, 1);
        }
        pending.set(m.partition, m.offset + 1);
      }
      copied += n;
    } else {
      sink.poll();
    }
    // The daemon's policy (src/sink/transaction-cycle.ts): no commit in flight, and records in the open transaction with
    // the previous commit returned at least commitMinGapMs ago, or the interval reached.
    const now = Date.now();
    if (inFlight === undefined && sink.inTransaction && (now - openedAt >= commitIntervalMs || (pending.size > 0 && now - committedAt >= SINK_INTERNALS.commitMinGapMs))) {
      startCommit();
    } else if (inFlight !== undefined && commitError !== undefined) {
      await settled();
    }
  }
  await settled();
  await commit();
  loopEnded = true;
  quiesce?.();
  say('passthrough stopped', { copied });
  await source.disconnect(5000);
  await sink.disconnect(5000);
}

const onSignal = (): void => {
  stopping = true;
};
process.once('SIGTERM', onSignal);
process.once('SIGINT', onSignal);
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`passthrough: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
