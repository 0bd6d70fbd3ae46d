// What the main thread sends a decode worker for one batch, and what it gets back: slot numbers and counts, never records.

export interface DecodeTask {
  slot: number;
  /** messages in the slot */
  count: number;
  /** first message to serialize in this pass (a pass stops early when the slot's JSON area is full) */
  from: number;
  /** decode the slot first (false on a continuation pass: the records are already decoded) */
  decode: boolean;
  /** reference snapshot version the main thread expects at least (live updates) */
  minSnapshot: number;
}

export interface DecodeResult {
  slot: number;
  /** messages [from, done) have their records serialized in the slot's output */
  done: number;
  /** records serialized in this pass */
  records: number;
  /** records of the whole slot decoded (first pass only) */
  decoded: number;
  /** snapshot version used for the whole pass */
  snapshot: number;
  /** nanoseconds spent decoding and enriching in the worker */
  decodeNs: number;
  enrichNs: number;
}
