// KPI alarm rules (`kpis.rules[]`, SPEC section 7): which value of a closed window a rule reads, and when it raises or clears.
//
// Readings chosen here (docs/kpis.md):
// - a rule sees the windows its key has a KPI object for (at least one record), in ascending window order; a window
//   without records neither raises nor clears, so an open alarm stays open through silence;
// - the denominator guarding thin windows is the KPI's own: attempts for the three success rates, session successes
//   for drop_rate, the number of latency values for setup_latency_p95_ms;
// - a null value (no denominator) never raises nor clears, whatever min_attempts says;
// - raise: no alarm open and value < below (or > above); clear: open and value >= clear (or <= clear for above).
import {
  M_ATTACH_ATTEMPTS,
  M_ATTACH_SUCCESSES,
  M_CALL_DROPS,
  M_HANDOVER_ATTEMPTS,
  M_HANDOVER_SUCCESSES,
  M_SESSION_ATTEMPTS,
  M_SESSION_SUCCESSES,
} from './measures.js';
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

/**
 * The reading of `kpi` from an aggregate (`f[base]`, measures.ts) and its setup latencies' count and p95: the same
 * values its KPI object shows.
 */
export function readKpi(kpi: KpiName, f: Float64Array, base: number, latencyCount: number, latencyP95: number): KpiReading {
  const ratio = (num: number, den: number): KpiReading => ({ value: den === 0 ? null : num / den, attempts: den });
  switch (kpi) {
    case 'attach_success_rate':
      return ratio(f[base + M_ATTACH_SUCCESSES], f[base + M_ATTACH_ATTEMPTS]);
    case 'session_success_rate':
      return ratio(f[base + M_SESSION_SUCCESSES], f[base + M_SESSION_ATTEMPTS]);
    case 'handover_success_rate':
      return ratio(f[base + M_HANDOVER_SUCCESSES], f[base + M_HANDOVER_ATTEMPTS]);
    case 'drop_rate':
      return ratio(f[base + M_CALL_DROPS], f[base + M_SESSION_SUCCESSES]);
    case 'setup_latency_p95_ms':
      return { value: latencyCount === 0 ? null : latencyP95, attempts: latencyCount };
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
