// Consume errors that no retry cures — a fetched batch this librdkafka cannot decompress — told apart from passing ones, located (topic, partition, offset, codec) and explained once.
//
// What node-rdkafka reports (seen against a real broker with a build lacking zstd, node-rdkafka 3.6.1, librdkafka
// 2.12.0): `consume(n, cb)` calls back with a LibrdKafkaError `{ message: 'Local: Not implemented', code: -170,
// errno: -170, origin: 'kafka' }` and nothing else, on every call, for as long as the partition is assigned.
// librdkafka itself knows where: its error message carries the topic, the partition, the batch's offset and the
// text `Decompression (codec 0x4) of message at <offset> of <n> bytes failed: Local: Not implemented` — but
// node-rdkafka's batch consume deletes that message and keeps only the code. A corrupt batch (a codec the build has,
// bad data) gives ERR__BAD_COMPRESSION (-198) the same way. The fetcher does not move past such a batch, so the
// partition is stuck at it: its position (the next offset to read) stays at the batch's first offset while the high
// watermark is above it; the other partitions go on being read (node-rdkafka drops the error when the same call also
// returned messages). That is how `locateStuckPartitions` finds it; the codec is the one the build lacks.
import { KafkaError } from './errors.js';
import { CODEC_FEATURES, FEATURE_PACKAGES, REBUILD_COMMAND } from './features.js';

/** librdkafka's codes for the two errors (node-rdkafka's CODES.ERRORS.ERR__NOT_IMPLEMENTED, ERR__BAD_COMPRESSION). */
export const LIBRDKAFKA_CODES = {
  notImplemented: -170,
  badCompression: -198,
} as const;

/** The metric the daemon counts such batches in (a counter, labels topic, partition, reason). */
export const UNDECOMPRESSABLE_METRIC = 'lux_consume_undecompressable_batches_total';

/** Why a batch cannot be read: the build lacks its codec, or its compressed bytes are bad. */
export type UndecompressableReason = 'codec_missing' | 'corrupt_batch';

/** The consume error: a KafkaError (its rdkafkaCode), or node-rdkafka's LibrdKafkaError as it comes (its numeric code). */
export interface ConsumeErrorLike {
  code?: number | string;
  errno?: number;
  rdkafkaCode?: number;
  message?: string;
  /** KafkaError: librdkafka's error as reported (its message is librdkafka's own, without the call's name) */
  cause?: unknown;
}

/** librdkafka's error code of a consume error, whichever shape it came in. */
function rdkafkaCodeOf(err: ConsumeErrorLike): number | undefined {
  if (typeof err.rdkafkaCode === 'number') return err.rdkafkaCode;
  if (typeof err.code === 'number') return err.code;
  return typeof err.errno === 'number' ? err.errno : undefined;
}

/** One assigned partition as the consumer sees it: the next offset it will read and the high watermark it knows. */
export interface PartitionProgress {
  partition: number;
  /** the next offset to read; undefined when nothing has been read from it yet */
  next: number | undefined;
  /** the partition's high watermark (offset of the next record to be written); undefined when not known yet */
  high: number | undefined;
  /** its low watermark: where a partition nothing was read from starts (auto.offset.reset earliest, no commit) */
  low?: number;
}

/** A partition that has records the consumer has not read: where a batch that cannot be decompressed may sit. */
export interface StuckPartition {
  partition: number;
  /** first offset not read: the start of the batch that cannot be decompressed (when this is the partition) */
  offset: number;
  /** records after it, up to the high watermark */
  unread: number;
}

/**
 * A batch the consumer cannot decompress: located, with its codec (as far as known) and what to do. A KafkaError of
 * the consumer, neither retriable nor fatal: retrying changes nothing, and the other partitions can still be read.
 */
export class UndecompressableBatchError extends KafkaError {
  readonly reason: UndecompressableReason;
  override readonly topic: string;
  /** the partitions holding unread records when the error came; one when known exactly */
  readonly partitions: readonly StuckPartition[];
  /** the codec(s) the build lacks (codec_missing), empty when not known */
  readonly codecs: readonly string[];
  /** librdkafka's error code (-170 or -198) */
  readonly librdkafkaCode: number;
  /** one sentence: what the operator should do */
  readonly remedy: string;
  constructor(fields: {
    reason: UndecompressableReason;
    topic: string;
    partitions: readonly StuckPartition[];
    codecs: readonly string[];
    librdkafkaCode: number;
    librdkafkaMessage: string;
    remedy: string;
  }) {
    const only = fields.partitions.length === 1 ? fields.partitions[0] : undefined;
    super(describe(fields), { role: 'consumer', topic: fields.topic, partition: only?.partition, offset: only?.offset });
    this.name = 'UndecompressableBatchError';
    this.reason = fields.reason;
    this.topic = fields.topic;
    this.partitions = fields.partitions;
    this.codecs = fields.codecs;
    this.librdkafkaCode = fields.librdkafkaCode;
    this.remedy = fields.remedy;
  }

  /** A key that is the same for every repeat of this error: the daemon reports it once. */
  get key(): string {
    return `${this.reason}:${this.topic}:${this.partitions.map((p) => `${p.partition}@${p.offset}`).join(',')}`;
  }

  /** Fields for a structured log line. */
  toLog(): Record<string, unknown> {
    return {
      reason: this.reason,
      topic: this.topic,
      partitions: this.partitions,
      codecs: this.codecs,
      librdkafka_code: this.librdkafkaCode,
      remedy: this.remedy,
    };
  }
}

function where(topic: string, partitions: readonly StuckPartition[]): string {
  if (partitions.length === 0) return `topic ${topic} (partition unknown: every assigned partition is read to its end)`;
  if (partitions.length === 1) return `topic ${topic} partition ${partitions[0]!.partition} offset ${partitions[0]!.offset}`;
  const list = partitions.map((p) => `${p.partition} at offset ${p.offset}`).join(', ');
  return `topic ${topic}, one of partitions ${list}`;
}

function describe(f: {
  reason: UndecompressableReason;
  topic: string;
  partitions: readonly StuckPartition[];
  codecs: readonly string[];
  librdkafkaCode: number;
  librdkafkaMessage: string;
  remedy: string;
}): string {
  const what =
    f.reason === 'codec_missing'
      ? `a fetched batch is compressed with ${f.codecs.length === 1 ? f.codecs[0] : `one of ${f.codecs.join(', ') || 'an unknown codec'}`}, which this librdkafka was built without`
      : 'a fetched batch cannot be decompressed (its compressed bytes are bad)';
  return `${where(f.topic, f.partitions)}: ${what} (librdkafka: ${f.librdkafkaMessage}, code ${f.librdkafkaCode}); the partition reads nothing past it. ${f.remedy}`;
}

/**
 * The partitions with unread records: next offset (or, for a partition nothing was read from yet, `fallbackNext`, e.g.
 * the committed offset) below the high watermark. Right after a decompression error the stuck partition is among
 * them; once the others have caught up it is the only one.
 */
export function locateStuckPartitions(
  progress: readonly PartitionProgress[],
  fallbackNext: (partition: number) => number | undefined = () => undefined,
): StuckPartition[] {
  const out: StuckPartition[] = [];
  for (const p of progress) {
    const next = p.next ?? fallbackNext(p.partition) ?? p.low;
    if (next === undefined || p.high === undefined || next < 0 || p.high < 0) continue;
    if (next < p.high) out.push({ partition: p.partition, offset: next, unread: p.high - next });
  }
  return out.sort((a, b) => a.partition - b.partition);
}

/** The consumer calls `progressOf` needs (node-rdkafka's KafkaConsumer has both). */
export interface ConsumerView {
  position(): Array<{ topic: string; partition: number; offset?: number }>;
  getWatermarkOffsets(topic: string, partition: number): { lowOffset: number; highOffset: number };
}

/**
 * Each assigned partition's progress from the consumer's own state (no broker round trip): `position()` for the next
 * offset, the watermarks cached from the last fetch (they arrive with the failing fetch too). A partition nothing was
 * read from has no position: `locateStuckPartitions` takes the caller's `fallbackNext` (its committed offset), else the
 * low watermark (auto.offset.reset earliest).
 */
export function progressOf(consumer: ConsumerView, topic: string, partitions: readonly number[]): PartitionProgress[] {
  const positions = new Map<number, number>();
  try {
    for (const tp of consumer.position()) {
      if (tp.topic === topic && tp.offset !== undefined && tp.offset >= 0) positions.set(tp.partition, tp.offset);
    }
  } catch {
    // not connected: nothing is known
  }
  return partitions.map((partition) => {
    let high: number | undefined;
    let low: number | undefined;
    try {
      const w = consumer.getWatermarkOffsets(topic, partition);
      if (w.highOffset >= 0) high = w.highOffset;
      if (w.lowOffset >= 0) low = w.lowOffset;
    } catch {
      // no watermark cached yet
    }
    return { partition, next: positions.get(partition), high, low };
  });
}

/** The codecs `features` lacks, in CODEC_FEATURES order. */
export function missingCodecs(features: string | readonly string[]): string[] {
  const have = new Set((typeof features === 'string' ? features.split(',') : features).map((f) => f.trim()));
  return CODEC_FEATURES.filter((c) => !have.has(c));
}

/** What a consume error is: a batch that cannot be decompressed (located), or anything else (the caller's retry). */
export type ConsumeErrorClass =
  | { kind: 'undecompressable'; error: UndecompressableBatchError }
  | { kind: 'other' };

/** What the classifier needs besides the error. */
export interface ConsumeErrorContext {
  topic: string;
  /** node-rdkafka's `features` */
  features: string | readonly string[];
  /** the assigned partitions' progress (`progressOf`) */
  progress: readonly PartitionProgress[];
  /** next offset of a partition nothing was read from yet (e.g. its committed offset) */
  fallbackNext?: (partition: number) => number | undefined;
}

function remedyFor(reason: UndecompressableReason, codecs: readonly string[], topic: string): string {
  if (reason === 'corrupt_batch') {
    return `The producer wrote a batch its codec cannot read back: check the producer and the broker's disk; to go on without it, stop LUX and move the group's offset past the batch (kafka-consumer-groups --reset-offsets --topic ${topic}:<partition> --to-offset <n>).`;
  }
  const packages = [...new Set(codecs.flatMap((c) => FEATURE_PACKAGES[c as keyof typeof FEATURE_PACKAGES]?.packages ?? []))];
  const install = packages.length > 0 ? `apt-get install ${packages.join(' ')} && ` : '';
  return `Install the codec's development package and rebuild node-rdkafka (${install}${REBUILD_COMMAND}), then restart LUX: it resumes at this offset, nothing is lost.`;
}

/**
 * Classifies a consume error. -170 (Not implemented) with a codec missing from the build, and -198 (bad
 * compression), are batches that will fail on every retry: they come back as an UndecompressableBatchError to
 * report once, set /ready false and count (UNDECOMPRESSABLE_METRIC). Everything else is `other`, for the usual retry.
 */
export function classifyConsumeError(err: ConsumeErrorLike, ctx: ConsumeErrorContext): ConsumeErrorClass {
  const code = rdkafkaCodeOf(err);
  const cause = err.cause as { message?: unknown } | undefined;
  const message = (typeof cause?.message === 'string' ? cause.message : undefined) ?? err.message ?? 'unknown error';
  let reason: UndecompressableReason;
  let codecs: string[];
  if (code === LIBRDKAFKA_CODES.notImplemented) {
    codecs = missingCodecs(ctx.features);
    // With every codec built in, -170 is librdkafka skipping an unsupported message format: it moves on by itself.
    if (codecs.length === 0) return { kind: 'other' };
    reason = 'codec_missing';
  } else if (code === LIBRDKAFKA_CODES.badCompression) {
    codecs = [];
    reason = 'corrupt_batch';
  } else {
    return { kind: 'other' };
  }
  const partitions = locateStuckPartitions(ctx.progress, ctx.fallbackNext);
  return {
    kind: 'undecompressable',
    error: new UndecompressableBatchError({
      reason,
      topic: ctx.topic,
      partitions,
      codecs,
      librdkafkaCode: code,
      librdkafkaMessage: message,
      remedy: remedyFor(reason, codecs, ctx.topic),
    }),
  };
}

/**
 * Remembers which undecompressable batches were reported, so a stuck partition is logged once (and again only when
 * its location changes, e.g. the other partitions caught up and it is now known exactly).
 */
export class UndecompressableReports {
  private readonly seen = new Set<string>();

  /** True the first time this error (by its key) is seen. */
  first(error: UndecompressableBatchError): boolean {
    if (this.seen.has(error.key)) return false;
    this.seen.add(error.key);
    return true;
  }

  /** Whether any batch could not be decompressed since start: /ready stays false while true (a restart clears it). */
  get any(): boolean {
    return this.seen.size > 0;
  }
}
