// The traffic generator behind `lux gen`, the demo and the benchmarks: frames from the traffic model, paced by ticks, into a Kafka topic or a length-prefixed file for `lux decode`.
import { open, type FileHandle } from 'node:fs/promises';
import type { KafkaProducer, LibrdKafkaError } from '../kafka/client.js';
import { LuxError } from '../errors.js';
import { encodeFrameStream } from './frame-encoder.js';
import { TrafficModel, type GeneratedFrame, type TrafficOptions } from './traffic.js';

const COMMAND = 'gen';

/** What `runGenerator` is told; GEN_DEFAULTS holds the defaults of everything optional. */
export interface GenOptions {
  /** bootstrap servers (with `topic`) */
  brokers: string;
  /** produce to this Kafka topic … */
  topic?: string;
  /** … or write the `lux decode` input format (each frame after its 4-byte big-endian length) to this file */
  out?: string;
  /** records per second; 0 = as fast as possible. A file is not paced: its event times advance as if at this rate. */
  rate: number;
  /** stop conditions (the first reached wins); none given: a file gets `defaultFileRecords`, a topic runs until the signal */
  durationMs?: number;
  frames?: number;
  /** records in frames that decode (broken frames' records are not counted): what comes out the other end */
  records?: number;
  /** the traffic model (seed, equipment, shares, bursts…) */
  traffic: Partial<TrafficOptions>;
  /** no progress lines */
  quiet: boolean;
  /** where progress lines go (default: standard error) */
  progress?: (line: string) => void;
  /** extra librdkafka producer settings */
  producerConfig?: Record<string, string | number | boolean>;
  /** event-time clock (ms since the epoch) for live runs; pacing always follows the wall clock. Default Date.now */
  clock?: () => number;
  /** pacing tick: every tickMs the records due are produced */
  tickMs: number;
  /** records generated per step when not paced (rate 0, or a file) */
  unpacedStepRecords: number;
  /** default stop condition of a file: this many records */
  defaultFileRecords: number;
  /** connect, metadata and final flush timeouts */
  kafkaTimeoutMs: number;
}

export const GEN_DEFAULTS = Object.freeze({
  brokers: '127.0.0.1:9092',
  rate: 40_000,
  quiet: false,
  tickMs: 10,
  unpacedStepRecords: 4096,
  defaultFileRecords: 100_000,
  kafkaTimeoutMs: 30_000,
});

/** bootstrap servers: LUX_KAFKA_BROKERS when set, else the local development broker. */
export function defaultBrokers(): string {
  const env = process.env.LUX_KAFKA_BROKERS;
  return env !== undefined && env !== '' ? env : GEN_DEFAULTS.brokers;
}

export interface GenSummary {
  /** every frame written, broken ones included */
  frames: number;
  /** records in frames that decode */
  records: number;
  badFrames: number;
  /** records with a result other than success, in frames that decode */
  failures: number;
  /** frames of alarm bursts */
  burstFrames: number;
  /** messages the broker did not acknowledge (always 0 for a file) */
  deliveryErrors: number;
  seconds: number;
}

/** Where frames go: a Kafka topic or a file, one batch at a time. */
interface FrameSink {
  /** writes the frames in order; a stop signal may cut a batch short only while the sink is blocked; returns how many went */
  write(frames: readonly GeneratedFrame[], signal?: AbortSignal): Promise<number>;
  /** called once per tick: serve delivery reports */
  tick(): void;
  close(): Promise<void>;
  readonly deliveryErrors: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class FileSink implements FrameSink {
  readonly deliveryErrors = 0;
  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<FileSink> {
    try {
      return new FileSink(path, await open(path, 'w'));
    } catch (err) {
      throw new LuxError('E_IO', `${path}: cannot open for writing: ${(err as Error).message}`, { cause: err });
    }
  }

  async write(frames: readonly GeneratedFrame[]): Promise<number> {
    if (frames.length === 0) return 0;
    const bytes = encodeFrameStream(frames.map((f) => f.value));
    try {
      await this.handle.write(bytes);
    } catch (err) {
      throw new LuxError('E_IO', `${this.path}: cannot write: ${(err as Error).message}`, { cause: err });
    }
    return frames.length;
  }

  tick(): void {}

  async close(): Promise<void> {
    try {
      await this.handle.close();
    } catch (err) {
      throw new LuxError('E_IO', `${this.path}: cannot close: ${(err as Error).message}`, { cause: err });
    }
  }
}

class KafkaSink implements FrameSink {
  deliveryErrors = 0;
  private firstDeliveryError: string | undefined;
  private fatal: LibrdKafkaError | undefined;

  private constructor(
    private readonly producer: KafkaProducer,
    private readonly topic: string,
    private readonly brokers: string,
    private readonly timeoutMs: number,
    private readonly queueFullCode: number,
  ) {}

  static async connect(brokers: string, topic: string, timeoutMs: number, extra: Record<string, string | number | boolean> = {}): Promise<KafkaSink> {
    // Loaded only here: node-rdkafka is a native module, and `--out` does not need it.
    const kafka = await import('../kafka/client.js');
    const conn = kafka.kafkaConnection(brokers, extra);
    const producer = kafka.createProducer(conn, 'lux-gen', {
      'enable.idempotence': true,
      'linger.ms': 5,
      'compression.codec': 'lz4',
      'batch.num.messages': 10_000,
      'queue.buffering.max.messages': 200_000,
      'queue.buffering.max.kbytes': 262_144,
      dr_cb: true,
    });
    const sink = new KafkaSink(producer, topic, brokers, timeoutMs, kafka.KAFKA_CODES.ERR__QUEUE_FULL);
    producer.on('delivery-report', (err) => {
      if (err) {
        sink.deliveryErrors++;
        sink.firstDeliveryError ??= err.message;
      }
    });
    producer.on('event.error', (err: LibrdKafkaError) => {
      if (err.isFatal) sink.fatal ??= err;
    });
    await kafka.connectClient(producer, 'generator', 'producer', brokers, timeoutMs);
    try {
      await sink.awaitTopic();
    } catch (err) {
      await sink.disconnect();
      throw err;
    }
    // Delivery reports are served on the loop between ticks as well as by the explicit polls.
    producer.setPollInterval(50);
    return sink;
  }

  /** The topic must exist with leaders (a broker that auto-creates topics creates it on this first metadata request). */
  private async awaitTopic(): Promise<void> {
    const { topicReady } = await import('../kafka/metadata.js');
    const deadline = Date.now() + Math.min(this.timeoutMs, 10_000);
    for (;;) {
      if (await topicReady(this.producer, 'producer', this.topic, 1, 5000)) return;
      if (Date.now() > deadline) throw new LuxError('E_KAFKA', `topic ${this.topic} does not exist on ${this.brokers} (create it first)`);
      await sleep(200);
    }
  }

  async write(frames: readonly GeneratedFrame[], signal?: AbortSignal): Promise<number> {
    if (this.fatal !== undefined) throw new LuxError('E_KAFKA', `topic ${this.topic}: fatal producer error: ${this.fatal.message}`, { cause: this.fatal });
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      for (;;) {
        try {
          // The timestamp is the produce time: end-to-end latency is measured from it.
          this.producer.produce(this.topic, null, f.value, f.key, Date.now());
          break;
        } catch (err) {
          if ((err as LibrdKafkaError).code !== this.queueFullCode) {
            throw new LuxError('E_KAFKA', `topic ${this.topic}: produce: ${(err as Error).message}`, { cause: err });
          }
          // The local queue is full: let librdkafka send and report, then retry the same frame (unless told to stop:
          // a broker that is gone would otherwise hold the generator here for ever).
          if (signal?.aborted === true) return i;
          this.producer.poll();
          await sleep(5);
        }
      }
    }
    return frames.length;
  }

  tick(): void {
    this.producer.poll();
  }

  async close(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) =>
        this.producer.flush(this.timeoutMs, (err) =>
          err ? reject(new LuxError('E_KAFKA', `topic ${this.topic}: flush within ${this.timeoutMs} ms: ${err.message}`, { cause: err })) : resolve(),
        ),
      );
      // Serve the last delivery reports before counting them.
      this.producer.poll();
      await sleep(20);
      this.producer.poll();
    } finally {
      await this.disconnect();
    }
    if (this.deliveryErrors > 0) {
      process.emitWarning(`lux gen: ${this.deliveryErrors} messages to ${this.topic} were not delivered (first: ${this.firstDeliveryError})`);
    }
  }

  private disconnect(): Promise<void> {
    this.producer.setPollInterval(0);
    return new Promise<void>((resolve) => this.producer.disconnect(5000, () => resolve()));
  }
}

/** Fills in defaults and checks the combination; the one place where GenOptions are validated. */
export function resolveGenOptions(partial: Partial<GenOptions>): GenOptions {
  const o: GenOptions = { ...GEN_DEFAULTS, brokers: defaultBrokers(), traffic: {}, ...stripUndefined(partial) };
  if ((o.topic === undefined) === (o.out === undefined)) throw new LuxError('E_USAGE', `${COMMAND}: give exactly one of --topic and --out`);
  if (!(o.rate >= 0 && Number.isFinite(o.rate))) throw new LuxError('E_USAGE', `${COMMAND}: --rate expects a non-negative number, got '${o.rate}'`);
  if (o.out !== undefined && o.durationMs === undefined && o.frames === undefined && o.records === undefined) o.records = o.defaultFileRecords;
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Generates traffic until a stop condition or `signal` and returns what was written. Produces to Kafka (an existing
 * broker: `brokers`) or writes a file; safe to run in-process (the demo does), node-rdkafka being loaded on this thread.
 */
export async function runGenerator(options: Partial<GenOptions>, signal?: AbortSignal): Promise<GenSummary> {
  const o = resolveGenOptions(options);
  let model: TrafficModel;
  try {
    model = new TrafficModel(o.traffic);
  } catch (err) {
    throw new LuxError('E_USAGE', `${COMMAND}: ${(err as Error).message}`, { cause: err });
  }
  const sink: FrameSink = o.topic !== undefined ? await KafkaSink.connect(o.brokers, o.topic, o.kafkaTimeoutMs, o.producerConfig) : await FileSink.open(o.out!);
  const say = o.quiet ? undefined : (o.progress ?? ((line: string) => process.stderr.write(line + '\n')));

  // A paced run follows the wall clock; a file or an unpaced run steps as fast as it can. A file at a given rate gets
  // event times as if produced at that rate (so bursts and windows look the same as live), without waiting for them.
  const paced = o.topic !== undefined && o.rate > 0;
  const virtualClock = o.out !== undefined && o.rate > 0;
  const wallStart = Date.now();
  const live = o.clock ?? Date.now;
  const eventStart = live();
  const clock = (): number => (virtualClock ? eventStart + Math.floor((written * 1000) / o.rate) : live());

  let written = 0; // every record written, broken frames' included: what the rate counts
  const s = { frames: 0, records: 0, badFrames: 0, failures: 0, burstFrames: 0 };
  let lastReport = wallStart;
  let lastAtReport = { frames: 0, records: 0, badFrames: 0 };
  const batch: GeneratedFrame[] = [];
  // pendingFrames and pendingRecords: made in this tick, not yet written.
  const done = (pendingFrames = 0, pendingRecords = 0): boolean =>
    signal?.aborted === true ||
    (o.frames !== undefined && s.frames + pendingFrames >= o.frames) ||
    (o.records !== undefined && s.records + pendingRecords >= o.records) ||
    (o.durationMs !== undefined && (virtualClock ? clock() - eventStart : Date.now() - wallStart) >= o.durationMs);

  try {
    while (!done()) {
      const tickStart = Date.now();
      let due = paced ? Math.floor((o.rate * (tickStart - wallStart)) / 1000) - written : o.unpacedStepRecords;
      // After a stall (GC, a full queue) catch up at most one second's worth at once.
      if (paced) due = Math.min(due, Math.max(1, Math.ceil(o.rate)));
      batch.length = 0;
      let batchRecords = 0;
      while (due > 0 && !done(batch.length, batchRecords)) {
        const left = o.records !== undefined ? o.records - s.records - batchRecords : Infinity;
        const f = model.next(clock(), left);
        batch.push(f);
        written += f.records;
        due -= f.records;
        if (f.bad === null) batchRecords += f.records;
      }
      const sent = await sink.write(batch, signal);
      for (let i = 0; i < sent; i++) {
        const f = batch[i]!;
        s.frames++;
        if (f.burst) s.burstFrames++;
        if (f.bad !== null) s.badFrames++;
        else {
          s.records += f.records;
          s.failures += f.failures;
        }
      }
      sink.tick();

      const now = Date.now();
      if (say !== undefined && now - lastReport >= 1000) {
        const dt = (now - lastReport) / 1000;
        say(
          `lux gen: ${Math.round((s.records - lastAtReport.records) / dt)} records/s, ${Math.round((s.frames - lastAtReport.frames) / dt)} frames/s, ` +
            `${s.badFrames - lastAtReport.badFrames} bad frames; total ${s.records} records, ${s.frames} frames, ${s.badFrames} bad`,
        );
        lastReport = now;
        lastAtReport = { frames: s.frames, records: s.records, badFrames: s.badFrames };
      }
      if (paced) await sleep(Math.max(0, o.tickMs - (Date.now() - tickStart)));
      else await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    await sink.close();
  }
  return { ...s, deliveryErrors: sink.deliveryErrors, seconds: (Date.now() - wallStart) / 1000 };
}

/** One summary line: `frames=… records=… bad_frames=… seconds=…`. */
export function formatSummary(s: GenSummary): string {
  return (
    `frames=${s.frames} records=${s.records} bad_frames=${s.badFrames} failures=${s.failures} burst_frames=${s.burstFrames}` +
    `${s.deliveryErrors > 0 ? ` delivery_errors=${s.deliveryErrors}` : ''} seconds=${s.seconds.toFixed(2)}`
  );
}

