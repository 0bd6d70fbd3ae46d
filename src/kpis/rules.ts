// KPI alarm rules (`kpis.rules[]`, SPEC section 7): which value of a closed window a rule reads, and when it raises or clears.
//
// Readings chosen here (docs/kpis.md):
// - a rule sees the windows its key has a KPI object for (at least one record), in ascending window order; a window
//   without records neither raises nor clears, so an open alarm stays open through silence;
// - the denominator guarding thin windows is the KPI's own: attempts for the three success rates, session successes
//   for drop_rate, the number of latency values for setup_latency_p95_ms;
// - a null value (no denominator) never raises nor clears, whatever min_attempts says;
// - raise: no alarm open and value < below (or > above); clear: open and value >= clear (or <= clear for above).
import type { KpiJson } from './kpi-json.js';
import type { Dimension, KpiName } from './names.js';

/** One `kpis.rules[]` entry, validated (config/schema.ts): exactly one of below and above; clear filled in. */
export interface KpiRuleSpec {
  readonly name: string;
  readonly kpi: KpiName;
  readonly dimension: Dimension;
  readonly below?: number;
  readonly above?: number;
  readonly clear: number;
  readonly min_attempts: number;
}

/** The value a rule watches in a KPI object, and the denominator it was computed over. */
export interface KpiReading {
  value: number | null;
  attempts: number;
}

export function readKpi(kpi: KpiName, k: KpiJson): KpiReading {
  switch (kpi) {
    case 'attach_success_rate':
      return { value: k.attach.success_rate, attempts: k.attach.attempts };
    case 'session_success_rate':
      return { value: k.session.success_rate, attempts: k.session.attempts };
    case 'handover_success_rate':
      return { value: k.handover.success_rate, attempts: k.handover.attempts };
    case 'drop_rate':
      return { value: k.drops.drop_rate, attempts: k.session.successes };
    case 'setup_latency_p95_ms': {
      const l = k.session.setup_latency_ms;
      return { value: l === null ? null : l.p95, attempts: l === null ? 0 : l.count };
    }
  }
}

export const RAISE = 1;
export const CLEAR = 2;

/** RAISE, CLEAR or 0 (nothing) for one closed window of the rule's key. */
export function decide(rule: KpiRuleSpec, reading: KpiReading, open: boolean): number {
  const v = reading.value;
  if (v === null || reading.attempts < rule.min_attempts) return 0;
  if (rule.below !== undefined) {
    if (!open) return v < rule.below ? RAISE : 0;
    return v >= rule.clear ? CLEAR : 0;
  }
  if (!open) return v > rule.above! ? RAISE : 0;
  return v <= rule.clear ? CLEAR : 0;
}

/** The threshold a rule raises at. */
export function thresholdOf(rule: KpiRuleSpec): number {
  return rule.below ?? rule.above!;
}

/** `<rule>:<dimension>:<key>:<window_end of the raise, epoch ms>`, the same on the matching `cleared`. */
export function kpiAlarmId(rule: string, dimension: Dimension, key: string, raiseWindowEndMs: number): string {
  return `${rule}:${dimension}:${key}:${raiseWindowEndMs}`;
}
