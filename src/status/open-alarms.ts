// The alarms open now (raised and not yet cleared), failure and KPI alarms alike, kept from the alarms the daemon commits.
import type { AlarmMessage } from '../report/alarm-message.js';

/**
 * Fed with each committed transaction's alarms (after the commit, like the webhook): a `raised` alarm opens under its
 * alarm_id, the `cleared` one with the same id closes it. Suppressed alarms are kept too, marked as written.
 * What this process did not see raised (alarms open before a restart) it does not list; the counts are since start.
 */
export class OpenAlarms {
  private readonly open = new Map<string, AlarmMessage>();
  raised = 0;
  cleared = 0;
  suppressed = 0;

  apply(alarms: readonly AlarmMessage[]): void {
    for (const a of alarms) {
      if (a.suppressed) this.suppressed++;
      if (a.state === 'raised') {
        this.raised++;
        this.open.set(a.alarm_id, a);
      } else {
        this.cleared++;
        this.open.delete(a.alarm_id);
      }
    }
  }

  /** Newest first. */
  list(): AlarmMessage[] {
    return [...this.open.values()].reverse();
  }

  get size(): number {
    return this.open.size;
  }
}
