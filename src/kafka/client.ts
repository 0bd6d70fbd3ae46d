// The node-rdkafka clients LUX uses, built from one connection description, and their callbacks as promises that fail with a KafkaError.
//
// This folder is the only place that imports node-rdkafka's values: the stages (source/, sink/, enrich/, alarms/,
// kpis/, cli/) create their clients here and call them through these wrappers, so every client gets the same
// connection properties (brokers, security, `kafka.extra`) and every failure the same typed error.
import Kafka from 'node-rdkafka';
import type { LibrdKafkaError, Message, TopicPartition, TopicPartitionOffset } from 'node-rdkafka';
import { KafkaError, type KafkaRole, type KafkaWhere } from './errors.js';

export type KafkaProperties = Record<string, string | number | boolean>;

/** How LUX reaches the cluster: the bootstrap brokers and the properties every client gets (security, `kafka.extra`). */
export interface KafkaConnection {
  readonly brokers: string;
  readonly properties: Readonly<KafkaProperties>;
}

export function kafkaConnection(brokers: string | readonly string[], properties: KafkaProperties = {}): KafkaConnection {
  return { brokers: typeof brokers === 'string' ? brokers : brokers.join(','), properties };
}

/**
 * A client's properties: the broker list and client.id, then `own` (the settings its role needs), then the
 * connection's properties, which win: an operator's `kafka.extra` can tune anything (documented in deploy/lux.yaml).
 */
export function clientProperties(conn: KafkaConnection, clientId: string, own: KafkaProperties = {}): KafkaProperties {
  return { 'metadata.broker.list': conn.brokers, 'client.id': clientId, ...own, ...conn.properties };
}

/** Where librdkafka's own log lines go, once the daemon says (severity as syslog: 3 error, 4 warning, …). */
export type KafkaLogSink = (line: { severity: number; facility: string; message: string; client: string }) => void;

let logSink: KafkaLogSink | undefined;

/**
 * Sends the log lines of every client created from here on to `sink` (warnings and worse), instead of librdkafka's
 * plain stderr lines: the daemon logs them as JSON with the rest, redacted, and picks TLS/SASL refusals out of them.
 */
export function setKafkaLogSink(sink: KafkaLogSink | undefined): void {
  logSink = sink;
}

function withLog<T extends Kafka.Producer | Kafka.KafkaConsumer>(client: T, clientId: string): T {
  const sink = logSink;
  if (sink !== undefined) {
    (client as Kafka.Producer).on('event.log', (l: { severity: number; fac: string; message: string }) => sink({ severity: l.severity, facility: l.fac, message: l.message, client: clientId }));
  }
  return client;
}

function logProperties(): KafkaProperties {
  return logSink === undefined ? {} : { event_cb: true, log_level: 4 };
}

export function createConsumer(conn: KafkaConnection, clientId: string, own: KafkaProperties, topicConfig: KafkaProperties = {}): Kafka.KafkaConsumer {
  const props = { ...logProperties(), ...clientProperties(conn, clientId, own) };
  return withLog(new Kafka.KafkaConsumer(props as Kafka.ConsumerGlobalConfig, topicConfig as Kafka.ConsumerTopicConfig), clientId);
}

export function createProducer(conn: KafkaConnection, clientId: string, own: KafkaProperties = {}): Kafka.Producer {
  const props = { ...logProperties(), ...clientProperties(conn, clientId, own) };
  return withLog(new Kafka.Producer(props as Kafka.ProducerGlobalConfig), clientId);
}

export function createAdmin(conn: KafkaConnection, clientId: string): Kafka.IAdminClient {
  return Kafka.AdminClient.create(clientProperties(conn, clientId) as Kafka.GlobalConfig);
}

/** librdkafka's error codes (RD_KAFKA_RESP_ERR_*), for the few places that decide on one. */
export const KAFKA_CODES = Kafka.CODES.ERRORS;
/** The librdkafka build's features (gzip, snappy, zstd, ssl, sasl_*, ...). */
export const KAFKA_FEATURES: readonly string[] = Kafka.features;
/** librdkafka's RD_KAFKA_OFFSET_BEGINNING, for assign/seek. */
export const OFFSET_BEGINNING = -2;

type Callback<T> = (err: LibrdKafkaError | null | undefined, value?: T) => void;

/** One node-rdkafka callback call as a promise; a failure becomes a KafkaError naming `what` and where. */
export function kafkaCall<T = void>(what: string, role: KafkaRole, fn: (cb: Callback<T>) => void, where: KafkaWhere = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(KafkaError.from(what, err, role, where)) : resolve(value as T)));
  });
}

type Connectable = Kafka.Producer | Kafka.KafkaConsumer;

/** Connects within `timeoutMs`; a broker that is down gives an error marked unreachable, naming the brokers. */
export function connectClient(client: Connectable, what: string, role: KafkaRole, brokers: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    (client as Kafka.Producer).connect({ timeout: timeoutMs }, (err) =>
      err
        ? reject(KafkaError.from(`cannot connect the ${what} to ${brokers} within ${timeoutMs} ms`, err, role, {}, { unreachable: true }))
        : resolve(),
    );
  });
}

/**
 * Disconnects, giving up waiting after `timeoutMs` (a client whose broker is gone may never call back); never fails.
 * Resolves false when it gave up: librdkafka's close is then still running on a libuv pool thread.
 */
export function disconnectClient(client: Connectable, timeoutMs = 5000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (!client.isConnected()) {
      resolve(true);
      return;
    }
    const timer = setTimeout(() => resolve(false), timeoutMs);
    client.disconnect(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Reads up to `max` messages; resolves with what arrived before the first per-message timeout. */
export function consumeMessages(consumer: Kafka.KafkaConsumer, max: number): Promise<Message[]> {
  return new Promise<Message[]>((resolve, reject) => {
    consumer.consume(max, (err, messages) => (err ? reject(KafkaError.from('consume', err, 'consumer')) : resolve(messages)));
  });
}

/**
 * The group's committed offsets of `partitions` of `topic`, in their order. node-rdkafka returns a partition whose
 * offset could not be read as a bare Error in its place, with no partition number: that fails the whole call (read as
 * "nothing committed", it would send the partition back to its beginning).
 */
export async function committedOffsets(consumer: Kafka.KafkaConsumer, topic: string, partitions: readonly number[], timeoutMs: number): Promise<TopicPartitionOffset[]> {
  const tps = await kafkaCall<TopicPartitionOffset[]>(
    `cannot read the committed offsets of ${topic}`,
    'consumer',
    (cb) => consumer.committed(partitions.map((partition) => ({ topic, partition })), timeoutMs, cb),
    { topic },
  );
  tps.forEach((tp, i) => {
    if (tp instanceof Error || tp.partition !== partitions[i]) {
      throw new KafkaError(`cannot read the committed offset of ${topic}/${partitions[i]}: ${(tp as unknown as Error).message ?? 'no answer for it'}`, {
        role: 'consumer',
        topic,
        partition: partitions[i],
        retriable: true,
      });
    }
  });
  return tps;
}

/** Moves the read position of one assigned partition. */
export function seekPartition(consumer: Kafka.KafkaConsumer, tpo: TopicPartitionOffset, timeoutMs: number): Promise<void> {
  return kafkaCall(`cannot rewind ${tpo.topic}/${tpo.partition} to offset ${tpo.offset}`, 'consumer', (cb) => consumer.seek(tpo, timeoutMs, cb), tpo);
}

/** The low and high watermarks of one partition, asked of the broker. */
export function queryWatermarks(client: Connectable, topic: string, partition: number, timeoutMs: number): Promise<Kafka.WatermarkOffsets> {
  return kafkaCall<Kafka.WatermarkOffsets>(
    `watermarks of ${topic}/${partition}`,
    client instanceof Kafka.Producer ? 'producer' : 'consumer',
    (cb) => client.queryWatermarkOffsets(topic, partition, timeoutMs, cb as (err: LibrdKafkaError, o: Kafka.WatermarkOffsets) => void),
    { topic, partition },
  );
}

export type { Message, TopicPartition, TopicPartitionOffset, LibrdKafkaError };
export type KafkaConsumer = Kafka.KafkaConsumer;
export type KafkaProducer = Kafka.Producer;
export type KafkaAdmin = Kafka.IAdminClient;
export type KafkaMetadata = Kafka.Metadata;
export type MessageHeader = Kafka.MessageHeader;
