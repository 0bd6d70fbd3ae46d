// The JSON of SPEC section 7: the KPI object of a closed (window, dimension, key), and the KPI alarm built from a rule's decision.
import type { EquipmentObject } from '../alarms/alarm-json.js';
import {
  M_ATTACH_ATTEMPTS,
  M_ATTACH_SUCCESSES,
  M_BYTES_DOWN,
  M_BYTES_UP,
  M_CALL_DROPS,
  M_FAILURES,
  M_HANDOVER_ATTEMPTS,
  M_HANDOVER_SUCCESSES,
  M_RADIO_LINK_FAILURES,
  M_RECORDS,
  M_RSRP_COUNT,
  M_RSRP_MIN,
  M_RSRP_SUM,
  M_SESSION_ATTEMPTS,
  M_SESSION_SUCCESSES,
  MEASURES,
} from './measures.js';
import { DIMENSIONS, type Dimension, type KpiName } from './names.js';
import type { KpiWindowStore } from './window-store.js';

export interface Attempts {
  attempts: number;
  successes: number;
  success_rate: number | null;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

/** One KPI object (Kafka key `<dimension>:<key>`); field order is the SPEC's. */
export interface KpiJson {
  window_start: string;
  window_end: string;
  dimension: Dimension;
  key: string;
  records: number;
  failures: number;
  attach: Attempts;
  session: Attempts & { setup_latency_ms: LatencySummary | null };
  handover: Attempts;
  drops: { call_drops: number; radio_link_failures: number; drop_rate: number | null };
  rsrp_dbm: { count: number; mean: number; min: number } | null;
  bytes_up: number;
  bytes_down: number;
}

const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/** The value at nearest rank ⌈pct·n/100⌉ of ascending `sorted` (integer arithmetic: no rounding at exact ranks). */
export function nearestRank(sorted: Uint16Array, pct: number): number {
  const n = sorted.length;
  return sorted[Math.max(1, Math.floor((pct * n + 99) / 100)) - 1];
}

/** A window's start and end as the KPI JSON writes them (computed once per window, not per key). */
export interface WindowTimes {
  start: string;
  end: string;
}

export function windowTimes(window: number, windowMs: number): WindowTimes {
  return { start: new Date(window * windowMs).toISOString(), end: new Date((window + 1) * windowMs).toISOString() };
}

/** The KPI object of entry `e` of a store, in the window of `times`; sorts the entry's latencies in place. */
export function kpiObject(store: KpiWindowStore, e: number, times: WindowTimes): KpiJson {
  const f = store.fields;
  const b = e * MEASURES;
  const lat = store.latLen[e] > 0 ? store.sortedLatencies(e) : null;
  const rsrpCount = f[b + M_RSRP_COUNT];
  return {
    window_start: times.start,
    window_end: times.end,
    dimension: DIMENSIONS[store.dim[e]],
    key: store.keyText(e),
    records: f[b + M_RECORDS],
    failures: f[b + M_FAILURES],
    attach: {
      attempts: f[b + M_ATTACH_ATTEMPTS],
      successes: f[b + M_ATTACH_SUCCESSES],
      success_rate: ratio(f[b + M_ATTACH_SUCCESSES], f[b + M_ATTACH_ATTEMPTS]),
    },
    session: {
      attempts: f[b + M_SESSION_ATTEMPTS],
      successes: f[b + M_SESSION_SUCCESSES],
      success_rate: ratio(f[b + M_SESSION_SUCCESSES], f[b + M_SESSION_ATTEMPTS]),
      setup_latency_ms: lat === null ? null : { count: lat.length, p50: nearestRank(lat, 50), p95: nearestRank(lat, 95), max: lat[lat.length - 1] },
    },
    handover: {
      attempts: f[b + M_HANDOVER_ATTEMPTS],
      successes: f[b + M_HANDOVER_SUCCESSES],
      success_rate: ratio(f[b + M_HANDOVER_SUCCESSES], f[b + M_HANDOVER_ATTEMPTS]),
    },
    drops: {
      call_drops: f[b + M_CALL_DROPS],
      radio_link_failures: f[b + M_RADIO_LINK_FAILURES],
      drop_rate: ratio(f[b + M_CALL_DROPS], f[b + M_SESSION_SUCCESSES]),
    },
    // the mean to 2 decimals: SPEC asks 0.01, and 2 decimals read better than 16 digits
    rsrp_dbm: rsrpCount === 0 ? null : { count: rsrpCount, mean: Math.round((f[b + M_RSRP_SUM] / rsrpCount) * 100) / 100, min: f[b + M_RSRP_MIN] },
    bytes_up: f[b + M_BYTES_UP],
    bytes_down: f[b + M_BYTES_DOWN],
  };
}

/** The Kafka key of a KPI object. */
export function kpiKey(k: Pick<KpiJson, 'dimension' | 'key'>): string {
  return `${k.dimension}:${k.key}`;
}

/** The Kafka value of a KPI object: its JSON, UTF-8. */
export function kpiValue(k: KpiJson): Buffer {
  return Buffer.from(JSON.stringify(k), 'utf8');
}

// ── KPI alarms

/** A KPI alarm rule's decision on one closed window (the main thread adds `suppressed` and `equipment`). */
export interface KpiAlarmDecision {
  alarmId: string;
  rule: string;
  state: 'raised' | 'cleared';
  dimension: Dimension;
  key: string;
  kpi: KpiName;
  value: number;
  threshold: number;
  /** the KPI's denominator in the window */
  attempts: number;
  windowStartMs: number;
  windowEndMs: number;
}

/** A KPI alarm as written to the alarm topic (key `<dimension>:<key>`); field order is the SPEC's. */
export interface KpiAlarmJson {
  alarm_id: string;
  rule: string;
  state: 'raised' | 'cleared';
  dimension: Dimension;
  key: string;
  kpi: KpiName;
  value: number;
  threshold: number;
  attempts: number;
  window_start: string;
  window_end: string;
  suppressed: boolean;
  equipment: EquipmentObject | null;
  emitted_at: string;
}

/**
 * The alarm JSON of a decision. `equipment` is the SPEC section 3 object of the equipment for the equipment
 * dimension (null otherwise, and null for an unknown equipment); `suppressed` is true for the equipment dimension
 * under maintenance at the window's end.
 */
export function kpiAlarmJson(decision: KpiAlarmDecision, equipment: EquipmentObject | null, suppressed: boolean, emittedAtMs: number): KpiAlarmJson {
  const eq = decision.dimension === 'equipment' ? equipment : null;
  return {
    alarm_id: decision.alarmId,
    rule: decision.rule,
    state: decision.state,
    dimension: decision.dimension,
    key: decision.key,
    kpi: decision.kpi,
    value: decision.value,
    threshold: decision.threshold,
    attempts: decision.attempts,
    window_start: new Date(decision.windowStartMs).toISOString(),
    window_end: new Date(decision.windowEndMs).toISOString(),
    suppressed: decision.dimension === 'equipment' && suppressed,
    equipment:
      eq === null
        ? null
        : { name: eq.name ?? null, model: eq.model ?? null, vendor: eq.vendor ?? null, site: eq.site ?? null, region: eq.region ?? null },
    emitted_at: new Date(emittedAtMs).toISOString(),
  };
}

/** The Kafka key of a KPI alarm: `<dimension>:<key>`. */
export function kpiAlarmKey(a: Pick<KpiAlarmJson, 'dimension' | 'key'>): string {
  return `${a.dimension}:${a.key}`;
}

export function kpiAlarmValue(a: KpiAlarmJson): Buffer {
  return Buffer.from(JSON.stringify(a), 'utf8');
}
