// The rate benchmark's latency probe, a process of its own: a read_committed consumer of the output that records, for every record, the time it became readable here minus its event time, reading only the event time's bytes.
//
// node dist/bench/e2e/latency-probe.js --brokers B --topic OUT --format json|lxe1 --out FILE
// Logs "probe ready" once assigned, then "probe" lines with the records seen (twice a second); on "stop" (standard
// input) or SIGTERM it writes its histogram and per-second counts to FILE as JSON and exits.
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { connectClient, createConsumer, disconnectClient, kafkaConnection, OFFSET_BEGINNING, type Message } from '../../src/kafka/client.js';
import { topicPartitions } from '../../src/kafka/metadata.js';
import { consumeNative, loadNative, nativeHandle, pluginProperties } from '../../src/kafka/native.js';
import { EventTimeReader, type ProbeFormat } from './event-time.js';
import { percentileCurve } from './percentiles.js';

/** The probe's consumer: fetch as soon as anything is readable, return a batch as soon as the fetched data is handed over. */
export const LATENCY_PROBE = Object.freeze({
  /** the broker holds an empty fetch at most this long: the probe's own delay is at most this plus a batch's hand-over */
  fetchWaitMs: 5,
  /** consume(n) waits this long for each next message before it returns what it has */
  consumeTimeoutMs: 5,
  /** the native read waits this long for the first message only, then hands over what is fetched (restMs 0) */
  nativeRestMs: 0,
  maxBatch: 10_000,
  progressMs: 500,
  connectTimeoutMs: 30_000,
  /**
   * The steady-state figure leaves out the records sent in the run's first seconds (event time within this of the
   * first record's): the daemon, broker, generator and probe all start together, and a long-running daemon starts once.
   */
  steadyAfterMs: 5_000,
});

type LatencySummary = { p50: number; p90: number; p99: number; p999: number; max: number; mean: number; count: number };

/** What the probe writes at the end. */
export interface ProbeResult {
  /** records measured (a frame counts its records) */
  records: number;
  /** messages without a readable event time (broken frames in a passthrough copy) */
  skipped: number;
  latencyMs: LatencySummary;
  /** the same over the records whose event time is at least `steadyAfterMs` after the first record's (null: none, a shorter run) */
  steadyLatencyMs: LatencySummary | null;
  steadyAfterMs: number;
  percentileCurve: Array<[number, number]>;
  /** [epoch second, records that became readable in it] */
  perSecond: Array<[number, number]>;
  /** [epoch second, p99 ms, max ms] of the records that became readable in it: a warm-up, a stall or a steady tail */
  tailPerSecond: Array<[number, number, number]>;
}

const { values: v } = parseArgs({ options: { brokers: { type: 'string' }, topic: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } } });
for (const k of ['brokers', 'topic', 'format', 'out'] as const) {
  if (v[k] === undefined) {
    process.stderr.write(`latency-probe: missing --${k}\n`);
    process.exit(2);
  }
}
if (v.format !== 'json' && v.format !== 'lxe1') {
  process.stderr.write(`latency-probe: --format expects json or lxe1\n`);
  process.exit(2);
}
const topic = v.topic as string;
const say = (msg: string, extra: object = {}): void => {
  process.stdout.write(JSON.stringify({ time: Date.now(), msg, ...extra }) + '\n');
};

let stopping = false;
const stop = (): void => {
  stopping = true;
};
process.once('SIGTERM', stop);
createInterface({ input: process.stdin }).on('line', (l) => l.trim() === 'stop' && stop());

async function main(): Promise<void> {
  const brokers = v.brokers as string;
  // The daemon's native batch read when it is built: node-rdkafka's consume(n) costs the probe about 10 µs of CPU a
  // message (a JS object and two Buffers built in C++), which at 40,000 enriched records/s starved it on 2 cores.
  const native = loadNative();
  if (native.native === undefined) say('probe reads through node-rdkafka', { reason: native.reason });
  const consumer = createConsumer(
    kafkaConnection(brokers),
    'lux-bench-probe',
    {
      ...pluginProperties(native),
      'group.id': `lux-bench-probe-${randomUUID()}`,
      'enable.auto.commit': false,
      'enable.partition.eof': false,
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': LATENCY_PROBE.fetchWaitMs,
      'fetch.min.bytes': 1,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  consumer.setDefaultConsumeTimeout(LATENCY_PROBE.consumeTimeoutMs);
  await connectClient(consumer, 'latency probe', 'consumer', brokers, LATENCY_PROBE.connectTimeoutMs);
  const client = nativeHandle(native.native, consumer, 'latency probe');
  const nativeRead = client !== undefined ? native.native : undefined;
  const partitions = await topicPartitions(consumer, 'consumer', topic, LATENCY_PROBE.connectTimeoutMs);
  if (partitions.length === 0) throw new Error(`topic ${topic} does not exist`);
  consumer.assign(partitions.map((partition) => ({ topic, partition, offset: OFFSET_BEGINNING })));
  say('probe ready', { partitions: partitions.length, native: nativeRead !== undefined });

  const reader = new EventTimeReader(v.format as ProbeFormat);
  const build = (): Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  const hist = build();
  const steady = build();
  /** event time from which a record counts in `steady`: set by the first record read */
  let steadyFrom = NaN;
  const perSecond = new Map<number, number>();
  // One histogram per second of arrival (a run is tens of seconds): the batch's second is looked up once per batch.
  const bySecond = new Map<number, Histogram>();
  let records = 0;
  let skipped = 0;
  let lastProgress = 0;
  while (!stopping) {
    const batch =
      nativeRead !== undefined && client !== undefined
        ? await consumeNative(nativeRead, client, LATENCY_PROBE.maxBatch, LATENCY_PROBE.consumeTimeoutMs, LATENCY_PROBE.nativeRestMs).catch((err: Error) => {
            throw new Error(`consume ${topic}: ${err.message}`);
          })
        : await new Promise<Message[]>((resolve, reject) =>
            consumer.consume(LATENCY_PROBE.maxBatch, (err, m) => (err ? reject(new Error(`consume ${topic}: ${err.message}`)) : resolve(m))),
          );
    const now = Date.now();
    const sec = Math.floor(now / 1000);
    let secHist = bySecond.get(sec);
    if (secHist === undefined && batch.length > 0) bySecond.set(sec, (secHist = build()));
    let n = 0;
    for (let i = 0; i < batch.length; i++) {
      const value = batch[i]!.value;
      const t = value === null || value === undefined ? NaN : reader.timeOf(value);
      // A broken frame copied as it is holds no time, or one from another era (the past or the future: the records
      // are stamped with their send time on this machine's clock).
      if (!(t > now - 3_600_000 && t <= now + 1_000)) {
        skipped++;
        continue;
      }
      const w = reader.weightOf(value!);
      const ms = now > t ? now - t : 0;
      if (Number.isNaN(steadyFrom)) steadyFrom = t + LATENCY_PROBE.steadyAfterMs;
      if (t >= steadyFrom) steady.recordValueWithCount(ms, w);
      hist.recordValueWithCount(ms, w);
      secHist!.recordValueWithCount(ms, w);
      n += w;
    }
    if (n > 0) {
      records += n;
      perSecond.set(sec, (perSecond.get(sec) ?? 0) + n);
    }
    if (now - lastProgress >= LATENCY_PROBE.progressMs) {
      say('probe', { records, skipped });
      lastProgress = now;
    }
    if (batch.length === 0) await new Promise<void>((r) => setImmediate(r));
  }
  await disconnectClient(consumer);
  const result: ProbeResult = {
    records,
    skipped,
    latencyMs: summary(hist),
    steadyLatencyMs: steady.totalCount > 0 ? summary(steady) : null,
    steadyAfterMs: LATENCY_PROBE.steadyAfterMs,
    percentileCurve: percentileCurve(hist),
    perSecond: [...perSecond.entries()].sort((a, b) => a[0] - b[0]),
    tailPerSecond: [...bySecond.entries()]
      .filter(([, h]) => h.totalCount > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([sec, h]) => [sec, h.getValueAtPercentile(99), h.maxValue] as [number, number, number]),
  };
  fs.writeFileSync(v.out as string, JSON.stringify(result));
  say('probe done', { records, skipped });
}

function summary(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 };
  const at = (p: number): number => h.getValueAtPercentile(p);
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: h.maxValue, mean: Math.round(h.mean * 10) / 10, count: h.totalCount };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`latency-probe: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
