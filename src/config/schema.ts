// The daemon's configuration: one zod schema, with every default and limit in the DEFAULTS and LIMITS tables below.
import os from 'node:os';
import { z } from 'zod';
import { DIMENSIONS, KPI_NAMES, RATE_KPIS } from '../kpis/names.js';

/** Every default value of the configuration, in one place (docs/service.md and deploy/lux.yaml repeat them). */
export const DEFAULTS = {
  kafka: {
    group_id: 'lux',
    client_id: 'lux',
    create_topics: false,
    topic_partitions: 3,
    transaction_timeout_ms: 60_000,
  },
  topics: {
    raw: 'lux.raw',
    enriched: 'lux.enriched',
    alarms: 'lux.alarms',
    dlq: 'lux.dlq',
    refdata: 'lux.refdata',
    alarm_state: 'lux.alarms.state',
    kpis: 'lux.kpis',
    kpi_partials: 'lux.kpis.partials',
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

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Builders whose messages read "expected …"; the loader appends ", got <value>" and prefixes the key path.
const int = (what: string, min: number, max: number) =>
  z
    .int({ error: `expected ${what}` })
    .min(min, { error: `expected ${what}` })
    .max(max, { error: `expected ${what} (at most ${max})` });
const positiveInt = (max: number = Number.MAX_SAFE_INTEGER) => int('a positive integer', 1, max);
const nonNegativeInt = (max: number = Number.MAX_SAFE_INTEGER) => int('a non-negative integer', 0, max);
const bool = () => z.boolean({ error: 'expected true or false' });
/** A map of settings; the error also covers a missing section. */
const section = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape, { error: 'expected a map of settings' });
const text = () => z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });

// Kafka's own rule for topic names: legal characters and at most 249 of them.
const topic = () =>
  z
    .string({ error: 'expected a topic name' })
    .regex(/^[A-Za-z0-9._-]{1,249}$/, { error: 'expected a topic name of 1 to 249 characters from [A-Za-z0-9._-]' });

const HOST_PORT = /^[^\s:,]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;
const brokers = () =>
  z
    .union([z.string(), z.array(z.string())], { error: 'expected "host:port,host:port" or a list of "host:port"' })
    .transform((v) => (typeof v === 'string' ? v.split(',') : v).map((b) => b.trim()).filter((b) => b !== ''))
    .pipe(
      z
        .array(z.string().regex(HOST_PORT, { error: 'expected "host:port"' }))
        .min(1, { error: 'expected at least one "host:port"' }),
    );

// Rule names go into alarm ids (`<rule>:<equipment_id>:<window_end>`) and metric labels: no colon, no spaces.
const ruleName = () =>
  z
    .string({ error: 'expected a rule name' })
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected a rule name of 1 to 64 characters from [A-Za-z0-9_.-]' });

const rule = section({
    name: ruleName(),
    window_ms: positiveInt(LIMITS.window_ms),
    slide_ms: positiveInt(LIMITS.window_ms),
    threshold: positiveInt(),
    /** Absent: the alarm clears once the count falls below the threshold (no hysteresis). */
    clear_below: positiveInt().optional(),
    lateness_ms: nonNegativeInt(LIMITS.window_ms).default(DEFAULTS.alarms.rule_lateness_ms),
  })
  .superRefine((r, ctx) => {
    if (r.window_ms % r.slide_ms !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['window_ms'],
        input: r.window_ms,
        message: `expected a positive multiple of slide_ms (${r.slide_ms})`,
      });
    }
    if (r.clear_below !== undefined && r.clear_below > r.threshold) {
      ctx.addIssue({
        code: 'custom',
        path: ['clear_below'],
        input: r.clear_below,
        message: `expected at most threshold (${r.threshold})`,
      });
    }
  })
  .transform((r) => ({ ...r, clear_below: r.clear_below ?? r.threshold }));

// A KPI threshold: a share in [0, 1] for the rate KPIs (checked per rule below), milliseconds for the latency.
const kpiThreshold = () => z.number({ error: 'expected a number >= 0' }).min(0, { error: 'expected a number >= 0' });

const kpiRule = section({
    name: ruleName(),
    kpi: z.enum(KPI_NAMES, { error: `expected one of ${KPI_NAMES.join(', ')}` }),
    dimension: z.enum(DIMENSIONS, { error: `expected one of ${DIMENSIONS.join(', ')}` }),
    /** raise when the value is below this (exactly one of below and above) */
    below: kpiThreshold().optional(),
    /** raise when the value is above this */
    above: kpiThreshold().optional(),
    /** Absent: the threshold (no hysteresis). */
    clear: kpiThreshold().optional(),
    min_attempts: positiveInt().default(DEFAULTS.kpis.rule_min_attempts),
  })
  .superRefine((r, ctx) => {
    const issue = (key: string, input: unknown, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [key], input, message });
    };
    if ((r.below === undefined) === (r.above === undefined)) {
      issue(r.below === undefined ? 'below' : 'above', r.above, 'expected exactly one of below and above');
      return;
    }
    const rate = RATE_KPIS.has(r.kpi);
    for (const key of ['below', 'above', 'clear'] as const) {
      const v = r[key];
      if (rate && v !== undefined && v > 1) issue(key, v, `expected a share in [0, 1] for ${r.kpi}`);
    }
    // clearing on the raising side of the threshold would clear the alarm by the very value that raised it
    if (r.clear !== undefined && r.below !== undefined && r.clear < r.below) issue('clear', r.clear, `expected at least below (${r.below})`);
    if (r.clear !== undefined && r.above !== undefined && r.clear > r.above) issue('clear', r.clear, `expected at most above (${r.above})`);
  })
  .transform((r) => ({ ...r, clear: r.clear ?? (r.below ?? r.above)! }));

const webhook = section({
  url: z
    .string({ error: 'expected an http(s) URL' })
    .regex(/^https?:\/\/[^\s/]+/, { error: 'expected an http(s) URL' }),
  timeout_ms: positiveInt(LIMITS.duration_ms).default(DEFAULTS.alarms.webhook.timeout_ms),
  max_queue: positiveInt().default(DEFAULTS.alarms.webhook.max_queue),
  max_retries: nonNegativeInt(1_000).default(DEFAULTS.alarms.webhook.max_retries),
});

export const configSchema = z.strictObject({
  kafka: section({
    brokers: brokers(),
    group_id: text().default(DEFAULTS.kafka.group_id),
    /**
     * The producer's transactional.id; it must be stable across restarts of one instance (so a restart fences its
     * predecessor and aborts its open transaction at once) and distinct between instances. Absent:
     * `<group_id>-<hostname>`, right for one instance per host; set it when several share a host.
     */
    transactional_id: text().optional(),
    client_id: text().default(DEFAULTS.kafka.client_id),
    create_topics: bool().default(DEFAULTS.kafka.create_topics),
    topic_partitions: positiveInt(LIMITS.topic_partitions).default(DEFAULTS.kafka.topic_partitions),
    transaction_timeout_ms: int(
      'a transaction timeout of 1000 to 900000 ms',
      1_000,
      LIMITS.transaction_timeout_ms,
    ).default(DEFAULTS.kafka.transaction_timeout_ms),
    /** librdkafka properties passed through unchanged (e.g. security.protocol); LUX's own keys win. */
    extra: z
      .record(
        z.string(),
        z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' }),
        { error: 'expected a map of librdkafka properties' },
      )
      .default({}),
  }),
  topics: section({
      raw: topic().default(DEFAULTS.topics.raw),
      enriched: topic().default(DEFAULTS.topics.enriched),
      alarms: topic().default(DEFAULTS.topics.alarms),
      dlq: topic().default(DEFAULTS.topics.dlq),
      refdata: topic().default(DEFAULTS.topics.refdata),
      /** compacted: the alarm window changelog, per input partition a snapshot (<group_id>:<partition>) and deltas (<group_id>:<partition>:d<n>) */
      alarm_state: topic().default(DEFAULTS.topics.alarm_state),
      /** the KPI objects of SPEC section 7, key <dimension>:<key> */
      kpis: topic().default(DEFAULTS.topics.kpis),
      /** internal: each transaction's partial KPI aggregates, one message per shard (partition = shard) */
      kpi_partials: topic().default(DEFAULTS.topics.kpi_partials),
      /** internal, compacted: per shard its merge frontier, the raw partitions' marks, and its open KPI alarms */
      kpi_state: topic().default(DEFAULTS.topics.kpi_state),
    })
    .prefault({}),
  refdata: section({
    dir: text(),
    watch: bool().default(DEFAULTS.refdata.watch),
  }),
  alarms: section({
      rules: z
        .array(rule, { error: 'expected a list of rules' })
        .default([])
        .superRefine((rules, ctx) => {
          const seen = new Map<string, number>();
          rules.forEach((r, i) => {
            const first = seen.get(r.name);
            if (first === undefined) seen.set(r.name, i);
            else
              ctx.addIssue({
                code: 'custom',
                path: [i, 'name'],
                input: r.name,
                message: `expected a unique rule name (rules[${first}] has it too)`,
              });
          });
        }),
      idle_partition_ms: positiveInt(LIMITS.window_ms).default(DEFAULTS.alarms.idle_partition_ms),
      /** no longer used (every transaction writes the alarm state it changed); accepted so older files still load, with a warning */
      checkpoint_ms: positiveInt(LIMITS.duration_ms).optional(),
      webhook: webhook.optional(),
    })
    .prefault({}),
  kpis: section({
      enabled: bool().default(DEFAULTS.kpis.enabled),
      window_ms: positiveInt(LIMITS.window_ms).default(DEFAULTS.kpis.window_ms),
      lateness_ms: nonNegativeInt(LIMITS.window_ms).default(DEFAULTS.kpis.lateness_ms),
      dimensions: z
        .array(z.enum(DIMENSIONS, { error: `expected one of ${DIMENSIONS.join(', ')}` }), { error: 'expected a list of dimensions' })
        .min(1, { error: 'expected at least one dimension' })
        .default([...DEFAULTS.kpis.dimensions])
        .superRefine((dims, ctx) => {
          dims.forEach((d, i) => {
            if (dims.indexOf(d) !== i) ctx.addIssue({ code: 'custom', path: [i], input: d, message: 'expected each dimension once' });
          });
        }),
      rules: z.array(kpiRule, { error: 'expected a list of rules' }).default([]),
    })
    .superRefine((k, ctx) => {
      const seen = new Map<string, number>();
      k.rules.forEach((r, i) => {
        const first = seen.get(r.name);
        if (first === undefined) seen.set(r.name, i);
        else
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], input: r.name, message: `expected a unique rule name (rules[${first}] has it too)` });
        if (!k.dimensions.includes(r.dimension)) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'dimension'],
            input: r.dimension,
            message: `expected a dimension enabled in kpis.dimensions (${k.dimensions.join(', ')})`,
          });
        }
      });
    })
    .prefault({}),
  pipeline: section({
      workers: positiveInt(LIMITS.workers).default(DEFAULTS.pipeline.workers),
      batch_max_messages: positiveInt(LIMITS.batch_max_messages).default(DEFAULTS.pipeline.batch_max_messages),
      batch_max_bytes: int('a byte count of 1024 or more', 1_024, LIMITS.batch_max_bytes).default(
        DEFAULTS.pipeline.batch_max_bytes,
      ),
      slots: positiveInt(LIMITS.slots).default(DEFAULTS.pipeline.slots),
      memory_budget_mb: positiveInt(LIMITS.memory_budget_mb).default(DEFAULTS.pipeline.memory_budget_mb),
      commit_interval_ms: positiveInt(LIMITS.duration_ms).default(DEFAULTS.pipeline.commit_interval_ms),
      drain_timeout_ms: positiveInt(LIMITS.duration_ms).default(DEFAULTS.pipeline.drain_timeout_ms),
    })
    .prefault({}),
  sla: section({
      seconds: z
        .number({ error: 'expected a positive number of seconds' })
        .positive({ error: 'expected a positive number of seconds' })
        .default(DEFAULTS.sla.seconds),
      percentile: z
        .number({ error: 'expected a percentile in (0, 100]' })
        .gt(0, { error: 'expected a percentile in (0, 100]' })
        .lte(100, { error: 'expected a percentile in (0, 100]' })
        .default(DEFAULTS.sla.percentile),
      /** The sliding interval over which the percentile and the maximum are taken. */
      interval_ms: positiveInt(LIMITS.duration_ms).default(DEFAULTS.sla.interval_ms),
      /** Also publish breach/recovery as an alarm (rule "sla") on topics.alarms. */
      alarm: bool().default(DEFAULTS.sla.alarm),
    })
    .prefault({}),
  http: section({
      host: text().default(DEFAULTS.http.host),
      /** 0 picks a free port (tests). */
      port: nonNegativeInt(65_535).default(DEFAULTS.http.port),
    })
    .prefault({}),
  log: section({
      level: z
        .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
        .default(DEFAULTS.log.level),
    })
    .prefault({}),
});

/** The validated configuration, every default filled in. */
export type LuxConfig = z.output<typeof configSchema>;
/** One alarm rule after validation (clear_below filled in). */
export type AlarmRuleConfig = LuxConfig['alarms']['rules'][number];
/** The KPI section after validation; one KPI alarm rule (clear and min_attempts filled in). */
export type KpiConfig = LuxConfig['kpis'];
export type KpiRuleConfig = KpiConfig['rules'][number];
