// The transaction cycle: open a transaction, commit it when due with the consumed offsets and every side's messages, and recover from a failed one (abort, replace a fenced producer, rewind).
import type { KafkaConsumer, TopicPartitionOffset } from '../kafka/client.js';
import { isProducerFatal } from '../kafka/errors.js';
import { isFatal, LuxError } from '../errors.js';
import { SINK_INTERNALS } from '../config/internals.js';
import type { PipelineCounters } from '../metrics/pipeline-counters.js';
import type { PassWriter, WrittenPass } from './pass-writer.js';
import type { TransactionalSink } from './transactional-producer.js';
import type { TransactionContext, TransactionSide } from './transaction-side.js';

export interface CycleLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What a recovery needs from the stages before the sink: they own what is in flight and where reading resumes. */
export interface RecoveryHooks {
  /** ends what is in flight upstream: the consume call in progress (what it read is dropped) and the decode batches */
  halt(): Promise<void>;
  /** sends every assigned input partition back to its committed offset */
  rewind(): Promise<void>;
}

export interface TransactionCycleOptions {
  sink: TransactionalSink;
  writer: PassWriter;
  sides: readonly TransactionSide[];
  /** the consumer whose group the offsets are committed for */
  consumer: () => KafkaConsumer;
  /** how far the transaction about to commit goes, and what this instance owns */
  context: () => TransactionContext;
  /** a transaction commits at least this often while records flow */
  commitIntervalMs: number;
  /** whether the input is behind (the last read filled its batch): commits are then spaced (commitGapMs) */
  backlog?: () => boolean;
  transactionalId: string;
  counters: PipelineCounters;
  log: CycleLog;
  recovery: RecoveryHooks;
  /** told after each commit with the passes it made visible */
  onCommitted?: (passes: WrittenPass[], committedAt: number) => void;
  /** told how long the sides took to prepare a commit (ms) */
  timedSides?: (ms: number) => void;
}

/**
 * How long after the previous commit returned the next may start (sooner than the interval): at once while the input
 * keeps up, for latency; spaced while it is behind, so that a backlog drains in fewer, larger transactions.
 */
export function commitGapMs(backlog: boolean): number {
  return backlog ? SINK_INTERNALS.commitBacklogGapMs : SINK_INTERNALS.commitMinGapMs;
}

/**
 * One transaction at a time. Records are written while it is open; `commit` asks every side for its part (alarms,
 * window state, KPIs), adds the offsets and commits; a failure aborts and rewinds to the last commit, so nothing
 * uncommitted is ever visible and nothing committed is read twice.
 */
export class TransactionCycle {
  private readonly o: TransactionCycleOptions;
  private openedAt = 0;
  /** when the last commit returned (its successor may commit right after) */
  private committedAt = 0;
  private inFlight: Promise<void> | undefined;
  /** a recovery is running: nothing is consumed until it ends */
  private recoveringNow = false;
  /** counts recoveries: a consume that was in flight when one began drops what it read */
  private recoveries = 0;
  /** when the producer was last replaced after a fatal error (within SINK_INTERNALS.renewals.windowMs) */
  private renewedAt: number[] = [];

  constructor(options: TransactionCycleOptions) {
    this.o = options;
  }

  get inTransaction(): boolean {
    return this.o.sink.inTransaction;
  }

  /** The commit running in the background, if any: nothing is written until it settles. */
  get committing(): Promise<void> | undefined {
    return this.inFlight;
  }

  get recovering(): boolean {
    return this.recoveringNow;
  }

  /** Changes with every recovery: what was read before one began is read again after it. */
  get epoch(): number {
    return this.recoveries;
  }

  /** Opens a transaction unless one is open (node-rdkafka runs begin off the loop: await it before producing). */
  async open(): Promise<void> {
    if (this.o.sink.inTransaction) return;
    await this.o.sink.begin();
    this.openedAt = Date.now();
  }

  /**
   * A commit is due: the open transaction holds something and the previous commit has returned (at least
   * commitGapMs ago), or it is commit_interval_ms old, or the pipeline stops; or a side wants one though no record
   * flows. The cadence thus follows the broker's commit time; the interval only bounds it.
   */
  due(stopping: boolean): boolean {
    if (this.o.sink.inTransaction) {
      const now = Date.now();
      if (stopping || now - this.openedAt >= this.o.commitIntervalMs) return true;
      return this.o.sink.produced > 0 && now - this.committedAt >= commitGapMs(this.o.backlog?.() ?? false);
    }
    return this.sidesDue();
  }

  /** Starts a commit in the background (`committing` until it settles). */
  startCommit(): void {
    this.inFlight = this.commit().finally(() => {
      this.inFlight = undefined;
    });
  }

  /**
   * Commits the open transaction with the consumed offsets and every side's part; on failure aborts and rewinds to
   * the last commit. A transaction also opens when a side is due though no record flows.
   */
  async commit(): Promise<void> {
    if (!this.o.sink.inTransaction && !this.sidesDue()) return;
    const offsets: TopicPartitionOffset[] = this.o.writer.offsets();
    const t0 = Date.now();
    const prepared: TransactionSide[] = [];
    let alarms = 0;
    try {
      const context = this.o.context();
      const ts = performance.now();
      const sidesMs: Record<string, number> = {};
      for (const side of this.o.sides) {
        const t = performance.now();
        const out = await side.prepare(context);
        sidesMs[side.name] = Math.round(performance.now() - t);
        prepared.push(side);
        if (out.messages.length > 0) await this.open();
        for (const m of out.messages) this.o.writer.produce(m.topic, m.value, m.key, m.headers, m.partition ?? null);
        if (out.offsets !== undefined) offsets.push(...out.offsets);
        alarms += out.alarms ?? 0;
      }
      this.o.timedSides?.(performance.now() - ts);
      if (!this.o.sink.inTransaction) {
        for (const side of prepared) await side.settle();
        return;
      }
      const calls = await this.o.sink.commit(offsets, this.o.consumer());
      for (const side of prepared) await side.settle();
      const now = Date.now();
      this.committedAt = now;
      const c = this.o.counters;
      c.transactions++;
      c.lastTransactionMs = now - t0;
      c.alarms += alarms;
      // where a slow commit's time went: each side's part, then the two transactional calls (the broker's answers)
      this.o.log.debug(
        { offsets, ms: now - t0, sidesMs, sendOffsetsMs: Math.round(calls.offsetsMs), commitMs: Math.round(calls.commitMs) },
        'transaction committed',
      );
      this.o.onCommitted?.(this.o.writer.committed(), now);
    } catch (err) {
      await this.recover(err);
    }
  }

  /**
   * After a failed transaction or loop step: abort it and rewind every assigned partition to its committed offset.
   * A producer that failed fatally is replaced (a bounded number of times); any other fatal error ends the pipeline.
   */
  async recover(err: unknown): Promise<void> {
    const { log } = this.o;
    this.o.counters.aborts++;
    let renew = false;
    if (isFatal(err)) {
      if (!isProducerFatal(err)) throw err; // not the producer's (the consumer, a side's thread): as it is
      this.mayRenew(err);
      renew = true;
    }
    log.warn({ err: (err as Error).message }, 'transaction failed; aborting and rewinding to the last committed offsets');
    this.recoveringNow = true;
    this.recoveries++;
    try {
      await this.recoverLocked(renew);
    } finally {
      this.recoveringNow = false;
    }
  }

  private async recoverLocked(renew: boolean): Promise<void> {
    const { log, recovery } = this.o;
    // what is in flight ends first (a consume's messages are dropped), so nothing read before the rewind is written
    await recovery.halt();
    this.o.writer.reset();
    // Every side puts its state back as the last commit left it: the rewound records count once, and what they
    // decide comes again.
    for (const side of this.o.sides) await side.discard();
    // While the broker is away each step fails; retry until it answers (one log line an attempt), never give up on a
    // transient outage.
    for (let attempt = 1; ; attempt++) {
      try {
        if (renew) {
          log.warn({ transactionalId: this.o.transactionalId }, 'the producer failed fatally: starting a new one with the same transactional.id (the broker aborts what the old one left open)');
          await this.o.sink.renew(SINK_INTERNALS.renewConnectMs);
          renew = false;
        } else await this.o.sink.abort();
        // what is assigned now: the group may have rebalanced during the outage
        await recovery.rewind();
        if (attempt > 1) log.info({ attempt }, 'recovered: rewound to the last committed offsets');
        return;
      } catch (e) {
        if (isProducerFatal(e)) {
          this.mayRenew(e);
          renew = true;
        } else if (isFatal(e)) throw e;
        log.warn({ attempt, err: (e as Error).message }, 'recovery after a failed transaction did not complete; retrying');
        await new Promise((r) => setTimeout(r, Math.min(SINK_INTERNALS.retryMaxMs, SINK_INTERNALS.retryBaseMs * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  /**
   * A producer that failed fatally may be replaced (`TransactionalSink.renew`): a transaction the broker aborted on
   * its own during a long outage fences the producer that held it. More than `renewals.max` within
   * `renewals.windowMs` means something else fences it (another instance with the same transactional.id): the
   * pipeline ends with that error, for systemd to restart it.
   */
  private mayRenew(err: unknown): void {
    const { max, windowMs } = SINK_INTERNALS.renewals;
    const now = Date.now();
    this.renewedAt = this.renewedAt.filter((t) => now - t < windowMs);
    if (this.renewedAt.length >= max) {
      throw new LuxError(
        'E_KAFKA',
        `the producer failed fatally ${this.renewedAt.length + 1} times within ${windowMs / 60000} minutes ` +
          `(another instance with transactional.id '${this.o.transactionalId}' may be fencing this one): ${(err as Error).message}`,
        { fatal: true },
      );
    }
    this.renewedAt.push(now);
  }

  private sidesDue(): boolean {
    for (const s of this.o.sides) if (s.due()) return true;
    return false;
  }
}
