// What the main thread sends a decode worker for one batch, and what it gets back: slot numbers and counts, never records.
import type { ReferenceVersion } from '../enrich/reference.js';
import type { LatencySnapshot } from '../metrics/latency.js';

export interface DecodeTask {
  slot: number;
  /** messages in the slot */
  count: number;
  /** where this pass starts: message index, and record index within that message (a pass stops when the JSON area is full) */
  from: number;
  fromRecord: number;
  /** decode the slot first (false on a continuation pass: the records are already decoded) */
  decode: boolean;
  /** the batch's number, in dispatch order: its alarm entries count once the transaction holding it commits */
  seq: number;
  /** the reference data to enrich against (base and overlay); a SharedArrayBuffer travels as a handle, not a copy */
  reference: ReferenceVersion;
  /**
   * a warm-up pass (transport/warm-up.ts): synthetic frames through every step, for the JIT, with no effect — no alarm
   * feed, KPI partials folded into a throwaway accumulator, no latency recorded, the JSON area rewritten from the start
   * when full
   */
  warmup?: boolean;
}

export interface DecodeResult {
  slot: number;
  /** the pass serialized everything before (done, doneRecord): message index, record index within it */
  done: number;
  doneRecord: number;
  /** records serialized in this pass */
  records: number;
  /** records of the whole slot decoded (first pass only) */
  decoded: number;
  snapshotVersion: number;
  /** nanoseconds spent decoding and enriching in the worker */
  decodeNs: number;
  enrichNs: number;
  /** the worker's latency histograms since its last report, at most every 250 ms (merged on the main thread) */
  latency?: LatencySnapshot;
  /** the batch's KPI partials (src/kpis/batch-partials.ts), on its first pass when KPIs are on; transferred, not copied */
  kpis?: Uint8Array;
}
