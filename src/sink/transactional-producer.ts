// The sink's producer: one transactional node-rdkafka producer that writes every output of a transaction and commits the consumed offsets with it.
import type { KafkaConnection, KafkaConsumer, KafkaProducer, LibrdKafkaError, TopicPartitionOffset } from '../kafka/client.js';
import { connectClient, createProducer, disconnectClient, KAFKA_CODES, kafkaCall } from '../kafka/client.js';
import { KafkaError } from '../kafka/errors.js';
import { SINK_INTERNALS } from '../config/internals.js';
import { loadNative, NATIVE_NO_KEY, nativeHandle, pluginProperties, type NativeBatches } from '../kafka/native.js';

export interface SinkOptions {
  conn: KafkaConnection;
  clientId: string;
  transactionalId: string;
  transactionTimeoutMs: number;
  /** timeout for init/commit/abort/sendOffsets calls */
  callTimeoutMs: number;
  /** librdkafka settings of this producer (the connection's properties still win) */
  own?: Record<string, string | number | boolean>;
  /** told of each retry of a transactional call that failed with a retriable error (a timeout, the broker away) */
  onRetry?: (call: string, attempt: number, err: Error) => void;
  /** told how long each successful transactional call took (ms) */
  timed?: (call: 'begin' | 'offsets' | 'commit', ms: number) => void;
  /**
   * Hand whole passes to librdkafka through the native batch produce (native/lux_native.c) rather than one
   * node-rdkafka call a record. When the addon is not there the sink says why (`nativeUnavailable`) and produces
   * through node-rdkafka: the same messages, in the same order, at a higher CPU cost.
   */
  native?: boolean;
  nativeUnavailable?: (reason: string) => void;
}

export type Header = Record<string, string>;

export class TransactionalSink {
  private producer: KafkaProducer;
  private readonly options: SinkOptions;
  private open = false;
  /** messages produced in the open transaction */
  produced = 0;
  /** producers started again after a fatal error (`renew`) */
  renewals = 0;
  /** the native batch produce and the name of this producer's librdkafka handle, when passes go through it */
  private native: NativeBatches | undefined;
  private nativeClient: string | undefined;

  constructor(options: SinkOptions) {
    this.options = options;
    this.producer = this.create();
  }

  private create(): KafkaProducer {
    const load = this.options.native ? loadNative() : undefined;
    this.native = load?.native;
    if (load?.reason) this.options.nativeUnavailable?.(load.reason);
    const producer = createProducer(this.options.conn, this.options.clientId, {
      // librdkafka loads the addon as a plugin, whose interceptor lets it find this producer's handle by name
      ...pluginProperties(load),
      'transactional.id': this.options.transactionalId,
      'transaction.timeout.ms': this.options.transactionTimeoutMs,
      'enable.idempotence': true,
      'linger.ms': SINK_INTERNALS.lingerMs,
      'batch.num.messages': SINK_INTERNALS.batchNumMessages,
      'queue.buffering.max.messages': SINK_INTERNALS.queueBufferingMaxMessages,
      'queue.buffering.max.kbytes': SINK_INTERNALS.queueBufferingMaxKbytes,
      'compression.codec': SINK_INTERNALS.compression,
      'socket.keepalive.enable': true,
      'reconnect.backoff.max.ms': SINK_INTERNALS.reconnectBackoffMaxMs,
      'retry.backoff.ms': SINK_INTERNALS.retryBackoffMs,
      'retry.backoff.max.ms': SINK_INTERNALS.retryBackoffMaxMs,
      // Delivery reports are not needed: a transaction commits only once every message in it is acknowledged.
      dr_cb: false,
      ...(this.options.own ?? {}),
    });
    producer.setPollInterval(SINK_INTERNALS.pollIntervalMs);
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
    await disconnectClient(old);
    await this.connect(timeoutMs);
  }

  get inTransaction(): boolean {
    return this.open;
  }

  async connect(timeoutMs: number): Promise<void> {
    await connectClient(this.producer, 'producer', 'producer', this.options.conn.brokers, timeoutMs);
    this.nativeClient = nativeHandle(this.native, this.producer, 'producer', this.options.nativeUnavailable);
    // Fences any earlier instance with the same transactional.id and aborts its open transaction.
    await this.call('initTransactions', (cb) => this.producer.initTransactions(this.options.callTimeoutMs, cb));
  }

  /** Opens a transaction (node-rdkafka runs it off the loop, so it must be awaited before the first produce). */
  async begin(): Promise<void> {
    if (this.open) return;
    const t0 = performance.now();
    await this.call('beginTransaction', (cb) => this.producer.beginTransaction(cb));
    this.options.timed?.('begin', performance.now() - t0);
    this.open = true;
    this.produced = 0;
  }

  /**
   * Produces one message into the open transaction. librdkafka copies the value (RK_MSG_COPY), so `value` may be a view
   * over shared memory that is reused right after. Returns false when the local queue is full (the caller flushes).
   * `partition` null lets the partitioner choose by key.
   */
  produce(topic: string, value: Buffer | null, key: string | Buffer | null, headers?: Header[], partition: number | null = null): boolean {
    try {
      this.producer.produce(topic, partition, value, key, undefined, undefined, headers);
      this.produced++;
      return true;
    } catch (err) {
      if ((err as LibrdKafkaError).code === KAFKA_CODES.ERR__QUEUE_FULL) return false;
      throw KafkaError.from(`produce to '${topic}' failed`, err, 'producer', { topic, partition: partition ?? undefined });
    }
  }

  /**
   * Produces records [from, to) of a pass into the open transaction: `spec` holds 4 words a record (value start, value
   * end, key start, key end, ranges of `values` and `keys`; key start NATIVE_NO_KEY for none), the partitioner
   * chooses by key. Returns how many were enqueued before librdkafka's queue was full (the caller polls, waits and
   * calls again from there). One native call for the lot when the addon is there, else one node-rdkafka call each.
   */
  produceMany(topic: string, values: Uint8Array, keys: Uint8Array, spec: Uint32Array, from: number, to: number): number {
    let n = 0;
    if (this.nativeClient !== undefined) {
      try {
        n = this.native!.produce(this.nativeClient, topic, values, keys, spec, from, to);
      } catch (err) {
        this.produced += (err as { produced?: number }).produced ?? 0;
        throw KafkaError.from(`produce to '${topic}' failed`, err, 'producer', { topic });
      }
    } else {
      for (let i = from; i < to; i++, n++) {
        const w = i * 4;
        const value = Buffer.from(values.buffer, values.byteOffset + spec[w], spec[w + 1] - spec[w]);
        const key = spec[w + 2] === NATIVE_NO_KEY ? null : Buffer.from(keys.buffer, keys.byteOffset + spec[w + 2], spec[w + 3] - spec[w + 2]);
        try {
          this.producer.produce(topic, null, value, key);
        } catch (err) {
          if ((err as LibrdKafkaError).code === KAFKA_CODES.ERR__QUEUE_FULL) break;
          this.produced += n;
          throw KafkaError.from(`produce to '${topic}' failed`, err, 'producer', { topic });
        }
      }
    }
    this.produced += n;
    return n;
  }

  /** Whether passes go through the native batch produce. */
  get nativeProduce(): boolean {
    return this.nativeClient !== undefined;
  }

  /** Lets librdkafka send what it has queued and serve its callbacks. */
  poll(): void {
    this.producer.poll();
  }

  /** Adds the consumer group's offsets to the open transaction and commits it; returns how long each call took (ms). */
  async commit(offsets: TopicPartitionOffset[], consumer: KafkaConsumer): Promise<{ offsetsMs: number; commitMs: number }> {
    if (!this.open) return { offsetsMs: 0, commitMs: 0 };
    let offsetsMs = 0;
    if (offsets.length > 0) {
      const t0 = performance.now();
      await this.retrying('sendOffsetsToTransaction', (cb) => this.producer.sendOffsetsToTransaction(offsets, consumer, this.options.callTimeoutMs, cb));
      offsetsMs = performance.now() - t0;
      this.options.timed?.('offsets', offsetsMs);
    }
    const t1 = performance.now();
    await this.retrying('commitTransaction', (cb) => this.producer.commitTransaction(this.options.callTimeoutMs, cb));
    const commitMs = performance.now() - t1;
    this.options.timed?.('commit', commitMs);
    this.open = false;
    return { offsetsMs, commitMs };
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
      if (!(err instanceof KafkaError) || err.rdkafkaCode !== KAFKA_CODES.ERR__STATE) throw err;
    }
    this.open = false;
  }

  /** Closes the producer; false when its close had not returned within `timeoutMs`. */
  disconnect(timeoutMs: number): Promise<boolean> {
    return disconnectClient(this.producer, timeoutMs);
  }

  /**
   * A transactional call repeated while it fails with a retriable error: librdkafka resumes a timed-out commit or
   * abort where it left off, and refuses any other transactional call until the same one is called again.
   */
  private async retrying(name: string, fn: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.call(name, fn);
        return;
      } catch (err) {
        const k = err as KafkaError;
        if (!k.retriable || k.isFatal || k.abortable) throw err;
        this.options.onRetry?.(name, attempt, k);
        await new Promise((r) => setTimeout(r, Math.min(SINK_INTERNALS.retryMaxMs, SINK_INTERNALS.retryBaseMs * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  private call(name: string, fn: (cb: (err: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
    return kafkaCall(`${name} failed`, 'producer', fn);
  }
}
