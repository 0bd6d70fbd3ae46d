// The counters one KPI aggregate holds for a (window, dimension, key) — the same layout in a batch's partials and in the merge's windows — and how one decoded record adds to them.
//
// An aggregate is MEASURES doubles at `base` in a Float64Array (doubles: sums of bytes pass 2^32, counts of a long
// window may too, and every value stays an exact integer below 2^53). The setup latencies are not here: exact
// percentiles need the values themselves, which each side keeps in an arena of its own.

// record types and the success result, as on the wire (SPEC section 1); exported for native/kpi_partials.c's layout check
export const ATTACH = 1;
export const SESSION_START = 3;
export const HANDOVER = 5;
export const RADIO_LINK_FAILURE = 6;
export const CALL_DROP = 7;

export const M_RECORDS = 0;
export const M_FAILURES = 1;
export const M_ATTACH_ATTEMPTS = 2;
export const M_ATTACH_SUCCESSES = 3;
export const M_SESSION_ATTEMPTS = 4;
export const M_SESSION_SUCCESSES = 5;
export const M_HANDOVER_ATTEMPTS = 6;
export const M_HANDOVER_SUCCESSES = 7;
export const M_CALL_DROPS = 8;
export const M_RADIO_LINK_FAILURES = 9;
export const M_RSRP_COUNT = 10;
/** sum of rsrp_dbm (negative) */
export const M_RSRP_SUM = 11;
/** smallest rsrp_dbm; +Infinity while M_RSRP_COUNT is 0 */
export const M_RSRP_MIN = 12;
export const M_BYTES_UP = 13;
export const M_BYTES_DOWN = 14;
export const MEASURES = 15;

/** Sets the aggregate at `base` to "no record". */
export function clearAggregate(f: Float64Array, base: number): void {
  f.fill(0, base, base + MEASURES);
  f[base + M_RSRP_MIN] = Infinity;
}

/**
 * Adds one decoded record: `type` and `result` as on the wire, `rsrp` only when `hasRsrp`. The latency, when the
 * record carries one, is the caller's to keep.
 */
export function addRecord(
  f: Float64Array,
  base: number,
  type: number,
  result: number,
  hasRsrp: boolean,
  rsrp: number,
  bytesUp: number,
  bytesDown: number,
): void {
  const success = result === 0;
  f[base + M_RECORDS]++;
  if (!success) f[base + M_FAILURES]++;
  switch (type) {
    case ATTACH:
      f[base + M_ATTACH_ATTEMPTS]++;
      if (success) f[base + M_ATTACH_SUCCESSES]++;
      break;
    case SESSION_START:
      f[base + M_SESSION_ATTEMPTS]++;
      if (success) f[base + M_SESSION_SUCCESSES]++;
      break;
    case HANDOVER:
      f[base + M_HANDOVER_ATTEMPTS]++;
      if (success) f[base + M_HANDOVER_SUCCESSES]++;
      break;
    case CALL_DROP:
      f[base + M_CALL_DROPS]++;
      break;
    case RADIO_LINK_FAILURE:
      f[base + M_RADIO_LINK_FAILURES]++;
      break;
  }
  if (hasRsrp) {
    f[base + M_RSRP_COUNT]++;
    f[base + M_RSRP_SUM] += rsrp;
    if (rsrp < f[base + M_RSRP_MIN]) f[base + M_RSRP_MIN] = rsrp;
  }
  f[base + M_BYTES_UP] += bytesUp;
  f[base + M_BYTES_DOWN] += bytesDown;
}

/** Does a latency record of this type count (only session_start's setup latency is a KPI)? */
export function countsLatency(type: number): boolean {
  return type === SESSION_START;
}
