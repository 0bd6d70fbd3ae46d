// What the daemon tells the status page: plain getters over what it already keeps, read about once a second by the status builder, never per record.
import type { AlarmMessage } from '../report/alarm-message.js';
import type { KpiMessage } from '../report/kpi-message.js';
import type { DeadLetterExample, LatencyPoint } from './status-document.js';
import type { TopologyGraph } from './topology-graph.js';

/**
 * Implemented by the daemon (src/daemon.ts). Every getter is cheap (field reads, a small map), returns current values
 * and may return the daemon's own objects: the builder copies what it keeps. Cumulative counters only grow, except
 * across a restart; the builder derives rates from them.
 */
export interface StatusSource {
  /** Fixed for the process: the config's graph (`topologyGraph(config)`), group and instance, start time. */
  identity(): { topology: TopologyGraph; groupId: string; instance: string; startedAtMs: number; httpUrl: string | null };
  /** The pipeline's counters since start (src/pipeline.ts PipelineCounters). */
  counters(): {
    framesIn: number;
    recordsOut: number;
    deadLetters: number;
    deadLettersByReason: ReadonlyMap<string, number>;
    transactions: number;
    aborts: number;
    /** alarms written to the alarm topic */
    alarms: number;
    /** duration of the last committed transaction, ms (0: none yet) */
    lastTransactionMs: number;
  };
  /** Consumer lag per assigned raw-topic partition (Pipeline.lag()). */
  lag(): ReadonlyMap<number, number>;
  /** The readiness probe (service/http.ts Readiness). */
  readiness(): { ready: boolean; reasons: readonly string[] };
  /** The SLA as configured and its last verdict (metrics/latency.ts SlaChecker). */
  sla(): { seconds: number; percentile: number; breached: boolean; reason: string };
  /** event_to_commit over the last few seconds (status/recent-latency.ts RecentLatency.point()); null: nothing committed then. */
  latency(): LatencyPoint | null;
  /** The reference data in force (enrich/refdata-service.ts counters): version, rows and last update per table. */
  refdata(): { version: number; tables: ReadonlyArray<{ name: string; rows: number; lastUpdateMs: number }> };
  /** Alarms (status/open-alarms.ts OpenAlarms): open ones as last written, and counts since start. */
  alarms(): { open: readonly AlarmMessage[]; raised: number; cleared: number; suppressed: number; failuresCounted: number };
  /** The last dead letters, most recent first (status/dead-letter-samples.ts DeadLetterSamples.list()). */
  recentDeadLetters(): readonly DeadLetterExample[];
  /** The KPI messages of the last window emitted (status/last-kpi-window.ts LastKpiWindow.messages()); empty before the first. */
  kpis(): readonly KpiMessage[];
}
