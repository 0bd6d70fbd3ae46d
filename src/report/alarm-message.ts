// One message of the alarm topic as readers take it: a failure alarm (SPEC section 4) or a KPI alarm (SPEC section 7), told apart by `kpi`.
import { LuxError } from '../errors.js';
import type { AlarmJson } from '../alarms/alarm-json.js';

/** A KPI alarm (SPEC section 7). */
export interface KpiAlarmMessage {
  alarm_id: string;
  rule: string;
  state: 'raised' | 'cleared';
  dimension: string;
  key: string;
  kpi: string;
  value: number | null;
  threshold: number;
  attempts: number;
  window_start: string;
  window_end: string;
  suppressed: boolean;
  equipment: AlarmJson['equipment'];
  emitted_at: string;
}

export type AlarmMessage = AlarmJson | KpiAlarmMessage;

export function isKpiAlarm(a: AlarmMessage): a is KpiAlarmMessage {
  return 'kpi' in a && typeof (a as KpiAlarmMessage).kpi === 'string';
}

/** What an alarm is about, for people: `equipment 17 (Paris-3)` or `cell:4711`. */
export function alarmSubject(a: AlarmMessage): string {
  if (isKpiAlarm(a)) return `${a.dimension}:${a.key}`;
  const name = a.equipment?.name;
  return a.equipment_id === 0 && a.rule === 'sla' ? 'the pipeline' : `equipment ${a.equipment_id}${name ? ` (${name})` : ''}`;
}

/** Parses one alarm message value; throws LuxError E_KAFKA naming `where` when it is not a SPEC alarm. */
export function parseAlarmMessage(text: string, where: string): AlarmMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new LuxError('E_KAFKA', `${where}: an alarm message that is not JSON: ${(e as Error).message}`);
  }
  const a = v as Partial<AlarmJson & KpiAlarmMessage>;
  if (typeof a !== 'object' || a === null || typeof a.alarm_id !== 'string' || typeof a.rule !== 'string') {
    throw new LuxError('E_KAFKA', `${where}: an alarm message without alarm_id and rule (SPEC sections 4 and 7)`);
  }
  if (a.state !== 'raised' && a.state !== 'cleared') throw new LuxError('E_KAFKA', `${where}: alarm ${a.alarm_id}: state is neither raised nor cleared`);
  return { ...a, suppressed: a.suppressed === true } as AlarmMessage;
}
