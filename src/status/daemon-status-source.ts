// The daemon's StatusSource: its getters read what the daemon already keeps (pipeline counters and lag, readiness, the SLA verdict, reference-data counters) and the status keepers it feeds.
import type { LuxConfig } from '../config/schema.js';
import type { PipelineCounters } from '../metrics/pipeline-counters.js';
import type { SlaVerdict } from '../metrics/latency.js';
import type { Readiness } from '../service/http.js';
import type { KpiMessage } from '../report/kpi-message.js';
import type { RowCounts } from '../enrich/refdata-state.js';
import type { DeadLetterSamples } from './dead-letter-samples.js';
import type { OpenAlarms } from './open-alarms.js';
import type { RecentLatency } from './recent-latency.js';
import type { StatusSource } from './status-source.js';
import { topologyGraph } from './topology-graph.js';

export interface DaemonStatusParts {
  config: LuxConfig;
  instance: string;
  startedAtMs: number;
  httpUrl: () => string | null;
  counters: PipelineCounters;
  lag: () => ReadonlyMap<number, number>;
  readiness: Readiness;
  sla: () => SlaVerdict;
  /** the reference data service's counters (enrich/refdata-service.ts) */
  refdata: { version: number; rows: RowCounts; lastAppliedMs: number };
  /** when the first version was loaded at start (lastAppliedMs stays 0 until a later update) */
  refdataLoadedAtMs: number;
  recent: RecentLatency;
  openAlarms: OpenAlarms;
  /** failures the alarm thread counted, all rules (0 without rules) */
  failuresCounted: () => number;
  deadLetters: DeadLetterSamples;
  kpis: () => readonly KpiMessage[];
}

export function daemonStatusSource(p: DaemonStatusParts): StatusSource {
  const topology = topologyGraph(p.config);
  return {
    identity: () => ({ topology, groupId: p.config.kafka.group_id, instance: p.instance, startedAtMs: p.startedAtMs, httpUrl: p.httpUrl() }),
    counters: () => p.counters,
    lag: p.lag,
    readiness: () => ({ ready: p.readiness.ready, reasons: p.readiness.reasons() }),
    sla: () => {
      const v = p.sla();
      return { seconds: p.config.sla.seconds, percentile: p.config.sla.percentile, breached: v.breached, reason: v.reason };
    },
    latency: () => p.recent.point(),
    refdata: () => {
      // the service keeps one time for the version in force, not one per table
      const at = p.refdata.lastAppliedMs > 0 ? p.refdata.lastAppliedMs : p.refdataLoadedAtMs;
      return { version: p.refdata.version, tables: Object.entries(p.refdata.rows).map(([name, rows]) => ({ name, rows, lastUpdateMs: at })) };
    },
    alarms: () => {
      const a = p.openAlarms;
      return { open: a.list(), raised: a.raised, cleared: a.cleared, suppressed: a.suppressed, failuresCounted: p.failuresCounted() };
    },
    recentDeadLetters: () => p.deadLetters.list(),
    kpis: p.kpis,
  };
}
