// One KPI message of the KPI topic (SPEC section 7) as readers take it: the type, and a parser that checks the fields a reader relies on.
import { LuxError } from '../errors.js';

export type KpiDimension = 'cell' | 'equipment' | 'region' | 'vendor';
export const KPI_DIMENSIONS: readonly KpiDimension[] = ['cell', 'equipment', 'region', 'vendor'];

export interface KpiRate {
  attempts: number;
  successes: number;
  success_rate: number | null;
}

export interface KpiMessage {
  window_start: string;
  window_end: string;
  dimension: KpiDimension;
  key: string;
  records: number;
  failures: number;
  attach: KpiRate;
  session: KpiRate & { setup_latency_ms: { count: number; p50: number; p95: number; max: number } | null };
  handover: KpiRate;
  drops: { call_drops: number; radio_link_failures: number; drop_rate: number | null };
  rsrp_dbm: { count: number; mean: number; min: number } | null;
  bytes_up: number;
  bytes_down: number;
}

/**
 * Parses one KPI message value. Throws LuxError E_KAFKA naming `where` (topic, partition, offset) when the value is not
 * JSON or misses a field the readers use; fields the SPEC adds later pass through.
 */
export function parseKpiMessage(text: string, where: string): KpiMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new LuxError('E_KAFKA', `${where}: a KPI message that is not JSON: ${(e as Error).message}`);
  }
  const m = v as Partial<KpiMessage>;
  const missing = (field: string) => new LuxError('E_KAFKA', `${where}: a KPI message without ${field} (SPEC section 7)`);
  if (typeof m !== 'object' || m === null) throw missing('an object');
  if (typeof m.window_start !== 'string' || Number.isNaN(Date.parse(m.window_start))) throw missing('window_start');
  if (typeof m.window_end !== 'string' || Number.isNaN(Date.parse(m.window_end))) throw missing('window_end');
  if (!KPI_DIMENSIONS.includes(m.dimension as KpiDimension)) throw missing('a known dimension');
  if (typeof m.key !== 'string') throw missing('key');
  if (typeof m.records !== 'number') throw missing('records');
  for (const f of ['attach', 'session', 'handover'] as const) {
    const r = m[f];
    if (typeof r !== 'object' || r === null || typeof r.attempts !== 'number' || typeof r.successes !== 'number') throw missing(`${f}.attempts/successes`);
  }
  if (typeof m.drops !== 'object' || m.drops === null || typeof m.drops.call_drops !== 'number') throw missing('drops.call_drops');
  return m as KpiMessage;
}
