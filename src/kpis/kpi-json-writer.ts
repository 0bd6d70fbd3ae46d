// The hot path of a window close: the KPI JSON of a window-store entry written straight from its counters into a byte buffer, byte for byte what JSON.stringify(kpiObject(…)) gives.
//
// A window close writes one object per key of the window — 100,000 cells and their equipment at once — so the
// plain-object path (kpiObject, then JSON.stringify of a nested object of doubles) costs too much there. One
// template string per object, encoded into the transaction's buffer, is about three times cheaper (measured against
// a digit-by-digit byte writer too, which lost to V8's own number formatting); region and vendor keys are escaped
// once per string. kpi-json.ts's kpiObject stays the baseline the tests compare against.
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
import { DIMENSIONS, isStringDimension } from './names.js';
import type { ByteWriter } from './leb128.js';
import { nearestRank, type WindowTimes } from './kpi-json.js';
import type { KpiWindowStore } from './window-store.js';

/** What a typical object takes (to size the buffer of a window close at once rather than by doublings). */
export const TYPICAL_KPI_JSON_BYTES = 560;

const utf8 = new TextEncoder();

/** A ratio as the KPI JSON writes it: null when the denominator is 0. */
function ratio(num: number, den: number): string | number {
  return den === 0 ? 'null' : num / den;
}

export class KpiJsonWriter {
  private readonly store: KpiWindowStore;
  /** the JSON string literal of each of the store's key texts, by id */
  private readonly texts: string[] = [];
  /** the setup latencies of the last entry written: count, p95 (rules read them) */
  latencyCount = 0;
  latencyP95 = 0;

  constructor(store: KpiWindowStore) {
    this.store = store;
  }

  /** Appends the KPI object of entry `e` (in the window of `times`) to `w`; sorts the entry's latencies in place. */
  write(w: ByteWriter, e: number, times: WindowTimes): void {
    const st = this.store;
    const dim = st.dim[e];
    const key = isStringDimension(dim) ? this.literal(st.key[e]) : `"${st.key[e]}"`;
    const f = st.fields;
    const b = e * MEASURES;
    const n = st.latLen[e];
    let latency = 'null';
    this.latencyCount = n;
    this.latencyP95 = 0;
    if (n > 0) {
      const lat = st.sortedLatencies(e);
      this.latencyP95 = nearestRank(lat, 95);
      latency = `{"count":${n},"p50":${nearestRank(lat, 50)},"p95":${this.latencyP95},"max":${lat[n - 1]}}`;
    }
    const rsrpCount = f[b + M_RSRP_COUNT];
    // the mean rounded as kpi-json.ts rounds it
    const rsrp = rsrpCount === 0 ? 'null' : `{"count":${rsrpCount},"mean":${Math.round((f[b + M_RSRP_SUM] / rsrpCount) * 100) / 100},"min":${f[b + M_RSRP_MIN]}}`;
    const aa = f[b + M_ATTACH_ATTEMPTS];
    const as = f[b + M_ATTACH_SUCCESSES];
    const sa = f[b + M_SESSION_ATTEMPTS];
    const ss = f[b + M_SESSION_SUCCESSES];
    const ha = f[b + M_HANDOVER_ATTEMPTS];
    const hs = f[b + M_HANDOVER_SUCCESSES];
    const drops = f[b + M_CALL_DROPS];
    // Template literals format numbers as JSON does (String(n) for finite numbers); the order is the SPEC's.
    const text =
      `{"window_start":"${times.start}","window_end":"${times.end}","dimension":"${DIMENSIONS[dim]}","key":${key},` +
      `"records":${f[b + M_RECORDS]},"failures":${f[b + M_FAILURES]},` +
      `"attach":{"attempts":${aa},"successes":${as},"success_rate":${ratio(as, aa)}},` +
      `"session":{"attempts":${sa},"successes":${ss},"success_rate":${ratio(ss, sa)},"setup_latency_ms":${latency}},` +
      `"handover":{"attempts":${ha},"successes":${hs},"success_rate":${ratio(hs, ha)}},` +
      `"drops":{"call_drops":${drops},"radio_link_failures":${f[b + M_RADIO_LINK_FAILURES]},"drop_rate":${ratio(drops, ss)}},` +
      `"rsrp_dbm":${rsrp},"bytes_up":${f[b + M_BYTES_UP]},"bytes_down":${f[b + M_BYTES_DOWN]}}`;
    w.ensure(text.length * 3);
    w.pos += utf8.encodeInto(text, w.buf.subarray(w.pos)).written;
  }

  /** The JSON string literal of a region or vendor key (escaped once per string). */
  private literal(id: number): string {
    let l = this.texts[id];
    if (l === undefined) {
      l = JSON.stringify(this.store.texts[id]);
      this.texts[id] = l;
    }
    return l;
  }
}
