// Every default of `lux report`, in one typed place.
import { DEFAULTS } from '../config/schema.js';

export const REPORT_DEFAULTS = {
  /** SPEC section 7's default KPI topic (the config's topics.kpis when given) */
  kpisTopic: 'lux.kpis',
  alarmsTopic: DEFAULTS.topics.alarms,
  dlqTopic: DEFAULTS.topics.dlq,
  slaSeconds: DEFAULTS.sla.seconds,
  /** the broker must answer (connect, metadata, offsets) within this */
  brokerTimeoutMs: 10_000,
  /** a topic's read gives up when no message nor end-of-partition came for this long */
  readIdleMs: 30_000,
  /** chart buckets: the smallest of these (seconds) that gives at most maxBuckets over the period */
  bucketSeconds: [60, 300, 900, 1_800, 3_600, 7_200, 21_600, 86_400] as readonly number[],
  maxBuckets: 60,
  /** enriched records read per partition and bucket to sample latency */
  latencySamplesPerBucket: 100,
  /** rows in each worst-of ranking */
  worst: 10,
  /** a cell or equipment enters a ranking with at least this many attempts in the KPI's denominator over the period */
  worstMinAttempts: 20,
  /** dead-letter examples kept */
  deadLetterExamples: 10,
  /** POST: attempts in all, the first wait (doubled each retry) and each attempt's timeout */
  postAttempts: 5,
  postBackoffMs: 1_000,
  postTimeoutMs: 15_000,
} as const;
