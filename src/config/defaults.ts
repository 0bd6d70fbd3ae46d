// Every default and limit of the configuration, in one place, without the validation (so threads can import it cheaply).
import os from 'node:os';
import { DIMENSIONS } from '../kpis/names.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** kafka.security.protocol: librdkafka's security.protocol, lower case. */
export const SECURITY_PROTOCOLS = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
/** kafka.security.sasl.mechanism: librdkafka's sasl.mechanisms, as Kafka spells them. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', 'GSSAPI'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Every default value of the configuration, in one place (docs/service.md and deploy/lux.yaml repeat them). */
export const DEFAULTS = {
  kafka: {
    group_id: 'lux',
    client_id: 'lux',
    create_topics: false,
    topic_partitions: 3,
    transaction_timeout_ms: 60_000,
    security: {
      protocol: 'plaintext' as SecurityProtocol,
      verify_hostname: true,
      /** the Kerberos principal name of the brokers (librdkafka's sasl.kerberos.service.name) */
      kerberos_service_name: 'kafka',
    },
  },
  topics: {
    raw: 'lux.raw',
    enriched: 'lux.enriched',
    alarms: 'lux.alarms',
    dlq: 'lux.dlq',
    refdata: 'lux.refdata',
    alarm_state: 'lux.alarms.state',
    kpis: 'lux.kpis',
    /** the partials topic is one group's: `<group_id>` + this */
    kpi_partials_suffix: '.kpis.partials',
    kpi_state: 'lux.kpis.state',
  },
  refdata: { watch: false },
  alarms: {
    idle_partition_ms: 30_000,
    rule_lateness_ms: 0,
    webhook: { timeout_ms: 5_000, max_queue: 10_000, max_retries: 5 },
  },
  kpis: {
    enabled: true,
    window_ms: 60_000,
    lateness_ms: 5_000,
    dimensions: DIMENSIONS,
    rule_min_attempts: 1,
  },
  pipeline: {
    /** One core is left to the main thread (Kafka client, sink, alarms). */
    workers: (): number => Math.max(1, os.availableParallelism() - 1),
    batch_max_messages: 1_000,
    batch_max_bytes: 1_048_576,
    slots: 8,
    memory_budget_mb: 512,
    commit_interval_ms: 100,
    drain_timeout_ms: 30_000,
    /** the native batch produce; false: node-rdkafka's produce, one call a record (same output, more CPU) */
    native_produce: true,
    /** the native batch consume; false: node-rdkafka's consume(n), a JS object and two Buffers a message */
    native_consume: true,
    /** the native record serializer in the decode workers; false: the JavaScript writer (same bytes, more CPU) */
    native_json: true,
    /** the native KPI batch partials in the decode workers; false: the JavaScript fold (same bytes, more CPU) */
    native_kpis: true,
  },
  sla: { seconds: 60, percentile: 99.9, interval_ms: 60_000, alarm: false },
  http: { host: '127.0.0.1', port: 9464 },
  log: { level: 'info' as LogLevel },
} as const;

/** Upper bounds that catch a unit mistake (ms given as s, MB given as bytes) before it reaches a running process. */
export const LIMITS = {
  workers: 256,
  topic_partitions: 10_000,
  /** librdkafka refuses transaction.timeout.ms above the broker's transaction.max.timeout.ms (15 min by default). */
  transaction_timeout_ms: 900_000,
  batch_max_messages: 1_000_000,
  batch_max_bytes: 256 * 1_048_576,
  slots: 1_024,
  memory_budget_mb: 1_048_576,
  /** Longest window a rule may count over: 7 days. */
  window_ms: 7 * 86_400_000,
  duration_ms: 86_400_000,
} as const;

