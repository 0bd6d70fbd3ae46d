// The JSON summary `lux report` writes (and POSTs), version 1: one period's KPI trends, worst cells and equipment, alarms, dead letters, throughput and latency.

export const REPORT_VERSION = 1;

export interface ReportSummary {
  report_version: typeof REPORT_VERSION;
  generated_at: string;
  period: { from: string; to: string; bucket_seconds: number };
  sources: {
    brokers: string;
    kpis_topic: string;
    alarms_topic: string;
    dlq_topic: string;
    enriched_topic: string | null;
    messages: { kpis: number; alarms: number; dead_letters: number; latency_samples: number };
  };
  throughput: ThroughputSummary;
  kpis: KpiSummary;
  alarms: AlarmSummary;
  dead_letters: DeadLetterSummary;
  latency: LatencySummary | null;
}

export interface ThroughputSummary {
  /** where the counts come from: the KPI dimension whose records add up to every record */
  dimension: string | null;
  records: number;
  records_per_s: number | null;
  /** records_per_s is null for a bucket no KPI window started in (the period's ragged ends, a daemon stopped) */
  buckets: Array<{ start: string; records: number; records_per_s: number | null }>;
}

/** Indicators summed over a period (or a bucket) and the rates recomputed from the sums. */
export interface KpiTotals {
  records: number;
  failures: number;
  session_attempts: number;
  session_success_rate: number | null;
  attach_success_rate: number | null;
  handover_success_rate: number | null;
  call_drops: number;
  drop_rate: number | null;
}

export interface KpiTrend extends KpiTotals {
  key: string;
  trend: Array<{ start: string } & KpiTotals>;
}

export interface RankedKey extends KpiTotals {
  key: string;
  /** equipment only: its name, when an alarm carried it */
  name?: string | null;
}

export interface KpiSummary {
  windows: number;
  by_region: KpiTrend[];
  by_vendor: KpiTrend[];
  worst_cells: { by_drop_rate: RankedKey[]; by_session_success_rate: RankedKey[] };
  worst_equipment: { by_drop_rate: RankedKey[]; by_session_success_rate: RankedKey[]; by_failure_share: RankedKey[] };
}

export interface AlarmSummary {
  raised: number;
  cleared: number;
  suppressed: number;
  by_rule: Array<{ rule: string; kind: 'failure' | 'kpi'; raised: number; cleared: number; suppressed: number }>;
  top_subjects: Array<{ subject: string; raised: number }>;
  /** raised in the period and not cleared by its end */
  open_at_end: Array<{ alarm_id: string; rule: string; subject: string; raised_at: string; suppressed: boolean }>;
  buckets: Array<{ start: string; raised: number; cleared: number }>;
}

export interface DeadLetterSummary {
  total: number;
  by_reason: Array<{ reason: string; count: number }>;
  buckets: Array<{ start: string; count: number }>;
  examples: Array<{ at: string; topic: string; partition: number; offset: number; reason: string }>;
}

export interface LatencySummary {
  /** said plainly in the report too */
  measures: string;
  sla_seconds: number;
  samples: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  /** share of the samples above the SLA */
  over_sla: number | null;
  buckets: Array<{ start: string; samples: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null }>;
}
