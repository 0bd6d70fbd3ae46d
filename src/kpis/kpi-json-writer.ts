// The hot path of a window close: the KPI JSON of a window-store entry written as bytes straight from its counters, byte for byte what JSON.stringify(kpiObject(…)) gives.
//
// A window close writes one object per key of the window — 100,000 cells and their equipment at once — so the
// plain-object path (kpiObject, then JSON.stringify) costs too much there: constant keys are copied from pre-encoded
// arrays, integers are written digit by digit, region and vendor keys are escaped once per string. Only the few
// fractional values (rates, the rsrp mean) go through Number's own formatting. kpi-json.ts's kpiObject stays the
// baseline the tests compare against.
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

const latin = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

const K_WINDOW_START = latin('{"window_start":"');
const K_WINDOW_END = latin('","window_end":"');
const K_DIMENSION: Uint8Array[] = DIMENSIONS.map((d) => latin(`","dimension":"${d}","key":`));
const K_RECORDS = latin(',"records":');
const K_FAILURES = latin(',"failures":');
const K_ATTACH = latin(',"attach":{"attempts":');
const K_SUCCESSES = latin(',"successes":');
const K_SUCCESS_RATE = latin(',"success_rate":');
const K_SESSION = latin('},"session":{"attempts":');
const K_SETUP_LATENCY = latin(',"setup_latency_ms":');
const K_COUNT = latin('{"count":');
const K_P50 = latin(',"p50":');
const K_P95 = latin(',"p95":');
const K_MAX = latin(',"max":');
const K_HANDOVER = latin('},"handover":{"attempts":');
const K_DROPS = latin('},"drops":{"call_drops":');
const K_RLF = latin(',"radio_link_failures":');
const K_DROP_RATE = latin(',"drop_rate":');
const K_RSRP = latin('},"rsrp_dbm":');
const K_MEAN = latin(',"mean":');
const K_MIN = latin(',"min":');
const K_BYTES_UP = latin(',"bytes_up":');
const K_BYTES_DOWN = latin(',"bytes_down":');
const NULL = latin('null');

/** Bytes an object can take besides its key: the constant parts, 24 dates' worth of times, 28 numbers of up to 24 characters. */
const MAX_FIXED_BYTES = 1024;

function copy(out: Uint8Array, p: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) out[p + i] = src[i];
  return p + src.length;
}

function ascii(out: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[p + i] = s.charCodeAt(i);
  return p + s.length;
}

/** A number as JSON.stringify writes it: integers below 2^53 digit by digit, anything else through Number's formatting. */
export function writeNumber(out: Uint8Array, p: number, v: number): number {
  if (!Number.isSafeInteger(v)) return ascii(out, p, String(v));
  if (v < 0) {
    out[p++] = 45; // -
    v = -v;
  }
  let n = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) n++;
  let q = p + n;
  do {
    const d = v % 10;
    out[--q] = 48 + d;
    v = (v - d) / 10;
  } while (v !== 0);
  return p + n;
}

function writeRatio(out: Uint8Array, p: number, num: number, den: number): number {
  return den === 0 ? copy(out, p, NULL) : writeNumber(out, p, num / den);
}

/** Writes KPI objects of one store into a growable buffer; a region or vendor key is escaped once per string. */
export class KpiJsonWriter {
  private readonly store: KpiWindowStore;
  /** the JSON string literal of each of the store's key texts, by id */
  private readonly texts: Uint8Array[] = [];
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
    const keyLiteral = isStringDimension(dim) ? this.literal(st.key[e]) : null;
    w.ensure(MAX_FIXED_BYTES + (keyLiteral?.length ?? 12));
    const out = w.buf;
    const f = st.fields;
    const b = e * MEASURES;
    let p = copy(out, w.pos, K_WINDOW_START);
    p = ascii(out, p, times.start);
    p = copy(out, p, K_WINDOW_END);
    p = ascii(out, p, times.end);
    p = copy(out, p, K_DIMENSION[dim]);
    if (keyLiteral === null) {
      out[p++] = 34;
      p = writeNumber(out, p, st.key[e]);
      out[p++] = 34;
    } else p = copy(out, p, keyLiteral);
    p = copy(out, p, K_RECORDS);
    p = writeNumber(out, p, f[b + M_RECORDS]);
    p = copy(out, p, K_FAILURES);
    p = writeNumber(out, p, f[b + M_FAILURES]);
    p = this.attempts(out, copy(out, p, K_ATTACH), f[b + M_ATTACH_ATTEMPTS], f[b + M_ATTACH_SUCCESSES]);
    p = this.attempts(out, copy(out, p, K_SESSION), f[b + M_SESSION_ATTEMPTS], f[b + M_SESSION_SUCCESSES]);
    p = copy(out, p, K_SETUP_LATENCY);
    const n = st.latLen[e];
    this.latencyCount = n;
    if (n === 0) {
      p = copy(out, p, NULL);
      this.latencyP95 = 0;
    } else {
      const lat = st.sortedLatencies(e);
      this.latencyP95 = nearestRank(lat, 95);
      p = writeNumber(out, copy(out, p, K_COUNT), n);
      p = writeNumber(out, copy(out, p, K_P50), nearestRank(lat, 50));
      p = writeNumber(out, copy(out, p, K_P95), this.latencyP95);
      p = writeNumber(out, copy(out, p, K_MAX), lat[n - 1]);
      out[p++] = 125; // }
    }
    p = this.attempts(out, copy(out, p, K_HANDOVER), f[b + M_HANDOVER_ATTEMPTS], f[b + M_HANDOVER_SUCCESSES]);
    p = writeNumber(out, copy(out, p, K_DROPS), f[b + M_CALL_DROPS]);
    p = writeNumber(out, copy(out, p, K_RLF), f[b + M_RADIO_LINK_FAILURES]);
    p = writeRatio(out, copy(out, p, K_DROP_RATE), f[b + M_CALL_DROPS], f[b + M_SESSION_SUCCESSES]);
    p = copy(out, p, K_RSRP);
    const rsrp = f[b + M_RSRP_COUNT];
    if (rsrp === 0) p = copy(out, p, NULL);
    else {
      p = writeNumber(out, copy(out, p, K_COUNT), rsrp);
      // kpi-json.ts rounds the same way
      p = writeNumber(out, copy(out, p, K_MEAN), Math.round((f[b + M_RSRP_SUM] / rsrp) * 100) / 100);
      p = writeNumber(out, copy(out, p, K_MIN), f[b + M_RSRP_MIN]);
      out[p++] = 125;
    }
    p = writeNumber(out, copy(out, p, K_BYTES_UP), f[b + M_BYTES_UP]);
    p = writeNumber(out, copy(out, p, K_BYTES_DOWN), f[b + M_BYTES_DOWN]);
    out[p++] = 125;
    w.pos = p;
  }

  private attempts(out: Uint8Array, p: number, attempts: number, successes: number): number {
    p = writeNumber(out, p, attempts);
    p = writeNumber(out, copy(out, p, K_SUCCESSES), successes);
    return writeRatio(out, copy(out, p, K_SUCCESS_RATE), successes, attempts);
  }

  private literal(id: number): Uint8Array {
    let l = this.texts[id];
    if (l === undefined) {
      l = Buffer.from(JSON.stringify(this.store.texts[id]), 'utf8');
      this.texts[id] = l;
    }
    return l;
  }
}
