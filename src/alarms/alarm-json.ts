// The alarm JSON of SPEC section 4, built from an alarm decision, the equipment object of section 3 and the emission time.

import type { AlarmEvent, AlarmState } from './rules.js';

/** The equipment object of SPEC section 3 (`vendor` is the vendor's name; an empty cell is null). */
export interface EquipmentObject {
  name: string | null;
  model: string | null;
  vendor: string | null;
  site: string | null;
  region: string | null;
}

/** The equipment object for an equipment_id, or null when the equipment is unknown. */
export type EquipmentProvider = (equipmentId: number) => EquipmentObject | null;

export const NO_EQUIPMENT: EquipmentProvider = () => null;

/** One alarm as written to the alarms topic (key = equipment_id). Field order is the SPEC's. */
export interface AlarmJson {
  alarm_id: string;
  rule: string;
  state: AlarmState;
  equipment_id: number;
  count: number;
  threshold: number;
  window_start: string;
  window_end: string;
  suppressed: boolean;
  equipment: EquipmentObject | null;
  emitted_at: string;
}

/** Builds the alarm object; `emittedAtMs` defaults to the wall clock. */
export function alarmJson(event: AlarmEvent, equipment: EquipmentProvider = NO_EQUIPMENT, emittedAtMs: number = Date.now()): AlarmJson {
  const eq = equipment(event.equipmentId);
  return {
    alarm_id: event.alarmId,
    rule: event.rule,
    state: event.state,
    equipment_id: event.equipmentId,
    count: event.count,
    threshold: event.threshold,
    window_start: new Date(event.windowStartMs).toISOString(),
    window_end: new Date(event.windowEndMs).toISOString(),
    suppressed: event.suppressed,
    equipment:
      eq === null
        ? null
        : { name: eq.name ?? null, model: eq.model ?? null, vendor: eq.vendor ?? null, site: eq.site ?? null, region: eq.region ?? null },
    emitted_at: new Date(emittedAtMs).toISOString(),
  };
}

/** The Kafka key of an alarm: equipment_id in decimal. */
export function alarmKey(alarm: AlarmJson): string {
  return String(alarm.equipment_id);
}

/** The Kafka value of an alarm: its JSON, UTF-8. */
export function alarmValue(alarm: AlarmJson): Buffer {
  return Buffer.from(JSON.stringify(alarm), 'utf8');
}
