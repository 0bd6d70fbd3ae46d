// What else a transaction carries besides the records: each side (alarms, KPIs, queued alarms) adds its messages and offsets just before the commit, and learns whether the commit held.
import type { TopicPartitionOffset } from '../kafka/client.js';
import type { Header } from './transactional-producer.js';

/** One message a side writes into the transaction about to commit. */
export interface SideMessage {
  topic: string;
  key: string | Buffer | null;
  /** null: a tombstone */
  value: Buffer | null;
  /** an explicit partition (null: by key) */
  partition?: number | null;
  headers?: Header[];
}

/** What a side adds to one transaction. */
export interface SideOutput {
  messages: SideMessage[];
  /** offsets of inputs the side consumed itself (committed with the raw topic's, in the same transaction) */
  offsets?: TopicPartitionOffset[];
  /** alarms among `messages`, counted once the transaction commits */
  alarms?: number;
}

/** What a side is told when it prepares: how far the transaction goes and which input partitions this instance owns. */
export interface TransactionContext {
  /** the number of the last decode batch whose records the transaction holds (later ones belong to later transactions) */
  throughSeq: number;
  /** raw-topic partitions whose state this instance writes (assigned, and not already handed over) */
  owned: number[];
}

/**
 * A participant in every transaction. Exactly one of `settle` (committed) or `discard` (aborted, once nothing is in
 * flight) follows each `prepare`; `discard` may also come without a prepare (a transaction that failed before its
 * commit began). `due` asks for a transaction although no record flows (windows to close, alarms queued).
 */
export interface TransactionSide {
  readonly name: string;
  prepare(context: TransactionContext): Promise<SideOutput>;
  settle(): Promise<void>;
  discard(): Promise<void>;
  due(): boolean;
}
