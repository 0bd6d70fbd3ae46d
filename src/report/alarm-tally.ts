// Alarm messages of a period counted: raised, cleared and suppressed per rule, the most alarmed subjects, those still open at the end, per bucket.
import { alarmSubject, isKpiAlarm, type AlarmMessage } from './alarm-message.js';
import type { Buckets } from './buckets.js';
import type { AlarmSummary } from './report-summary.js';

export class AlarmTally {
  private raised = 0;
  private cleared = 0;
  private suppressed = 0;
  private readonly rules = new Map<string, AlarmSummary['by_rule'][number]>();
  private readonly subjects = new Map<string, number>();
  private readonly open = new Map<string, AlarmSummary['open_at_end'][number]>();
  private readonly perBucket: Array<{ raised: number; cleared: number }>;
  /** equipment_id → name, from the equipment objects alarms carry */
  readonly equipmentNames = new Map<string, string>();

  constructor(private readonly buckets: Buckets) {
    this.perBucket = Array.from({ length: buckets.count }, () => ({ raised: 0, cleared: 0 }));
  }

  /** Alarms in the order they were written (per partition, which is per key: a raise comes before its clear). */
  add(a: AlarmMessage): void {
    const kind = isKpiAlarm(a) ? 'kpi' : 'failure';
    let r = this.rules.get(a.rule);
    if (r === undefined) this.rules.set(a.rule, (r = { rule: a.rule, kind, raised: 0, cleared: 0, suppressed: 0 }));
    const b = this.buckets.index(Date.parse(a.emitted_at));
    if (a.suppressed) {
      this.suppressed++;
      r.suppressed++;
    }
    if (!isKpiAlarm(a) && a.equipment?.name) this.equipmentNames.set(String(a.equipment_id), a.equipment.name);
    const subject = alarmSubject(a);
    if (a.state === 'raised') {
      this.raised++;
      r.raised++;
      this.subjects.set(subject, (this.subjects.get(subject) ?? 0) + 1);
      this.open.set(a.alarm_id, { alarm_id: a.alarm_id, rule: a.rule, subject, raised_at: a.emitted_at, suppressed: a.suppressed });
      if (b >= 0) this.perBucket[b]!.raised++;
    } else {
      this.cleared++;
      r.cleared++;
      this.open.delete(a.alarm_id);
      if (b >= 0) this.perBucket[b]!.cleared++;
    }
  }

  summary(top: number): AlarmSummary {
    return {
      raised: this.raised,
      cleared: this.cleared,
      suppressed: this.suppressed,
      by_rule: [...this.rules.values()].sort((a, b) => b.raised - a.raised || a.rule.localeCompare(b.rule)),
      top_subjects: [...this.subjects]
        .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
        .slice(0, top)
        .map(([subject, raised]) => ({ subject, raised })),
      open_at_end: [...this.open.values()].sort((a, b) => a.raised_at.localeCompare(b.raised_at)),
      buckets: this.perBucket.map((c, i) => ({ start: this.buckets.startIso(i), ...c })),
    };
  }
}
