// The KPI messages of the newest window the daemon has emitted, for the status page's KPI tables and worst cells.
import type { KpiMessage } from '../report/kpi-message.js';

/**
 * Fed with each committed transaction's KPI messages (SPEC section 7). A window's messages may span transactions, so
 * they gather under their window_start; an older window's messages are ignored once a newer one has begun.
 */
export class LastKpiWindow {
  private windowStartMs = -Infinity;
  private current: KpiMessage[] = [];

  apply(messages: readonly KpiMessage[]): void {
    for (const m of messages) {
      const start = Date.parse(m.window_start);
      if (start > this.windowStartMs) {
        this.windowStartMs = start;
        this.current = [];
      }
      if (start === this.windowStartMs) this.current.push(m);
    }
  }

  messages(): readonly KpiMessage[] {
    return this.current;
  }
}
