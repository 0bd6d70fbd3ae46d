// The /status.json document, version 1 (docs/status.md): what the status page draws and what other tools may read.
//
// Field names are snake_case like the SPEC's wire formats; times are ISO-8601 UTC strings, durations seconds unless a
// name says `_ms`, rates per second. A field that cannot be known yet is null, never absent, so readers need one check.
// A change that removes or renames a field bumps STATUS_VERSION; adding a field does not.

import type { KpiMessage } from '../report/kpi-message.js';
import type { AlarmMessage } from '../report/alarm-message.js';

export const STATUS_VERSION = 1;

export interface StatusDocument {
  version: typeof STATUS_VERSION;
  generated_at: string;
  service: StatusService;
  topology: StatusTopology;
  throughput: StatusThroughput;
  lag: StatusLag;
  transactions: StatusTransactions;
  latency: StatusLatency;
  dead_letters: StatusDeadLetters;
  refdata: StatusRefdata;
  alarms: StatusAlarms;
  kpis: StatusKpis;
}

export interface StatusService {
  started_at: string;
  uptime_seconds: number;
  ready: boolean;
  /** why the process is not ready (the /ready reasons); empty when ready */
  reasons: string[];
  group_id: string;
  instance: string;
  http_url: string | null;
}

/** The graph of `lux explain`, each node annotated with its live numbers. */
export interface StatusTopology {
  nodes: StatusNode[];
  edges: Array<{ from: string; to: string; label: string }>;
}

export interface StatusNode {
  id: string;
  label: string;
  kind: 'topic' | 'stage';
  /** records (or frames, for the raw topic) per second through this node over the last rate interval */
  records_per_s: number | null;
  /** failures this node counted or caused since start (decode: dead letters; alarm thread: failures counted) */
  errors: number | null;
  dead_letters: number | null;
  /** one short line of what matters for this node (lag, version, open alarms, p99) */
  detail: string | null;
}

export interface StatusThroughput {
  /** seconds the rates are taken over */
  interval_s: number;
  frames_in_per_s: number;
  records_out_per_s: number;
  dead_letters_per_s: number;
  totals: { frames_in: number; records_out: number; dead_letters: number; alarms: number };
  /** one point a `history.step_s`, oldest first; `t` in Unix seconds */
  history: { step_s: number; t: number[]; frames_in_per_s: number[]; records_out_per_s: number[] };
}

export interface StatusLag {
  total: number;
  partitions: Array<{ partition: number; lag: number }>;
}

export interface StatusTransactions {
  committed: number;
  aborted: number;
  committed_per_s: number;
  /** duration of the last committed transaction, begin to commit */
  last_ms: number | null;
}

export interface LatencyPoint {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  count: number;
}

export interface StatusLatency {
  /** the measured span: a record's event time to its transaction's commit */
  span: 'event_to_commit';
  /** the sliding window each point is taken over */
  window_s: number;
  now: LatencyPoint | null;
  sla: { seconds: number; percentile: number; breached: boolean; reason: string };
  /** one point a `step_s` (null entries: no record committed in that window), oldest first */
  history: { step_s: number; t: number[]; p50_ms: (number | null)[]; p99_ms: (number | null)[]; max_ms: (number | null)[] };
}

export interface DeadLetterExample {
  at: string;
  topic: string;
  partition: number;
  offset: number;
  reason: string;
}

export interface StatusDeadLetters {
  total: number;
  by_reason: Array<{ reason: string; count: number }>;
  /** the most recent first */
  recent: DeadLetterExample[];
}

export interface StatusRefdata {
  version: number;
  tables: Array<{ name: string; rows: number; last_update: string | null; age_seconds: number | null }>;
}

export interface StatusAlarms {
  /** open (raised, not cleared) failure and KPI alarms as last written, newest first; `suppressed` as written */
  open: AlarmMessage[];
  open_count: number;
  raised_total: number;
  cleared_total: number;
  suppressed_total: number;
}

/** One KPI row of the page: a region, vendor or cell's indicators in the last window. */
export type KpiRow = Pick<KpiMessage, 'key' | 'records' | 'failures'> & {
  attach_success_rate: number | null;
  session_success_rate: number | null;
  handover_success_rate: number | null;
  drop_rate: number | null;
  session_attempts: number;
  setup_latency_p95_ms: number | null;
};

export interface StatusKpis {
  /** the last window emitted; null until the first */
  window_start: string | null;
  window_end: string | null;
  by_region: KpiRow[];
  by_vendor: KpiRow[];
  worst_cells: { by_drop_rate: KpiRow[]; by_session_success_rate: KpiRow[] };
}
