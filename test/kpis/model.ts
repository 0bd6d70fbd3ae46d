// An independent model of SPEC section 7 over enriched records (the NDJSON of section 3): plain objects, sorting for percentiles, no code shared with src/kpis.
//
// Written from the SPEC's text: tumbling windows of window_ms from the epoch; per dimension one object per key with at
// least one record; region and vendor taken from the record's `equipment` object (a record whose equipment is null,
// or whose region / vendor is null or empty, is not counted in that dimension); success = result "success"; rates
// successes / attempts (null on 0); drop_rate = call drops / session successes; percentiles at rank ⌈q·n⌉.

export interface EnrichedRecord {
  event_time: string;
  equipment_id: number;
  cell_id: number;
  type: string;
  result: string;
  bytes_up: number;
  bytes_down: number;
  rsrp_dbm?: number;
  setup_latency_ms?: number;
  equipment: { region: string | null; vendor: string | null } | null;
}

export interface ModelKpi {
  window_start: string;
  window_end: string;
  dimension: string;
  key: string;
  records: number;
  failures: number;
  attach: { attempts: number; successes: number; success_rate: number | null };
  session: {
    attempts: number;
    successes: number;
    success_rate: number | null;
    setup_latency_ms: { count: number; p50: number; p95: number; max: number } | null;
  };
  handover: { attempts: number; successes: number; success_rate: number | null };
  drops: { call_drops: number; radio_link_failures: number; drop_rate: number | null };
  rsrp_dbm: { count: number; mean: number; min: number } | null;
  bytes_up: number;
  bytes_down: number;
}

export const ALL_DIMENSIONS = ['cell', 'equipment', 'region', 'vendor'];

/** The dimension's key of a record, or undefined when it has no value for it. */
function keyOf(r: EnrichedRecord, dimension: string): string | undefined {
  switch (dimension) {
    case 'cell':
      return String(r.cell_id);
    case 'equipment':
      return String(r.equipment_id);
    case 'region': {
      const v = r.equipment?.region;
      return v === null || v === undefined || v === '' ? undefined : v;
    }
    case 'vendor': {
      const v = r.equipment?.vendor;
      return v === null || v === undefined || v === '' ? undefined : v;
    }
  }
  throw new Error(`unknown dimension ${dimension}`);
}

interface Group {
  windowStart: number;
  dimension: string;
  key: string;
  records: EnrichedRecord[];
}

/** The map key of a KPI object: `<window_start> <dimension>:<key>`. */
export function kpiId(k: { window_start: string; dimension: string; key: string }): string {
  return `${k.window_start} ${k.dimension}:${k.key}`;
}

export function modelKpis(records: readonly EnrichedRecord[], windowMs: number, dimensions: readonly string[] = ALL_DIMENSIONS): Map<string, ModelKpi> {
  const groups = new Map<string, Group>();
  for (const r of records) {
    const t = Date.parse(r.event_time);
    const windowStart = Math.floor(t / windowMs) * windowMs;
    for (const dimension of dimensions) {
      const key = keyOf(r, dimension);
      if (key === undefined) continue;
      const id = `${windowStart} ${dimension}:${key}`;
      let g = groups.get(id);
      if (g === undefined) groups.set(id, (g = { windowStart, dimension, key, records: [] }));
      g.records.push(r);
    }
  }
  const out = new Map<string, ModelKpi>();
  for (const g of groups.values()) {
    const k = kpiOf(g, windowMs);
    out.set(kpiId(k), k);
  }
  return out;
}

function rate(n: number, d: number): number | null {
  return d === 0 ? null : n / d;
}

function rank(sorted: number[], pct: number): number {
  return sorted[Math.ceil((pct * sorted.length) / 100) - 1]!;
}

function kpiOf(g: Group, windowMs: number): ModelKpi {
  const rs = g.records;
  const ok = (r: EnrichedRecord): boolean => r.result === 'success';
  const ofType = (type: string): EnrichedRecord[] => rs.filter((r) => r.type === type);
  const attempts = (type: string) => {
    const a = ofType(type);
    const s = a.filter(ok).length;
    return { attempts: a.length, successes: s, success_rate: rate(s, a.length) };
  };
  const starts = ofType('session_start');
  const latencies = starts.filter((r) => r.setup_latency_ms !== undefined).map((r) => r.setup_latency_ms!).sort((a, b) => a - b);
  const session = {
    ...attempts('session_start'),
    setup_latency_ms:
      latencies.length === 0 ? null : { count: latencies.length, p50: rank(latencies, 50), p95: rank(latencies, 95), max: latencies[latencies.length - 1]! },
  };
  const drops = ofType('call_drop').length;
  const rsrp = rs.filter((r) => r.rsrp_dbm !== undefined).map((r) => r.rsrp_dbm!);
  return {
    window_start: new Date(g.windowStart).toISOString(),
    window_end: new Date(g.windowStart + windowMs).toISOString(),
    dimension: g.dimension,
    key: g.key,
    records: rs.length,
    failures: rs.filter((r) => !ok(r)).length,
    attach: attempts('attach'),
    session,
    handover: attempts('handover'),
    drops: { call_drops: drops, radio_link_failures: ofType('radio_link_failure').length, drop_rate: rate(drops, session.successes) },
    rsrp_dbm: rsrp.length === 0 ? null : { count: rsrp.length, mean: rsrp.reduce((a, b) => a + b, 0) / rsrp.length, min: Math.min(...rsrp) },
    bytes_up: rs.reduce((a, r) => a + r.bytes_up, 0),
    bytes_down: rs.reduce((a, r) => a + r.bytes_down, 0),
  };
}

/**
 * Differences between engine KPI objects and the model's (empty when they agree): the same (window, dimension, key)
 * set, every field equal, the rsrp mean within 0.01 and the field order the SPEC's.
 */
export function kpiDifferences(engine: ReadonlyMap<string, unknown>, model: ReadonlyMap<string, ModelKpi>, limit = 10): string[] {
  const out: string[] = [];
  for (const id of model.keys()) if (!engine.has(id)) out.push(`missing ${id}`);
  for (const id of engine.keys()) if (!model.has(id)) out.push(`unexpected ${id}`);
  for (const [id, m] of model) {
    const e = engine.get(id) as ModelKpi | undefined;
    if (e === undefined) continue;
    const a = { ...e, rsrp_dbm: e.rsrp_dbm === null ? null : { ...e.rsrp_dbm, mean: 0 } };
    const b = { ...m, rsrp_dbm: m.rsrp_dbm === null ? null : { ...m.rsrp_dbm, mean: 0 } };
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${id}: engine ${JSON.stringify(e)}\n   model ${JSON.stringify(m)}`);
    else if (e.rsrp_dbm !== null && Math.abs(e.rsrp_dbm.mean - m.rsrp_dbm!.mean) > 0.01) out.push(`${id}: rsrp mean ${e.rsrp_dbm.mean} vs ${m.rsrp_dbm!.mean}`);
    if (out.length >= limit) break;
  }
  return out.slice(0, limit);
}
