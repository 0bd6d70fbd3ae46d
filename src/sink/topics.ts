// Topic checks at start: every topic the daemon reads or writes must exist, or is created when the config allows it.
import Kafka from 'node-rdkafka';
import { LuxError } from '../errors.js';

export interface TopicPlan {
  name: string;
  /** the reference-data topic is compacted, the others are deleted by time */
  compacted: boolean;
}

/** An error meaning the brokers did not answer (worth retrying), as opposed to an answer that refuses the start. */
export function unreachable(message: string): LuxError {
  return Object.assign(new LuxError('E_KAFKA', message), { unreachable: true });
}

export function isUnreachable(err: unknown): boolean {
  return (err as { unreachable?: boolean }).unreachable === true;
}

/** Lists the topics that exist on the cluster. */
export async function existingTopics(brokers: string, timeoutMs: number): Promise<Set<string>> {
  const client = new Kafka.Producer({ 'metadata.broker.list': brokers, 'client.id': 'lux-topics' });
  try {
    await new Promise<void>((resolve, reject) =>
      client.connect({ timeout: timeoutMs }, (err) =>
        err ? reject(unreachable(`cannot reach the Kafka brokers at ${brokers} within ${timeoutMs} ms: ${err.message}`)) : resolve(),
      ),
    );
    const md = await new Promise<Kafka.Metadata>((resolve, reject) =>
      client.getMetadata({ timeout: timeoutMs }, (err, data) => (err ? reject(unreachable(`cannot read metadata from ${brokers}: ${err.message}`)) : resolve(data))),
    );
    return new Set(md.topics.filter((t) => t.partitions.length > 0).map((t) => t.name));
  } finally {
    // node-rdkafka's disconnect flushes first, which throws on a client that never connected
    if (client.isConnected()) await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  }
}

/**
 * Makes sure every planned topic exists. Missing topics are created when `create` is set; otherwise the first missing
 * one stops the start with a message naming it and the setting that would create it.
 */
export async function ensureTopics(brokers: string, plan: TopicPlan[], create: boolean, partitions: number, timeoutMs = 15000): Promise<string[]> {
  const have = await existingTopics(brokers, timeoutMs);
  const missing = plan.filter((t) => !have.has(t.name));
  if (missing.length === 0) return [];
  if (!create) {
    throw new LuxError('E_KAFKA', `topic '${missing[0].name}' does not exist on ${brokers} (create it, or set kafka.create_topics: true)`);
  }
  const admin = Kafka.AdminClient.create({ 'metadata.broker.list': brokers, 'client.id': 'lux-topics' });
  try {
    for (const t of missing) {
      await new Promise<void>((resolve, reject) =>
        admin.createTopic(
          {
            topic: t.name,
            num_partitions: partitions,
            replication_factor: -1, // the broker's default.replication.factor
            // compacted topics are read from their start (reference data, alarm state): segments roll every 10 minutes
            // so compaction keeps what is read close to the live keys
            config: t.compacted ? { 'cleanup.policy': 'compact', 'segment.ms': '600000' } : {},
          },
          timeoutMs,
          (err) => {
            // Another instance may have created it meanwhile.
            if (err && err.code !== Kafka.CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS) reject(new LuxError('E_KAFKA', `cannot create topic '${t.name}': ${err.message}`));
            else resolve();
          },
        ),
      );
    }
  } finally {
    admin.disconnect();
  }
  return missing.map((t) => t.name);
}
