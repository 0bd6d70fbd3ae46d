// The main thread's side of the KPIs in a transaction: the partials of the batches it holds, gathered per shard, and the progress marks of the raw partitions this instance owns, as one partials message per shard.
//
// A completed batch's partials (BatchPartials.finish, transferred from its worker) are opened as an index over their
// chunks — nothing is parsed again — and each chunk is queued for its shard. At commit, `prepare` writes one message
// per shard that has something to say (partials-codec.ts): chunks of its own, or marks that changed (a partition's
// largest event time grew, or it went idle or came back) — marks go to every shard, since every shard's watermark
// needs every raw partition. The messages are produced to the partials topic, partition = shard, in the same
// transaction as the records and offsets; `settle` ends it (an abort puts the marks back as the last commit left them).
//
// Idle marks read SPEC section 4 as alarms/watermark.ts does: a raw partition owned here with no record for
// `idleTimeoutMs` of wall clock (since its last record, or its assignment) is announced idle once when it flips, and
// again every idleTimeoutMs while it stays idle, so a merger restarted from a state without it learns it again.
// `due` tells the pipeline such an announcement is pending: it then commits a transaction although no record flows.
import { DEFAULTS } from '../config/schema.js';
import { KpiFormatError, KpiUsageError } from './errors.js';
import { encodePartialsMessage, readBatchPartials, type PartitionMark } from './partials-codec.js';

export interface TransactionPartialsOptions {
  /** kpis.window_ms (a batch of another window size is refused) */
  readonly windowMs: number;
  /** partitions of the partials topic */
  readonly shards: number;
  /** wall-clock ms without records after which an owned raw partition is announced idle */
  readonly idleTimeoutMs?: number;
}

/** One message of the transaction: produce `value` to the partials topic's partition `shard`. */
export interface PartialsMessage {
  shard: number;
  value: Buffer;
}

/** An owned raw partition's progress. */
interface Progress {
  /** largest event time of its records in transactions; -Infinity before the first */
  maxTime: number;
  /** wall clock of its last record (or of its assignment) */
  lastRecordAt: number;
  /** announced idle */
  idle: boolean;
  /** wall clock of the last idle announcement */
  announcedAt: number;
  /** the largest event time last sent */
  sentTime: number;
}

const copyOf = (m: Map<number, Progress>): Map<number, Progress> => new Map([...m].map(([p, v]) => [p, { ...v }]));

export class TransactionPartials {
  readonly windowMs: number;
  readonly shards: number;
  readonly idleTimeoutMs: number;
  private progress = new Map<number, Progress>();
  private committed = new Map<number, Progress>();
  /** per shard, the chunks of the open transaction */
  private readonly chunks: Uint8Array[][];
  private chunkCount = 0;
  /** batches and records added to the open transaction */
  batches = 0;
  records = 0;

  constructor(options: TransactionPartialsOptions) {
    if (!Number.isInteger(options.shards) || options.shards < 1) throw new KpiUsageError(`the shard count must be a positive integer, got ${options.shards}`);
    this.windowMs = options.windowMs;
    this.shards = options.shards;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULTS.alarms.idle_partition_ms;
    this.chunks = Array.from({ length: options.shards }, () => []);
  }

  /** Raw partitions assigned to this instance: each is announced once it has records, or once it idles out. */
  assign(partitions: readonly number[], nowMs: number): void {
    for (const p of partitions) {
      if (this.progress.has(p)) continue;
      const fresh: Progress = { maxTime: -Infinity, lastRecordAt: nowMs, idle: false, announcedAt: -Infinity, sentTime: -Infinity };
      this.progress.set(p, fresh);
      this.committed.set(p, { ...fresh });
    }
  }

  /** Raw partitions revoked: no longer announced (their next owner does). */
  revoke(partitions: readonly number[]): void {
    for (const p of partitions) {
      this.progress.delete(p);
      this.committed.delete(p);
    }
  }

  /** The raw partitions owned. */
  owned(): number[] {
    return [...this.progress.keys()].sort((a, b) => a - b);
  }

  /** A completed batch's partials (`BatchPartials.finish`), now part of the open transaction; `nowMs` is the wall clock. */
  add(batch: Uint8Array, nowMs: number): void {
    const v = readBatchPartials(batch);
    const origin = { what: 'batch partials' };
    if (v.windowMs !== this.windowMs) {
      throw new KpiFormatError(origin, 'window_mismatch', `built for windows of ${v.windowMs} ms, the transaction's are ${this.windowMs} ms`);
    }
    if (v.shards !== this.shards) throw new KpiFormatError(origin, 'shard_mismatch', `built for ${v.shards} shards, the transaction has ${this.shards}`);
    for (let i = 0; i < v.partitions.length; i++) {
      const pr = this.progress.get(v.partitions[i]);
      if (pr === undefined || v.records[i] === 0) continue;
      if (v.maxTimes[i] > pr.maxTime) pr.maxTime = v.maxTimes[i];
      pr.lastRecordAt = nowMs;
      this.records += v.records[i];
    }
    for (let i = 0; i < v.chunks.length; i++) this.chunks[v.chunkShards[i]].push(v.chunks[i]);
    this.chunkCount += v.chunks.length;
    this.batches++;
  }

  /** Is an idle flip or an idle re-announcement pending (commit a transaction even without records)? */
  due(nowMs: number): boolean {
    for (const pr of this.progress.values()) {
      if (nowMs - pr.lastRecordAt < this.idleTimeoutMs) continue;
      if (!pr.idle || nowMs - pr.announcedAt >= this.idleTimeoutMs) return true;
    }
    return false;
  }

  /**
   * The partials messages of the open transaction: one per shard with chunks, and one for every shard when the marks
   * changed or an idle announcement is due. Each carries the marks of every owned partition. `settle` follows.
   */
  prepare(nowMs: number): PartialsMessage[] {
    let changed = false;
    for (const pr of this.progress.values()) {
      const idle = nowMs - pr.lastRecordAt >= this.idleTimeoutMs;
      if (idle !== pr.idle) {
        pr.idle = idle;
        changed = true;
        if (idle) pr.announcedAt = nowMs;
      } else if (idle && nowMs - pr.announcedAt >= this.idleTimeoutMs) {
        pr.announcedAt = nowMs;
        changed = true;
      }
      if (pr.maxTime > pr.sentTime) {
        pr.sentTime = pr.maxTime;
        changed = true;
      }
    }
    const marks: PartitionMark[] = [];
    for (const p of this.owned()) {
      const pr = this.progress.get(p)!;
      if (pr.maxTime > -Infinity || pr.idle) marks.push({ partition: p, timeMs: pr.maxTime, idle: pr.idle });
    }
    const out: PartialsMessage[] = [];
    for (let s = 0; s < this.shards; s++) {
      if (this.chunks[s].length === 0 && !changed) continue;
      out.push({ shard: s, value: encodePartialsMessage(this.windowMs, s, this.shards, marks, this.chunks[s]) });
    }
    return out;
  }

  /** Ends the open transaction: committed, its marks are the committed ones; aborted, they are put back. */
  settle(committed: boolean): void {
    if (committed) this.committed = copyOf(this.progress);
    else this.progress = copyOf(this.committed);
    for (const c of this.chunks) c.length = 0;
    this.chunkCount = 0;
    this.batches = 0;
    this.records = 0;
  }

  /** Chunks held for the open transaction. */
  get pendingChunks(): number {
    return this.chunkCount;
  }
}
