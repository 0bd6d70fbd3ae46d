// Cluster metadata: which topics exist, a topic's partitions and whether each has a leader.
import type Kafka from 'node-rdkafka';
import { KafkaError, type KafkaRole } from './errors.js';
import { connectClient, createProducer, disconnectClient, kafkaCall, type KafkaConnection } from './client.js';

type MetadataClient = Kafka.Producer | Kafka.KafkaConsumer;

/** The cluster's metadata, of one topic or of all; a failure is a KafkaError marked unreachable. */
export function readMetadata(client: MetadataClient, role: KafkaRole, timeoutMs: number, topic?: string): Promise<Kafka.Metadata> {
  return kafkaCall<Kafka.Metadata>(
    topic === undefined ? 'cannot read the cluster metadata' : `cannot read the metadata of ${topic}`,
    role,
    (cb) => client.getMetadata(topic === undefined ? { timeout: timeoutMs } : { topic, timeout: timeoutMs }, cb as (err: Kafka.LibrdKafkaError, m: Kafka.Metadata) => void),
    { topic },
  ).catch((err: KafkaError) => {
    throw new KafkaError(err.message, { role, cause: err.cause, topic, unreachable: true, retriable: true });
  });
}

/** The partition ids of `topic`, sorted; empty when the topic does not exist. */
export async function topicPartitions(client: MetadataClient, role: KafkaRole, topic: string, timeoutMs: number): Promise<number[]> {
  const md = await readMetadata(client, role, timeoutMs, topic);
  const t = md.topics.find((x) => x.name === topic);
  return (t?.partitions ?? []).map((p) => p.id).sort((a, b) => a - b);
}

/** Whether `topic` exists with at least `partitions` partitions, each with a leader. */
export async function topicReady(client: MetadataClient, role: KafkaRole, topic: string, partitions: number, timeoutMs: number): Promise<boolean> {
  const md = await readMetadata(client, role, timeoutMs, topic);
  const t = md.topics.find((x) => x.name === topic);
  return t !== undefined && t.partitions.length >= Math.max(1, partitions) && t.partitions.every((p) => p.leader >= 0);
}

/** The topics that exist on the cluster (with at least one partition). */
export async function existingTopics(conn: KafkaConnection, timeoutMs: number, clientId = 'lux-topics'): Promise<Set<string>> {
  const client = createProducer(conn, clientId);
  try {
    await connectClient(client, 'metadata client', 'admin', conn.brokers, timeoutMs);
    const md = await readMetadata(client, 'admin', timeoutMs);
    return new Set(md.topics.filter((t) => t.partitions.length > 0).map((t) => t.name));
  } finally {
    await disconnectClient(client);
  }
}

/** Partition count of each topic asked for that exists; a missing topic is absent from the map. */
export async function partitionCounts(conn: KafkaConnection, topics: readonly string[], timeoutMs: number, clientId = 'lux-topics'): Promise<Map<string, number>> {
  const client = createProducer(conn, clientId);
  try {
    await connectClient(client, 'metadata client', 'admin', conn.brokers, timeoutMs);
    const md = await readMetadata(client, 'admin', timeoutMs);
    const out = new Map<string, number>();
    for (const name of topics) {
      const t = md.topics.find((x) => x.name === name);
      if (t !== undefined && t.partitions.length > 0) out.set(name, t.partitions.length);
    }
    return out;
  } finally {
    await disconnectClient(client);
  }
}
