// Writing a decoded pass into the open transaction: each message's enriched records or its dead letter, in message order, with the offsets the transaction will commit.
import type { Message, TopicPartitionOffset } from '../kafka/client.js';
import { MSG_WORDS, M_COUNT, M_FIRST, M_REASON, REC_WORDS, R_EQUIPMENT, R_TIME_F64 } from '../decode/layout.js';
import { REASON_NAMES } from '../decode/reasons.js';
import type { RingViews } from '../transport/batch-ring.js';
import type { DecodedPass } from '../transport/inflight.js';
import type { PipelineCounters } from '../metrics/pipeline-counters.js';
import { SINK_INTERNALS } from '../config/internals.js';
import { deadLetterHeaders, deadLetterValue } from './dead-letter.js';
import type { Header, TransactionalSink } from './transactional-producer.js';

/** A written pass's timing, handed to the latency observers once the transaction holding it has committed. */
export interface WrittenPass {
  /** Kafka timestamps (ms) of the messages whose last record this pass produced */
  timestamps: Float64Array;
  /** event times (ms) of the records this pass produced */
  eventTimes: Float64Array;
  /** when the pass was written into the transaction */
  writtenAt: number;
}

export interface PassWriterOptions {
  sink: TransactionalSink;
  views: RingViews;
  topics: { raw: string; enriched: string; dlq: string };
  counters: PipelineCounters;
  /** each dead letter as it is written (the status page keeps the last few as examples) */
  deadLettered?: (m: Message, reason: string) => void;
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Produces passes into the open transaction and keeps, for it, the next offset to commit per raw partition and the
 * passes' timings. The offset moves past a frame only once all its records are in the transaction. Per record this
 * only notes where the JSON the worker wrote and its cached key sit; the pass then goes to librdkafka in one call
 * (TransactionalSink.produceMany), which copies the bytes.
 */
export class PassWriter {
  private readonly o: PassWriterOptions;
  /** next offset to commit per raw partition, for what the open transaction holds */
  private readonly pending = new Map<number, number>();
  private readonly passes: WrittenPass[] = [];
  /** equipment id → where its decimal key sits in keyBytes: [start, end] */
  private readonly keyCache = new Map<number, readonly [number, number]>();
  /** the keys of keyCache, back to back (the native produce reads them as ranges, as it reads values) */
  private keyBytes = new Uint8Array(4096);
  private keyBytesUsed = 0;
  /** 4 words a record of the pass being written: value and key ranges (see TransactionalSink.produceMany) */
  private spec = new Uint32Array(4 * 1024);
  /** records of the pass being written already handed to the sink */
  private flushed = 0;
  /** a byte view of the workers' shared output memory, made once */
  private output: Uint8Array | undefined;

  constructor(options: PassWriterOptions) {
    this.o = options;
  }

  /** Writes one pass: enriched records and dead letters, in message order. */
  write(pass: DecodedPass): void {
    const { batch, result } = pass;
    const { u32, outU32, f64 } = this.o.views;
    const { counters } = this.o;
    const geo = this.o.views.slots[batch.slot];
    const out = this.o.views.outputs[batch.slot];
    const enriched = this.o.topics.enriched;
    counters.decodeNs += result.decodeNs;
    counters.enrichNs += result.enrichNs;
    if (this.keyCache.size > SINK_INTERNALS.keyCacheEntries) this.forgetKeys();
    // Messages [from, done) are complete in this pass; message `done` is partly there when doneRecord > 0.
    const last = result.doneRecord > 0 ? result.done : result.done - 1;
    const eventTimes = new Float64Array(result.records);
    const timestamps = new Float64Array(result.done - batch.from);
    const spec = this.specFor(result.records);
    this.flushed = 0;
    let finished = 0;
    let rec = 0;
    let jsonStart = 0;
    for (let i = batch.from, r = batch.fromRecord; i <= last; i++, r = 0) {
      const m = batch.messages[batch.start + i];
      const row = (geo.msgPtr >>> 2) + i * MSG_WORDS;
      const reason = u32[row + M_REASON];
      if (reason !== 0) {
        this.flush(enriched, spec, rec);
        this.deadLetter(m, REASON_NAMES[reason] ?? 'truncated');
        this.pending.set(m.partition, m.offset + 1);
        timestamps[finished++] = m.timestamp ?? Date.now();
        continue;
      }
      const first = u32[row + M_FIRST];
      const count = u32[row + M_COUNT];
      const upto = i === result.done ? result.doneRecord : count;
      const key = this.key(u32[(geo.recPtr >>> 2) + first * REC_WORDS + R_EQUIPMENT]);
      counters.recordsOut += upto - r;
      for (; r < upto; r++) {
        const end = outU32[out.endsIndex + rec];
        const w = rec * 4;
        spec[w] = out.jsonPtr + jsonStart;
        spec[w + 1] = out.jsonPtr + end;
        spec[w + 2] = key[0];
        spec[w + 3] = key[1];
        eventTimes[rec] = f64[((geo.recPtr + (first + r) * REC_WORDS * 4) >>> 3) + R_TIME_F64];
        jsonStart = end;
        rec++;
      }
      // The offset moves past a frame only once all its records are in the transaction (they are, below, before
      // the transaction can commit: nothing commits while a pass is being written).
      if (upto === count) {
        this.pending.set(m.partition, m.offset + 1);
        timestamps[finished++] = m.timestamp ?? Date.now();
      }
    }
    this.flush(enriched, spec, rec);
    this.passes.push({ timestamps: timestamps.subarray(0, finished), eventTimes, writtenAt: Date.now() });
  }

  /**
   * Produces the pass's records gathered in `spec` since the last flush, in one call (the native batch produce) or,
   * without it, one node-rdkafka call each; waits while librdkafka's queue is full, as `produce` does.
   */
  private flush(topic: string, spec: Uint32Array, to: number): void {
    let from = this.flushed;
    const values = this.outputBytes();
    while (from < to) {
      from += this.o.sink.produceMany(topic, values, this.keyBytes, spec, from, to);
      if (from < to) {
        this.o.sink.poll();
        Atomics.wait(waitCell, 0, 0, SINK_INTERNALS.queueFullWaitMs);
      }
    }
    this.flushed = to;
  }

  /**
   * Produces one message into the open transaction, waiting while librdkafka's queue is full (the transaction bounds
   * how much can queue up; a producer that falls behind thus slows the loop, the ring fills and fetching pauses).
   */
  produce(topic: string, value: Buffer | null, key: string | Buffer | null, headers?: Header[], partition: number | null = null): void {
    while (!this.o.sink.produce(topic, value, key, headers, partition)) {
      this.o.sink.poll();
      Atomics.wait(waitCell, 0, 0, SINK_INTERNALS.queueFullWaitMs);
    }
  }

  /** The raw-topic offsets the open transaction commits. */
  offsets(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const [partition, offset] of this.pending) out.push({ topic: this.o.topics.raw, partition, offset });
    return out;
  }

  /** The transaction committed: its passes' timings, and a fresh start for the next one. */
  committed(): WrittenPass[] {
    this.pending.clear();
    return this.passes.splice(0);
  }

  /** The transaction was aborted: nothing it held counts. */
  reset(): void {
    this.pending.clear();
    this.passes.length = 0;
  }

  private deadLetter(m: Message, reason: string): void {
    this.produce(this.o.topics.dlq, deadLetterValue(m), m.key ?? null, deadLetterHeaders(m, reason));
    const c = this.o.counters;
    c.deadLetters++;
    c.deadLettersByReason.set(reason, (c.deadLettersByReason.get(reason) ?? 0) + 1);
    this.o.deadLettered?.(m, reason);
  }

  private key(equipment: number): readonly [number, number] {
    let k = this.keyCache.get(equipment);
    if (k === undefined) {
      const text = String(equipment);
      if (this.keyBytesUsed + text.length > this.keyBytes.length) {
        const grown = new Uint8Array(Math.max(this.keyBytes.length * 2, this.keyBytesUsed + text.length));
        grown.set(this.keyBytes.subarray(0, this.keyBytesUsed));
        this.keyBytes = grown;
      }
      const start = this.keyBytesUsed;
      for (let i = 0; i < text.length; i++) this.keyBytes[start + i] = text.charCodeAt(i);
      this.keyBytesUsed += text.length;
      k = [start, this.keyBytesUsed];
      this.keyCache.set(equipment, k);
    }
    return k;
  }

  /** Starts the key cache afresh (between passes only: a pass's spec points into keyBytes). */
  private forgetKeys(): void {
    this.keyCache.clear();
    this.keyBytesUsed = 0;
  }

  /** The spec array for a pass of `records` records, grown when needed. */
  private specFor(records: number): Uint32Array {
    if (this.spec.length < records * 4) this.spec = new Uint32Array(Math.max(records * 4, this.spec.length * 2));
    return this.spec;
  }

  private outputBytes(): Uint8Array {
    const shared = this.o.views.shared.output;
    if (this.output?.buffer !== shared) this.output = new Uint8Array(shared);
    return this.output;
  }

}
