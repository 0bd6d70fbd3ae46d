// Topic creation and the checks at start: create (an existing topic is accepted), then wait until every partition has a leader.
import { LuxError } from '../errors.js';
import { KafkaError } from './errors.js';
import { connectClient, createAdmin, createProducer, disconnectClient, KAFKA_CODES, kafkaCall, type KafkaConnection } from './client.js';
import { existingTopics, topicReady } from './metadata.js';

/** Settings of a topic LUX creates. */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** compacted (reference data, state changelogs); else deleted by time */
  compacted?: boolean;
  /** further topic configs */
  config?: Record<string, string>;
}

export const TOPIC_DEFAULTS = {
  timeoutMs: 30_000,
  /**
   * Compacted topics are read from their start (reference data, state): segments roll every 10 minutes so that
   * compaction keeps what is read close to the live keys.
   */
  compactedConfig: { 'cleanup.policy': 'compact', 'segment.ms': '600000' } as Record<string, string>,
  /** between two metadata reads while waiting for leaders */
  leaderPollMs: 100,
} as const;

/**
 * Creates the topics (one that exists already is accepted: another instance may have created it meanwhile) and
 * waits until the cluster's metadata shows a leader for each partition, so the first produce or assignment finds them.
 */
export async function createTopics(conn: KafkaConnection, specs: readonly TopicSpec[], timeoutMs: number = TOPIC_DEFAULTS.timeoutMs, clientId = 'lux-topics'): Promise<void> {
  if (specs.length === 0) return;
  const admin = createAdmin(conn, clientId);
  try {
    for (const t of specs) {
      const config = { ...(t.compacted === true ? TOPIC_DEFAULTS.compactedConfig : {}), ...(t.config ?? {}) };
      await kafkaCall(`cannot create topic '${t.name}'`, 'admin', (cb) =>
        admin.createTopic(
          // replication_factor -1: the broker's default.replication.factor
          { topic: t.name, num_partitions: t.partitions, replication_factor: -1, config },
          timeoutMs,
          (err) => cb(err && err.code !== KAFKA_CODES.ERR_TOPIC_ALREADY_EXISTS ? err : null),
        ),
        { topic: t.name },
      );
    }
  } finally {
    admin.disconnect();
  }
  await waitForLeaders(conn, specs, timeoutMs, clientId);
}

/** Waits until each topic exists with its partitions led; a KafkaError naming the topic after `timeoutMs`. */
export async function waitForLeaders(conn: KafkaConnection, specs: readonly Pick<TopicSpec, 'name' | 'partitions'>[], timeoutMs: number, clientId = 'lux-topics'): Promise<void> {
  const client = createProducer(conn, clientId);
  try {
    await connectClient(client, 'metadata client', 'admin', conn.brokers, timeoutMs);
    const deadline = Date.now() + timeoutMs;
    for (const t of specs) {
      while (!(await topicReady(client, 'admin', t.name, t.partitions, 5000))) {
        if (Date.now() > deadline) throw new KafkaError(`topic '${t.name}': partitions have no leader after ${timeoutMs} ms`, { role: 'admin', topic: t.name, retriable: true });
        await new Promise((r) => setTimeout(r, TOPIC_DEFAULTS.leaderPollMs));
      }
    }
  } finally {
    await disconnectClient(client);
  }
}

/** Deletes topics, ignoring those that do not exist. */
export async function deleteTopics(conn: KafkaConnection, names: readonly string[], timeoutMs: number = TOPIC_DEFAULTS.timeoutMs, clientId = 'lux-topics'): Promise<void> {
  const admin = createAdmin(conn, clientId);
  try {
    for (const topic of names) await new Promise<void>((resolve) => admin.deleteTopic(topic, timeoutMs, () => resolve()));
  } finally {
    admin.disconnect();
  }
}

/** A topic the daemon reads or writes, as checked at start. */
export interface TopicPlan {
  name: string;
  compacted: boolean;
  /**
   * Created when missing even without `kafka.create_topics`: the daemon's own topics (its state, its KPI output),
   * which nothing else writes, as Kafka Streams creates its internal topics. The others (shared with producers and
   * readers outside LUX) must exist unless the operator lets LUX create them.
   */
  own?: boolean;
  /** partitions when created (default: the `partitions` argument of ensureTopics) */
  partitions?: number;
}

/**
 * Makes sure every planned topic exists. Missing topics are created when `create` is set (or the topic is the
 * daemon's own); otherwise the first missing one stops the start with a message naming it and the setting that would
 * create it. Resolves with the names created.
 */
export async function ensureTopics(conn: KafkaConnection, plan: readonly TopicPlan[], create: boolean, partitions: number, timeoutMs = 15000): Promise<string[]> {
  const have = await existingTopics(conn, timeoutMs);
  const missing = plan.filter((t) => !have.has(t.name));
  if (missing.length === 0) return [];
  const refused = missing.find((t) => !create && t.own !== true);
  if (refused !== undefined) {
    throw new LuxError('E_KAFKA', `topic '${refused.name}' does not exist on ${conn.brokers} (create it, or set kafka.create_topics: true)`);
  }
  await createTopics(conn, missing.map((t) => ({ name: t.name, partitions: t.partitions ?? partitions, compacted: t.compacted })), Math.max(timeoutMs, TOPIC_DEFAULTS.timeoutMs));
  return missing.map((t) => t.name);
}
