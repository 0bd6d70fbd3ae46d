// The batches in flight: ring slots filled with consumed frames, handed to the decode workers in dispatch order, and their results taken back in the same order.
import type { Piscina } from 'piscina';
import type { Message } from '../kafka/client.js';
import type { ReferenceVersion } from '../enrich/reference.js';
import type { RingViews } from './batch-ring.js';
import type { DecodeResult, DecodeTask } from './decode-task.js';

/** One batch in flight: a slot and the Kafka messages whose frames it holds. */
export interface InflightBatch {
  /** dispatch order: the alarm thread applies a batch's entries with the transaction that holds its records */
  readonly seq: number;
  readonly slot: number;
  readonly messages: readonly Message[];
  /** the batch holds messages[start, start + count) */
  readonly start: number;
  readonly count: number;
  /** where the next pass starts (message, record within it); a pass may stop early when the JSON area fills */
  from: number;
  fromRecord: number;
  /** the reference data every pass of this batch uses */
  readonly reference: ReferenceVersion;
  promise: Promise<DecodeResult>;
}

/** A completed pass of the head batch, to be written into the open transaction. */
export interface DecodedPass {
  batch: InflightBatch;
  result: DecodeResult;
}

/**
 * The ring's slots and the decode tasks running on them, taken back strictly in order: the head batch's passes are
 * written first, so records keep their input order, though the pool may run the tasks in another order. A pass that filled the slot's JSON area is continued (same slot, same reference
 * version, so one frame never mixes two) once the caller has written it; a finished batch frees its slot.
 */
export class InflightBatches {
  private readonly views: RingViews;
  private readonly reference: () => ReferenceVersion;
  private pool: Piscina | undefined;
  private readonly batches: InflightBatch[] = [];
  private readonly freeSlots: number[] = [];
  /** the number of the next batch dispatched, and of the last one wholly written */
  private nextSeq = 1;
  private writtenSeq = 0;

  constructor(views: RingViews, reference: () => ReferenceVersion) {
    this.views = views;
    this.reference = reference;
    for (let i = 0; i < views.shared.sizes.slots; i++) this.freeSlots.push(i);
  }

  /** The decode workers; set once they are started. */
  attach(pool: Piscina): void {
    this.pool = pool;
  }

  /** Slots free for a new batch. */
  get free(): number {
    return this.freeSlots.length;
  }

  /** Batches in flight. */
  get length(): number {
    return this.batches.length;
  }

  /** The oldest batch in flight, if any. */
  get head(): InflightBatch | undefined {
    return this.batches[0];
  }

  /** The number of the last batch whose records are all written (every batch before it is written too). */
  get lastWritten(): number {
    return this.writtenSeq;
  }

  /**
   * Copies messages from `from` into a free slot (the one copy a frame makes on its way in) and starts decoding them;
   * returns how many messages the slot took. The caller checks `free` first.
   */
  dispatch(messages: readonly Message[], from: number): number {
    const slot = this.freeSlots.shift() as number;
    const count = this.views.fill(slot, messages, from);
    const reference = this.reference();
    const seq = this.nextSeq++;
    const task: DecodeTask = { slot, count, from: 0, fromRecord: 0, decode: true, seq, reference };
    const batch: InflightBatch = { seq, slot, messages, start: from, count, from: 0, fromRecord: 0, reference, promise: this.run(task) };
    this.batches.push(batch);
    return count;
  }

  /** The head batch's completed pass; with `wait`, waits for it, else undefined while it is still running. */
  async nextPass(wait: boolean): Promise<DecodedPass | undefined> {
    const batch = this.batches[0];
    if (batch === undefined) return undefined;
    const result = await settledOrNot(batch.promise, wait);
    return result === undefined ? undefined : { batch, result };
  }

  /**
   * The caller wrote `pass` into its transaction. When the pass stopped early (the slot's JSON area was full), the
   * rest of the slot is serialized by a new task, against the same reference version, and this returns false; when
   * the batch is done its slot is freed and this returns true.
   */
  written(pass: DecodedPass): boolean {
    const { batch, result } = pass;
    batch.from = result.done;
    batch.fromRecord = result.doneRecord;
    if (result.done < batch.count) {
      batch.promise = this.run({
        slot: batch.slot, count: batch.count, from: result.done, fromRecord: result.doneRecord, decode: false,
        seq: batch.seq, reference: batch.reference,
      });
      return false;
    }
    this.batches.shift();
    this.writtenSeq = batch.seq;
    this.freeSlots.push(batch.slot);
    return true;
  }

  /**
   * Runs `messages` through `rounds` warm-up passes on each of `workers` slots at once (DecodeTask.warmup: every step
   * of a decode worker, no effect); only before the first dispatch. Returns the milliseconds of each round.
   */
  async warm(messages: readonly Message[], rounds: number, workers: number): Promise<number[]> {
    const slots = this.freeSlots.splice(0, Math.max(1, Math.min(workers, this.freeSlots.length)));
    const took: number[] = [];
    try {
      const counts = slots.map((slot) => this.views.fill(slot, messages, 0));
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        await Promise.all(
          slots.map((slot, i) =>
            this.run({ slot, count: counts[i], from: 0, fromRecord: 0, decode: true, seq: 0, reference: this.reference(), warmup: true }),
          ),
        );
        took.push(performance.now() - t0);
      }
    } finally {
      this.freeSlots.unshift(...slots);
    }
    return took;
  }

  /** After a failed transaction: waits for every running task, then frees every slot (their messages are read again). */
  async discard(): Promise<void> {
    for (const b of this.batches) await b.promise.catch(() => undefined);
    for (const b of this.batches) this.freeSlots.push(b.slot);
    this.batches.length = 0;
  }

  private run(task: DecodeTask): Promise<DecodeResult> {
    const p = (this.pool as Piscina).run(task) as Promise<DecodeResult>;
    p.catch(() => undefined); // observed by nextPass
    return p;
  }
}

/** The settled value of `p`, waiting for it when `wait`, else only if it has already settled. */
async function settledOrNot<T>(p: Promise<T>, wait: boolean): Promise<T | undefined> {
  if (wait) return p;
  const marker = Symbol('pending');
  const v = await Promise.race([p, Promise.resolve(marker)]);
  return v === marker ? undefined : (v as T);
}
