// The pipeline's counters into Prometheus, once a second: what changed since the last look, never a call per record.
import { REASON_NAMES } from '../decode/reasons.js';
import type { AlarmEngineCounters } from '../alarms/alarm-thread.js';
import type { AlarmJson } from '../alarms/alarm-json.js';
import type { PipelineCounters } from './pipeline-counters.js';
import type { LuxMetrics } from './registry.js';

/** Turns cumulative counters into counter increments and gauges (each counter only ever moves forward). */
export class PipelineMetricsFeed {
  private readonly metrics: LuxMetrics;
  private frames = 0;
  private records = 0;
  private transactions = 0;
  private aborts = 0;
  private late = 0;
  private readonly dead = new Map<string, number>();
  private readonly counted = new Map<string, number>();

  constructor(metrics: LuxMetrics) {
    this.metrics = metrics;
  }

  /** Frames in, records out, dead letters by reason, transactions, ring use, partitions and lag. */
  pipeline(c: PipelineCounters, assigned: readonly number[], lag: ReadonlyMap<number, number>): void {
    const m = this.metrics;
    m.framesConsumed.inc(c.framesIn - this.frames);
    m.recordsProduced.inc(c.recordsOut - this.records);
    this.frames = c.framesIn;
    this.records = c.recordsOut;
    for (const [reason, n] of c.deadLettersByReason) {
      const before = this.dead.get(reason) ?? 0;
      if (n > before) m.deadLetter(REASON_NAMES.indexOf(reason), n - before);
      this.dead.set(reason, n);
    }
    if (c.transactions > this.transactions) m.transaction('committed', c.lastTransactionMs / 1000);
    if (c.aborts > this.aborts) m.transaction('aborted', 0);
    this.transactions = c.transactions;
    this.aborts = c.aborts;
    m.ringSlotsUsed.set(c.inflight);
    m.setAssignedPartitions(assigned);
    for (const [p, n] of lag) m.setLag(p, n);
  }

  /** The alarm thread's counters as of the last commit: failures counted and alarms open per rule, late records. */
  alarms(a: AlarmEngineCounters): void {
    for (const r of a.rules) {
      const m = this.metrics.rule(r.name);
      const before = this.counted.get(r.name) ?? 0;
      if (r.counted > before) m.failuresCounted.inc(r.counted - before);
      this.counted.set(r.name, Math.max(before, r.counted));
      m.open.set(r.open);
    }
    if (a.lateDropped > this.late) this.metrics.lateRecordsDropped.inc(a.lateDropped - this.late);
    this.late = Math.max(this.late, a.lateDropped);
  }

  /** Alarms a transaction made visible: raised, cleared and suppressed per rule. */
  committedAlarms(alarms: ReadonlyArray<Pick<AlarmJson, 'rule' | 'state' | 'suppressed'>>): void {
    for (const a of alarms) {
      const m = this.metrics.rule(a.rule);
      if (a.state === 'raised') m.raised.inc();
      else m.cleared.inc();
      if (a.suppressed) m.suppressed.inc();
    }
  }
}
