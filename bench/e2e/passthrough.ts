// The baseline of `lux bench`: the daemon's own node-rdkafka consumer and transactional producer copying raw frames topic to topic, with no decode or enrichment.
//
// Run as a child process: node dist/bench/e2e/passthrough.js --brokers B --group G --transactional-id T --in RAW --out OUT
//   [--batch-max-messages N] [--commit-interval-ms MS] [--native-consume] [--native-produce]
// With the daemon's native batches (as `lux bench` passes them when the daemon runs them), a batch is read in one
// native call and, read so, copied in one: its values and keys sit in one buffer, which the batch produce takes as
// ranges.
// Same loop shape and commit policy as src/pipeline.ts (batch consume, produce into the open transaction, commit the
// consumed offsets in it as soon as the previous commit has returned, commit_interval_ms bounding the gap), so the gap
// between the two is what decoding, enrichment and the worker hand-off cost.
import { parseArgs } from 'node:util';
import type { Message, TopicPartitionOffset } from '../../src/kafka/client.js';
import { KafkaSource } from '../../src/source/kafka-consumer.js';
import { TransactionalSink } from '../../src/sink/transactional-producer.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { PIPELINE_INTERNALS, SOURCE_INTERNALS } from '../../src/config/internals.js';
import { kafkaConnection } from '../../src/kafka/client.js';
import { NATIVE_NO_KEY } from '../../src/kafka/native.js';
import { commitGapMs } from '../../src/sink/transaction-cycle.js';

const { values: v } = parseArgs({
  options: {
    brokers: { type: 'string' },
    group: { type: 'string' },
    'transactional-id': { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    'batch-max-messages': { type: 'string' },
    'commit-interval-ms': { type: 'string' },
    'native-consume': { type: 'boolean' },
    'native-produce': { type: 'boolean' },
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
  // the daemon's batch read (the same waits, the same native read when it uses one)
  consumeTimeoutMs: SOURCE_INTERNALS.consumeTimeoutMs,
  consumeRestMs: SOURCE_INTERNALS.consumeRestMs,
  native: v['native-consume'] ?? false,
  nativeUnavailable: (reason) => say('native batch consume unavailable', { reason }),
});
const sink = new TransactionalSink({
  conn,
  clientId: 'lux-passthrough',
  transactionalId: v['transactional-id'] as string,
  transactionTimeoutMs: DEFAULTS.kafka.transaction_timeout_ms,
  callTimeoutMs: 30_000,
  native: v['native-produce'] ?? false,
  nativeUnavailable: (reason) => say('native batch produce unavailable', { reason }),
});
const pending = new Map<number, number>();
let stopping = false;
let openedAt = 0;
let committedAt = 0;
let copied = 0;
/** the last read filled its batch: commits are spaced as the daemon spaces them */
let backlog = false;
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

/** The one buffer a native batch read put every value and key into; undefined when they are not all in one. */
function sharedBytes(messages: Message[]): Uint8Array | undefined {
  const buffer = messages[0]?.value?.buffer;
  if (buffer === undefined) return undefined;
  for (const m of messages) if ((m.value !== null && m.value.buffer !== buffer) || (m.key instanceof Buffer && m.key.buffer !== buffer)) return undefined;
  return new Uint8Array(buffer);
}

/** 4 words a message: value start and end, key start and end (NATIVE_NO_KEY: none), as TransactionalSink.produceMany takes. */
function specOf(messages: Message[], bytes: Uint8Array): Uint32Array {
  const spec = new Uint32Array(messages.length * 4);
  messages.forEach((m, i) => {
    const value = m.value ?? bytes.subarray(0, 0);
    spec[i * 4] = value.byteOffset;
    spec[i * 4 + 1] = value.byteOffset + value.length;
    const key = m.key instanceof Buffer ? m.key : null;
    spec[i * 4 + 2] = key === null ? NATIVE_NO_KEY : key.byteOffset;
    spec[i * 4 + 3] = key === null ? 0 : key.byteOffset + key.length;
  });
  return spec;
}

async function main(): Promise<void> {
  await sink.connect(30_000);
  await source.connect(30_000);
  await source.partitions(30_000);
  source.subscribe();
  say('passthrough started', { input, output });
  let batchSize: number = PIPELINE_INTERNALS.batchStart;
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
    // the daemon's batch sizes and commit spacing (pipeline.ts, TransactionCycle.due)
    backlog = n > 0 && n >= batchSize;
    batchSize = source.nextBatchSize(n, batchSize, maxBatch, PIPELINE_INTERNALS.batchMin);
    if (n > 0) {
      await settled();
      if (!sink.inTransaction) {
        await sink.begin();
        openedAt = Date.now();
      }
      const bytes = sharedBytes(messages);
      if (bytes !== undefined && sink.nativeProduce) {
        // one call for the batch: values and keys as ranges of the buffer they were read into
        const spec = specOf(messages, bytes);
        for (let done = 0; done < n; ) {
          done += sink.produceMany(output, bytes, bytes, spec, done, n);
          if (done < n) {
            sink.poll();
            Atomics.wait(wait, 0, 0, 1);
          }
        }
        for (const m of messages) pending.set(m.partition, m.offset + 1);
      } else {
        for (let i = 0; i < n; i++) {
          const m = messages[i];
          while (!sink.produce(output, m.value ?? Buffer.alloc(0), m.key ?? null)) {
            sink.poll();
            Atomics.wait(wait, 0, 0, 1);
          }
          pending.set(m.partition, m.offset + 1);
        }
      }
      copied += n;
    } else {
      sink.poll();
    }
    // The daemon's policy (src/sink/transaction-cycle.ts): no commit in flight, and records in the open transaction with
    // the previous commit returned at least commitGapMs ago (longer while the input is behind), or the interval reached.
    const now = Date.now();
    if (inFlight === undefined && sink.inTransaction && (now - openedAt >= commitIntervalMs || (pending.size > 0 && now - committedAt >= commitGapMs(backlog)))) {
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
