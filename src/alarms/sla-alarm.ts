// The latency SLA as an alarm (sla.alarm: true), in the SPEC section 4 shape.

import type { AlarmJson } from './alarm-json.js';

export interface SlaAlarmSettings {
  /** the bound, seconds */
  seconds: number;
  /** the interval the percentile is taken over, ms */
  intervalMs: number;
}

/**
 * Rule `sla`, equipment_id 0 (the pipeline, not an equipment), `count` the latency percentile in ms, `threshold` the
 * bound in ms, the window the SLA interval; the cleared alarm carries the raise's id.
 */
export function slaAlarm(state: 'raised' | 'cleared', raisedAt: number, now: number, percentileSeconds: number, sla: SlaAlarmSettings): AlarmJson {
  return {
    alarm_id: `sla:0:${raisedAt}`,
    rule: 'sla',
    state,
    equipment_id: 0,
    count: Math.round(percentileSeconds * 1000),
    threshold: Math.round(sla.seconds * 1000),
    window_start: new Date(now - sla.intervalMs).toISOString(),
    window_end: new Date(now).toISOString(),
    suppressed: false,
    equipment: null,
    emitted_at: new Date(now).toISOString(),
  };
}
