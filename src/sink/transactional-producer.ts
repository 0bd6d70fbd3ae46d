// The sink: one transactional node-rdkafka producer that writes enriched records, dead letters and alarms, and commits the consumed offsets in the same transaction.
import Kafka from 'node-rdkafka';
import type { LibrdKafkaError, TopicPartitionOffset } from 'node-rdkafka';
import { LuxError } from '../errors.js';

export interface SinkOptions {
  brokers: string;
  clientId: string;
  transactionalId: string;
  transactionTimeoutMs: number;
  /** timeout for init/commit/abort/sendOffsets calls */
  callTimeoutMs: number;
  extra?: Record<string, string | number | boolean>;
  /** told of each retry of a transactional call that failed with a retriable error (a timeout, the broker away) */
  onRetry?: (call: string, attempt: number, err: Error) => void;
}

export type Header = Record<string, string>;

export class TransactionalSink {
  private producer: Kafka.Producer;
  private readonly options: SinkOptions;
  private open = false;
  /** messages produced in the open transaction */
  produced = 0;
  /** producers started again after a fatal error (`renew`) */
  renewals = 0;

  constructor(options: SinkOptions) {
    this.options = options;
    this.producer = this.create();
  }

  private create(): Kafka.Producer {
    const options = this.options;
    const producer = new Kafka.Producer({
      'metadata.broker.list': options.brokers,
      'client.id': options.clientId,
      'transactional.id': options.transactionalId,
      'transaction.timeout.ms': options.transactionTimeoutMs,
      'enable.idempotence': true,
      'linger.ms': 5,
      'batch.num.messages': 10000,
      'queue.buffering.max.messages': 500000,
      'queue.buffering.max.kbytes': 1048576,
      'compression.codec': 'lz4',
      'socket.keepalive.enable': true,
      'reconnect.backoff.max.ms': 5000,
      dr_cb: false,
      ...(options.extra ?? {}),
    } as Kafka.ProducerGlobalConfig);
    // Delivery reports are not needed: a transaction commits only once every message in it is acknowledged.
    producer.setPollInterval(50);
    return producer;
  }

  /**
   * Replaces a producer that failed fatally (librdkafka's client is then unusable) with a new one under the same
   * transactional.id: its initTransactions makes the broker abort whatever the old one left open. What the old one
   * produced in its open transaction is never visible; the caller rewinds the input to the last commit.
   */
  async renew(timeoutMs: number): Promise<void> {
    const old = this.producer;
    this.open = false;
    this.producer = this.create();
    this.renewals++;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      old.disconnect(() => {
        clearTimeout(t);
        resolve();
      });
    });
    await this.connect(timeoutMs);
  }

  get inTransaction(): boolean {
    return this.open;
  }

  async connect(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.producer.connect({ timeout: timeoutMs }, (err) => {
        if (err) reject(new LuxError('E_KAFKA', `cannot connect the producer to ${this.options.brokers} within ${timeoutMs} ms: ${err.message}`));
        else resolve();
      });
    });
    // Fences any earlier instance with the same transactional.id and aborts its open transaction.
    await this.call('initTransactions', (cb) => this.producer.initTransactions(this.options.callTimeoutMs, cb));
  }

  /** Opens a transaction (node-rdkafka runs it off the loop, so it must be awaited before the first produce). */
  async begin(): Promise<void> {
    if (this.open) return;
    await this.call('beginTransaction', (cb) => this.producer.beginTransaction(cb));
    this.open = true;
    this.produced = 0;
  }

  /**
   * Produces one message into the open transaction. librdkafka copies the value (RK_MSG_COPY), so `value` may be a view
   * over shared memory that is reused right after. Returns false when the local queue is full (the caller flushes).
   */
  produce(topic: string, value: Buffer | null, key: string | Buffer | null, headers?: Header[]): boolean {
    try {
      this.producer.produce(topic, null, value, key, undefined, undefined, headers);
      this.produced++;
      return true;
    } catch (err) {
      if ((err as LibrdKafkaError).code === Kafka.CODES.ERRORS.ERR__QUEUE_FULL) return false;
      throw Object.assign(new LuxError('E_KAFKA', `produce to '${topic}' failed: ${(err as Error).message}`, { cause: err }), { kafka: err });
    }
  }

  /** Lets librdkafka send what it has queued and serve its callbacks. */
  poll(): void {
    this.producer.poll();
  }

  /** Adds the consumer group's offsets to the open transaction and commits it. */
  async commit(offsets: TopicPartitionOffset[], consumer: Kafka.KafkaConsumer): Promise<void> {
    if (!this.open) return;
    if (offsets.length > 0) {
      await this.retrying('sendOffsetsToTransaction', (cb) => this.producer.sendOffsetsToTransaction(offsets, consumer, this.options.callTimeoutMs, cb));
    }
    await this.retrying('commitTransaction', (cb) => this.producer.commitTransaction(this.options.callTimeoutMs, cb));
    this.open = false;
  }

  /**
   * Aborts the open transaction. A failure (the broker unreachable, a timeout) leaves it marked open, so calling
   * again retries the abort; librdkafka's "no transaction in progress" counts as aborted.
   */
  async abort(): Promise<void> {
    if (!this.open) return;
    try {
      await this.retrying('abortTransaction', (cb) => this.producer.abortTransaction(this.options.callTimeoutMs, cb));
    } catch (err) {
      if ((err as { kafka?: LibrdKafkaError }).kafka?.code !== Kafka.CODES.ERRORS.ERR__STATE) throw err;
    }
    this.open = false;
  }

  async disconnect(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.producer.disconnect(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * A transactional call repeated while it fails with a retriable error: librdkafka resumes a timed-out commit or
   * abort where it left off, and refuses any other transactional call until the same one is called again.
   */
  private async retrying(name: string, fn: (cb: (err: LibrdKafkaError | null) => void) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.call(name, fn);
        return;
      } catch (err) {
        const k = (err as { kafka?: LibrdKafkaError }).kafka;
        if (k?.isRetriable !== true || k.isFatal === true || k.isTxnRequiresAbort === true) throw err;
        this.options.onRetry?.(name, attempt, err as Error);
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  private call(name: string, fn: (cb: (err: LibrdKafkaError | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      fn((err) => {
        if (err) reject(Object.assign(new LuxError('E_KAFKA', `${name} failed: ${err.message}`, { cause: err }), { kafka: err }));
        else resolve();
      });
    });
  }
}

/** Whether a failed transactional call leaves the producer usable after an abort (else it must be recreated). */
export function isAbortable(err: unknown): boolean {
  const k = (err as { kafka?: LibrdKafkaError }).kafka;
  return k !== undefined && !k.isFatal;
}
