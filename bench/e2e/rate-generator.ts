// The rate benchmark's generator, a process of its own: sends a pack of pre-encoded frames at a fixed rate, each stamped with its send time in place, so the daemon is fed without the cost of encoding on the clock.
//
// node dist/bench/e2e/rate-generator.js --brokers B --topic RAW --pack FILE --rate R --duration S
// Logs JSON lines: "generator ready" (pack loaded, producer connected), then waits for "go" on standard input;
// "generator done" with what was sent, after the final flush.
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { connectClient, createProducer, disconnectClient, KAFKA_CODES, kafkaConnection, type LibrdKafkaError } from '../../src/kafka/client.js';
import { loadNative, nativeHandle, pluginProperties } from '../../src/kafka/native.js';
import { FramePack } from './frame-pack.js';

/** The generator's settings besides its arguments (lux gen's producer, without per-message delivery reports). */
export const RATE_GENERATOR = Object.freeze({
  /** pacing tick: every tick the records due are sent, stamped with the tick's time */
  tickMs: 2,
  flushTimeoutMs: 60_000,
  connectTimeoutMs: 30_000,
  producer: {
    'enable.idempotence': true,
    'linger.ms': 5,
    'compression.codec': 'lz4',
    'batch.num.messages': 10_000,
    'queue.buffering.max.messages': 500_000,
    'queue.buffering.max.kbytes': 524_288,
    // No delivery report per message: the bench counts the raw topic afterwards, and a report per frame would cost
    // this process a JS callback per message on the cores the daemon needs.
    dr_cb: false,
  },
});

const { values: v } = parseArgs({
  options: {
    brokers: { type: 'string' },
    topic: { type: 'string' },
    pack: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
  },
});
for (const k of ['brokers', 'topic', 'pack', 'rate', 'duration'] as const) {
  if (v[k] === undefined) {
    process.stderr.write(`rate-generator: missing --${k}\n`);
    process.exit(2);
  }
}
const topic = v.topic as string;
const rate = Number(v.rate);
const durationMs = Number(v.duration) * 1000;
const say = (msg: string, extra: object = {}): void => {
  process.stdout.write(JSON.stringify({ time: Date.now(), msg, ...extra }) + '\n');
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const t0 = Date.now();
  const pack = FramePack.load(v.pack as string);
  // The daemon's native batch produce when it is built: a tick's frames in one call, not one node-rdkafka call each
  // (which cost this process about a third of a core at 40,000 frames/s, on the cores the daemon needs).
  const native = loadNative();
  const producer = createProducer(kafkaConnection(v.brokers as string), 'lux-bench-generator', {
    ...pluginProperties(native),
    ...RATE_GENERATOR.producer,
  });
  let fatal: LibrdKafkaError | undefined;
  producer.on('event.error', (err: LibrdKafkaError) => {
    if (err.isFatal) fatal ??= err;
  });
  await connectClient(producer, 'generator', 'producer', v.brokers as string, RATE_GENERATOR.connectTimeoutMs);
  producer.setPollInterval(100);
  const client = nativeHandle(native.native, producer, 'generator');
  const batch = client !== undefined ? native.native : undefined;
  const spec = new Uint32Array(4 * 65_536);
  say('generator ready', { frames: pack.count, load_s: (Date.now() - t0) / 1000, native: batch !== undefined });
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.on('line', (l) => l.trim() === 'go' && resolve()));

  const start = Date.now();
  let i = 0;
  let written = 0; // every record sent, broken frames' included: what the rate counts
  let goodRecords = 0;
  let brokenFrames = 0;
  let behindMaxMs = 0;
  let queueFull = 0;
  for (;;) {
    const now = Date.now();
    if (now - start >= durationMs || i >= pack.count) break;
    if (fatal !== undefined) throw new Error(`fatal producer error: ${fatal.message}`);
    let due = Math.floor((rate * (now - start)) / 1000) - written;
    if (due > 0) {
      // How late the first record of this tick is against the schedule: a generator starved of CPU shows here.
      behindMaxMs = Math.max(behindMaxMs, now - (start + (written * 1000) / rate));
    }
    if (batch !== undefined && client !== undefined) {
      // the frames due, stamped, then sent in one call (a full local queue: what was taken counts, the rest waits)
      let n = 0;
      for (let j = i; due > 0 && j < pack.count && n < spec.length / 4; j++, n++) {
        pack.stamp(j, now);
        pack.spec(j, spec, n * 4);
        due -= pack.records[j]!;
      }
      const sent = n === 0 ? 0 : batch.produce(client, topic, pack.bytes, pack.keyBytes, spec, 0, n);
      if (sent < n) {
        queueFull++;
        producer.poll();
      }
      for (let k = 0; k < sent; k++, i++) {
        const r = pack.records[i]!;
        written += r;
        if (pack.broken[i] === 0) goodRecords += r;
        else brokenFrames++;
      }
      due = 0;
    }
    while (due > 0 && i < pack.count) {
      const value = pack.stamp(i, now);
      try {
        producer.produce(topic, null, value, pack.key(i), now);
      } catch (err) {
        if ((err as LibrdKafkaError).code !== KAFKA_CODES.ERR__QUEUE_FULL) throw err;
        queueFull++;
        producer.poll();
        await sleep(1);
        continue;
      }
      const r = pack.records[i]!;
      written += r;
      due -= r;
      if (pack.broken[i] === 0) goodRecords += r;
      else brokenFrames++;
      i++;
    }
    await sleep(Math.max(0, RATE_GENERATOR.tickMs - (Date.now() - now)));
  }
  const seconds = (Date.now() - start) / 1000;
  await new Promise<void>((resolve, reject) =>
    producer.flush(RATE_GENERATOR.flushTimeoutMs, (err) => (err ? reject(new Error(`flush: ${err.message}`)) : resolve())),
  );
  await disconnectClient(producer);
  lines.close();
  say('generator done', {
    frames: i,
    records: written,
    good_records: goodRecords,
    broken_frames: brokenFrames,
    seconds,
    behind_max_ms: Math.round(behindMaxMs),
    queue_full: queueFull,
    exhausted: i >= pack.count,
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`rate-generator: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
