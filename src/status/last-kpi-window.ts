// The KPI messages of the newest window the daemon has emitted, for the status page's KPI tables and worst cells.
import type { CellRank } from '../kpis/merge-core.js';
import { parseKpiMessage, type KpiMessage } from '../report/kpi-message.js';

/**
 * Fed with each committed transaction's KPI messages (SPEC section 7) and the cells its merge ranked worst. A window
 * close can write 100,000 cells at once: only the region and vendor messages and those of the ranked cells are
 * parsed (the merge already picked the candidates), never one per cell. A window's messages may span transactions, so
 * they gather under their window_start; an older window's messages are ignored once a newer one has begun.
 */
export class LastKpiWindow {
  private windowStartMs = -Infinity;
  private current: KpiMessage[] = [];

  apply(emitted: ReadonlyArray<{ key: string; value: Buffer }>, worstCells: readonly CellRank[] = []): void {
    if (emitted.length === 0) return;
    const ranked = new Set(worstCells.map((c) => `cell:${c.key}`));
    for (const e of emitted) {
      if (!(e.key.startsWith('region:') || e.key.startsWith('vendor:') || ranked.has(e.key))) continue;
      const m = parseKpiMessage(e.value.toString('utf8'), `KPI ${e.key}`);
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
