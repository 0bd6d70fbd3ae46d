// The daemon's configuration: one zod schema, with every default and limit taken from defaults.ts.
import { z } from 'zod';
import { DEFAULTS, LIMITS, LOG_LEVELS, SASL_MECHANISMS, SECURITY_PROTOCOLS } from './defaults.js';
import { DIMENSIONS, KPI_NAMES, RATE_KPIS } from '../kpis/names.js';

export { DEFAULTS, LIMITS, LOG_LEVELS, SASL_MECHANISMS, SECURITY_PROTOCOLS, type LogLevel, type SaslMechanism, type SecurityProtocol } from './defaults.js';

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

/** A secret's two possible sources: a file (systemd LoadCredential=, a mounted secret) or an environment variable. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envVar = () =>
  z.string({ error: 'expected an environment variable name' }).regex(ENV_NAME, { error: 'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)' });
const filePath = () => text();

const tls = section({
  /** PEM CA certificate(s) the brokers' certificates are checked against; absent: the system's CA store. */
  ca_file: filePath().optional(),
  /** PEM client certificate and its key, for brokers that ask for one (ssl.client.auth=required). */
  cert_file: filePath().optional(),
  key_file: filePath().optional(),
  key_password_file: filePath().optional(),
  key_password_env: envVar().optional(),
  /** Check that the broker's certificate names the host connected to; turn off only for certificates without SANs. */
  verify_hostname: bool().default(DEFAULTS.kafka.security.verify_hostname),
});

/** librdkafka's built-in OIDC client (sasl.oauthbearer.method=oidc): client-credentials tokens from a token endpoint. */
const oauthbearer = section({
  token_endpoint_url: z
    .string({ error: 'expected an http(s) URL' })
    .regex(/^https?:\/\/[^\s/]+/, { error: 'expected an http(s) URL' }),
  client_id: text(),
  client_secret_file: filePath().optional(),
  client_secret_env: envVar().optional(),
  /** space-separated scopes asked for in the token request */
  scope: text().optional(),
  /** SASL extensions sent with the token (some brokers, e.g. Confluent Cloud, need logicalCluster and identityPoolId) */
  extensions: z
    .record(
      z.string().regex(/^[A-Za-z]+$/, { error: 'expected an extension name of letters only' }),
      z.string({ error: 'expected a string' }),
      { error: 'expected a map of extension names to values' },
    )
    .optional(),
});

const kerberos = section({
  service_name: text().default(DEFAULTS.kafka.security.kerberos_service_name),
  /** this client's principal, e.g. lux/host1.example.com@EXAMPLE.COM */
  principal: text(),
  /** the keytab librdkafka's kinit reads the principal's key from */
  keytab: filePath(),
});

const sasl = section({
  mechanism: z.enum(SASL_MECHANISMS, { error: `expected one of ${SASL_MECHANISMS.join(', ')}` }),
  username: text().optional(),
  password_file: filePath().optional(),
  password_env: envVar().optional(),
  oauthbearer: oauthbearer.optional(),
  kerberos: kerberos.optional(),
});

/** librdkafka properties that kafka.security sets; kafka.extra may not set them too (one place for security). */
export const SECURITY_PROPERTY_PREFIXES = ['security.protocol', 'ssl.', 'ssl_', 'sasl.', 'enable.ssl.'] as const;

const security = section({
  protocol: z
    .enum(SECURITY_PROTOCOLS, { error: `expected one of ${SECURITY_PROTOCOLS.join(', ')}` })
    .default(DEFAULTS.kafka.security.protocol),
  tls: tls.optional(),
  sasl: sasl.optional(),
})
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], input: unknown, message: string): void => {
      ctx.addIssue({ code: 'custom', path, input, message });
    };
    const usesSasl = s.protocol === 'sasl_plaintext' || s.protocol === 'sasl_ssl';
    const usesTls = s.protocol === 'ssl' || s.protocol === 'sasl_ssl';
    if (usesSasl && s.sasl === undefined) issue(['sasl'], undefined, `expected a sasl section with protocol ${s.protocol}`);
    if (!usesSasl && s.sasl !== undefined) issue(['sasl'], s.sasl, `expected no sasl section with protocol ${s.protocol} (use sasl_plaintext or sasl_ssl)`);
    if (!usesTls && s.tls !== undefined) issue(['tls'], s.tls, `expected no tls section with protocol ${s.protocol} (use ssl or sasl_ssl)`);
    const t = s.tls;
    if (t !== undefined) {
      if ((t.cert_file === undefined) !== (t.key_file === undefined)) {
        const [has, lacks] = t.cert_file === undefined ? ['key_file', 'cert_file'] : ['cert_file', 'key_file'];
        issue(['tls', lacks], undefined, `expected a ${lacks} with ${has} (a client certificate needs both)`);
      }
      if (t.key_password_file !== undefined && t.key_password_env !== undefined) {
        issue(['tls', 'key_password_env'], t.key_password_env, 'expected key_password_file or key_password_env, not both');
      }
      if (t.key_file === undefined && (t.key_password_file ?? t.key_password_env) !== undefined) {
        const key = t.key_password_file !== undefined ? 'key_password_file' : 'key_password_env';
        issue(['tls', key], t.key_password_file ?? t.key_password_env, 'expected a key_file for the key password to open');
      }
    }
    const a = s.sasl;
    if (a === undefined) return;
    const unused = (key: 'username' | 'password_file' | 'password_env' | 'oauthbearer' | 'kerberos'): void => {
      if (a[key] !== undefined) issue(['sasl', key], a[key], `expected nothing here: ${a.mechanism} does not use it`);
    };
    switch (a.mechanism) {
      case 'PLAIN':
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        if (a.username === undefined) issue(['sasl', 'username'], undefined, `expected a username for ${a.mechanism}`);
        if (a.password_file === undefined && a.password_env === undefined) {
          issue(['sasl', 'password_file'], undefined, `expected password_file or password_env for ${a.mechanism}`);
        }
        if (a.password_file !== undefined && a.password_env !== undefined) {
          issue(['sasl', 'password_env'], a.password_env, 'expected password_file or password_env, not both');
        }
        unused('oauthbearer');
        unused('kerberos');
        break;
      case 'OAUTHBEARER':
        if (a.oauthbearer === undefined) issue(['sasl', 'oauthbearer'], undefined, 'expected an oauthbearer section (token_endpoint_url, client_id, client_secret_file or client_secret_env)');
        else {
          const o = a.oauthbearer;
          if (o.client_secret_file === undefined && o.client_secret_env === undefined) {
            issue(['sasl', 'oauthbearer', 'client_secret_file'], undefined, 'expected client_secret_file or client_secret_env');
          }
          if (o.client_secret_file !== undefined && o.client_secret_env !== undefined) {
            issue(['sasl', 'oauthbearer', 'client_secret_env'], o.client_secret_env, 'expected client_secret_file or client_secret_env, not both');
          }
        }
        unused('username');
        unused('password_file');
        unused('password_env');
        unused('kerberos');
        break;
      case 'GSSAPI':
        if (a.kerberos === undefined) issue(['sasl', 'kerberos'], undefined, 'expected a kerberos section (principal, keytab)');
        unused('username');
        unused('password_file');
        unused('password_env');
        unused('oauthbearer');
        break;
    }
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
    /** TLS and SASL for every client (consumer, producer, admin, reference-data reader); secrets come from files or the environment. */
    security: security.prefault({}),
    /** librdkafka properties passed through unchanged to every client (tuning); they win over LUX's own settings; security.*, ssl.* and sasl.* belong in kafka.security once it is used. */
    extra: z
      .record(
        z.string(),
        z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' }),
        { error: 'expected a map of librdkafka properties' },
      )
      .default({}),
  }).superRefine((k, ctx) => {
    // Two places for one setting would leave the reader guessing which wins; with kafka.security at its default
    // (plaintext) kafka.extra may still carry them, as configurations written before kafka.security did.
    if (k.security.protocol === 'plaintext') return;
    for (const property of Object.keys(k.extra)) {
      if (SECURITY_PROPERTY_PREFIXES.some((p) => property === p || property.startsWith(p))) {
        ctx.addIssue({
          code: 'custom',
          path: ['extra', property],
          input: k.extra[property],
          message: `expected no security property here: kafka.security (protocol ${k.security.protocol}) sets them`,
        });
      }
    }
  }),
  topics: section({
      raw: topic().default(DEFAULTS.topics.raw),
      enriched: topic().default(DEFAULTS.topics.enriched),
      alarms: topic().default(DEFAULTS.topics.alarms),
      dlq: topic().default(DEFAULTS.topics.dlq),
      refdata: topic().default(DEFAULTS.topics.refdata),
      /** compacted: the alarm window state, per input partition its own value (<group_id>:<partition>) and one per equipment (<group_id>:<partition>:e<equipment>) */
      alarm_state: topic().default(DEFAULTS.topics.alarm_state),
      /** the KPI objects of SPEC section 7, key <dimension>:<key> */
      kpis: topic().default(DEFAULTS.topics.kpis),
      /**
       * internal: each transaction's partial KPI aggregates, one message per shard (partition = shard); one consumer
       * group's own (its messages carry no group), so the default is `<group_id>.kpis.partials`
       */
      kpi_partials: topic().optional(),
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
      /** Hand each pass to librdkafka in one native call (native/lux_native.c) rather than one node-rdkafka call a record. */
      native_produce: bool().default(DEFAULTS.pipeline.native_produce),
      /** Read each batch from librdkafka as one buffer (native/lux_native.c) rather than node-rdkafka's object a message. */
      native_consume: bool().default(DEFAULTS.pipeline.native_consume),
      /** Write each slot's records' JSON in the decode worker through native/record_json.c rather than in JavaScript. */
      native_json: bool().default(DEFAULTS.pipeline.native_json),
      /** Fold and encode each slot's KPI partials in the decode worker through native/kpi_partials.c rather than in JavaScript. */
      native_kpis: bool().default(DEFAULTS.pipeline.native_kpis),
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
}).transform((c) => ({
  ...c,
  topics: { ...c.topics, kpi_partials: c.topics.kpi_partials ?? `${c.kafka.group_id}${DEFAULTS.topics.kpi_partials_suffix}` },
}));

/** The validated configuration, every default filled in. */
export type LuxConfig = z.output<typeof configSchema>;
/** kafka.security after validation. */
export type SecurityConfig = LuxConfig['kafka']['security'];
/** One alarm rule after validation (clear_below filled in). */
export type AlarmRuleConfig = LuxConfig['alarms']['rules'][number];
/** The KPI section after validation; one KPI alarm rule (clear and min_attempts filled in). */
export type KpiConfig = LuxConfig['kpis'];
export type KpiRuleConfig = KpiConfig['rules'][number];
