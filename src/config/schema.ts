// The daemon's configuration: one zod schema, with every default and limit taken from defaults.ts.
import { z } from 'zod';
import { DEFAULTS, LIMITS, LOG_LEVELS } from './defaults.js';

export { DEFAULTS, LIMITS, LOG_LEVELS, type LogLevel } from './defaults.js';

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
    /** librdkafka properties passed through unchanged to every client (e.g. security.protocol); they win over LUX's own settings. */
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
      /** compacted: the alarm window state, per input partition its own value (<group_id>:<partition>) and one per equipment (<group_id>:<partition>:e<equipment>) */
      alarm_state: topic().default(DEFAULTS.topics.alarm_state),
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
