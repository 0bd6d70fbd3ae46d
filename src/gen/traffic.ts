// The traffic model behind `lux gen`: deterministic (seeded) LXE1 frames from a fleet of equipment, with failures, alarm bursts and a small share of broken frames.
//
// Cells differ, as in a live network, so the quality indicators (SPEC section 7) have worst cells to show: each cell
// draws, from the seed and its id, a signal level, a setup-latency median and a quality class — most cells are
// good, a few (CELL_QUALITY.badShare) fail several times more often, with weaker signal and slower setups. The
// failure factors average 1, so failureShare stays the overall share of failed records.
import { encodeFrame, encodeImsi, type FrameFaults, type FrameInput, type RecordInput, type Tlv, TAG_RSRP } from './frame-encoder.js';

/** Everything the model can be told, with its defaults in TRAFFIC_DEFAULTS. */
export interface TrafficOptions {
  /** PRNG seed: the same seed, clock readings and call sequence give the same frames, byte for byte */
  seed: number;
  /** equipment count; ids run firstEquipmentId .. firstEquipmentId + equipment - 1 (examples/refdata holds 1..200) */
  equipment: number;
  firstEquipmentId: number;
  /** records per frame, drawn uniformly in [min, max] */
  recordsPerFrameMin: number;
  recordsPerFrameMax: number;
  /** share of records whose result is not success, outside bursts */
  failureShare: number;
  /** share of frames that are deliberately broken (dead-letter path) */
  badShare: number;
  /** share of good frames that carry the CRC-32 trailer */
  crcShare: number;
  /** every burstEveryMs one equipment emits burstFailures failures within burstSpanMs; 0 = no bursts */
  burstEveryMs: number;
  burstFailures: number;
  burstSpanMs: number;
  /** records are reported up to this long after they happened: event_time = now - U(0, jitterMs) */
  jitterMs: number;
  /** share of records without an IMSI */
  noImsiShare: number;
  /** cause codes drawn on failure: 1..maxCauseCode (examples/refdata/error_codes.csv) */
  maxCauseCode: number;
}

export const TRAFFIC_DEFAULTS: Readonly<TrafficOptions> = Object.freeze({
  seed: 1,
  equipment: 200,
  firstEquipmentId: 1,
  recordsPerFrameMin: 1,
  recordsPerFrameMax: 3,
  failureShare: 0.05,
  badShare: 0.001,
  crcShare: 0.5,
  burstEveryMs: 30_000,
  burstFailures: 50,
  burstSpanMs: 3_000,
  jitterMs: 250,
  noImsiShare: 0.05,
  maxCauseCode: 40,
});

/** How a broken frame is broken; each names the SPEC section 1 reason the decoder should give it. */
export const BAD_FRAME_KINDS = [
  'bad_magic',
  'bad_version',
  'bad_flags',
  'empty_frame',
  'truncated',
  'trailing_bytes',
  'crc_mismatch',
  'bad_time',
  'bad_record_length',
  'bad_tlv',
  'bad_imsi',
  'bad_utf8',
] as const;
export type BadFrameKind = (typeof BAD_FRAME_KINDS)[number];

/** One generated frame: the Kafka key and value, and what went into it. */
export interface GeneratedFrame {
  /** equipment_id in decimal, the Kafka key */
  key: string;
  equipmentId: number;
  frameSeq: number;
  value: Buffer;
  /** records written into the frame (a broken frame's records are never decoded) */
  records: number;
  /** records with a result other than success */
  failures: number;
  /** null for a frame that decodes; else how it was broken */
  bad: BadFrameKind | null;
  /** true when the frame belongs to an alarm burst */
  burst: boolean;
}

// Wire codes (SPEC section 1).
const ATTACH = 1, DETACH = 2, SESSION_START = 3, SESSION_END = 4, HANDOVER = 5, RADIO_LINK_FAILURE = 6, CALL_DROP = 7, PAGING = 8;
const SUCCESS = 0, FAILURE = 1, TIMEOUT = 2;

/** Record types of successful records, with weights (a live network: sessions and handovers dominate). */
const SUCCESS_TYPES = weighted([
  [ATTACH, 12], [DETACH, 10], [SESSION_START, 26], [SESSION_END, 26], [HANDOVER, 18], [PAGING, 8],
]);
/** Record types of failed records: failed procedures, and the few drops and radio link failures of the network. */
const FAILURE_TYPES = weighted([
  [ATTACH, 20], [SESSION_START, 20], [HANDOVER, 22], [RADIO_LINK_FAILURE, 16], [CALL_DROP, 14], [PAGING, 8],
]);

/** How cells differ (see the file header). */
const CELL_QUALITY = {
  /** share of bad cells */
  badShare: 0.08,
  /** failure share multipliers of good and bad cells: 0.92 × 0.8 + 0.08 × 3.3 = 1 */
  goodFailureFactor: 0.8,
  badFailureFactor: 3.3,
  /** a cell's mean rsrp_dbm is drawn in [best - spread, best]; a bad cell's lies badRsrpDb lower */
  rsrpBestDbm: -80,
  rsrpSpreadDb: 25,
  badRsrpDb: 8,
  /** records of a failed procedure are measured this much weaker */
  failedRsrpDb: 10,
  /** reported range of rsrp_dbm */
  rsrpMinDbm: -120,
  rsrpMaxDbm: -70,
  /** share of records that report rsrp_dbm (detach never does) */
  rsrpShare: 0.95,
  /** a cell's median setup latency is drawn in [min, min + spread] ms, times badLatencyFactor for a bad cell */
  latencyMedianMinMs: 120,
  latencyMedianSpreadMs: 130,
  badLatencyFactor: 1.6,
  /** log-normal spread of successful setups, and of failed ones (around failedLatencyFactor × the median) */
  latencySigma: 0.35,
  failedLatencySigma: 0.6,
  failedLatencyFactor: 3,
  /** share of successful setups that hit a slow path (retransmission, paging): the tail, 2 to 6 times longer */
  latencyTailShare: 0.03,
  /** share of session_start records that carry setup_latency_ms */
  latencyShare: 0.96,
} as const;

/** The traits of one cell, derived from the seed and the cell id (no draw from the record stream). */
interface CellTraits {
  bad: boolean;
  failureFactor: number;
  rsrpCentre: number;
  latencyMedianMs: number;
}

/** A 32-bit integer finalizer (lowbias32): neighbouring inputs give unrelated outputs. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The traits of a cell from a hash of (seed, cell id): three uniforms, the same for every record of the cell. */
function cellTraits(seed: number, cellId: number, out: CellTraits): CellTraits {
  const q = CELL_QUALITY;
  const h1 = mix32(seed ^ Math.imul(cellId, 0x85ebca6b));
  const h2 = mix32(h1 + 0x9e3779b9);
  const h3 = mix32(h2 + 0x9e3779b9);
  out.bad = h1 / 4294967296 < q.badShare;
  out.failureFactor = out.bad ? q.badFailureFactor : q.goodFailureFactor;
  out.rsrpCentre = q.rsrpBestDbm - (h2 / 4294967296) * q.rsrpSpreadDb - (out.bad ? q.badRsrpDb : 0);
  out.latencyMedianMs = (q.latencyMedianMinMs + (h3 / 4294967296) * q.latencyMedianSpreadMs) * (out.bad ? q.badLatencyFactor : 1);
  return out;
}
/** 2G, 3G, 4G, 5G-NSA, 5G-SA */
const RATS = weighted([[1, 3], [2, 7], [3, 55], [4, 22], [5, 13]]);
const utf8 = new TextEncoder();
// Texts are encoded once: the encoder takes bytes as they are, and the generator must outrun the default rate.
const APNS = ['internet', 'internet', 'internet', 'internet', 'internet', 'internet', 'ims', 'ims', 'ims', 'mms'].map((a) => utf8.encode(a));
/** MCC+MNC prefixes of the home and a few roaming networks */
const PLMNS = ['20801', '20810', '20815', '20820', '22210', '26201'].map((p) => Uint8Array.from(p, (c) => c.charCodeAt(0) - 48));
/** Subscribers per PLMN: IMSIs repeat, as real subscribers do. */
const SUBSCRIBERS = 100_000;
const CELLS_PER_EQUIPMENT = 12;
const VENDOR_DETAILS = [
  'RRC connection setup timer T300 expired',
  'S1AP cause radioNetwork/unspecified',
  'NGAP cause radioNetwork/handover-cancelled',
  'RLC max retransmissions reached',
  'X2 handover preparation failure: no radio resources',
  'UE context release: user inactivity',
  'NAS EMM cause #17 network failure',
  'PDCP integrity check failed',
  'cellule saturée, admission refusée',
  'Überlast im Kernnetz',
].map((t) => utf8.encode(t));
/** The valid event_time range (SPEC section 1); bad_time frames fall outside it. */
const TIME_MIN = Date.UTC(2000, 0, 1);
const TIME_END = Date.UTC(2100, 0, 1);

interface Weighted {
  values: Int32Array;
  cumulative: Float64Array;
}

function weighted(pairs: Array<[number, number]>): Weighted {
  const values = new Int32Array(pairs.length);
  const cumulative = new Float64Array(pairs.length);
  let total = 0;
  for (const [, w] of pairs) total += w;
  let acc = 0;
  pairs.forEach(([v, w], i) => {
    values[i] = v;
    acc += w / total;
    cumulative[i] = acc;
  });
  cumulative[pairs.length - 1] = 1;
  return { values, cumulative };
}

/** A 15-digit IMSI (5-digit PLMN, 10-digit subscriber) straight to TBCD (what encodeImsi does, without the string). */
function imsi(plmn: Uint8Array, subscriber: number): Uint8Array {
  const out = new Uint8Array(8);
  // Digit k goes in the low nibble of byte k/2 when k is even, the high nibble when odd; digit 15 is the F filler.
  const digit = (k: number): number => (k < 5 ? plmn[k]! : k === 15 ? 0xf : Math.floor(subscriber / 10 ** (14 - k)) % 10);
  for (let b = 0; b < 8; b++) out[b] = digit(2 * b) | (digit(2 * b + 1) << 4);
  return out;
}

/** mulberry32: a small, fast 32-bit PRNG; plenty for traffic and reproducible from one seed. */
export class Mulberry32 {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** uniform integer in [min, max] */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  weighted(w: Weighted): number {
    const u = this.next();
    const c = w.cumulative;
    let i = 0;
    while (i < c.length - 1 && u >= c[i]!) i++;
    return w.values[i]!;
  }
  /** exponential with the given mean */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  /** a new generator for a separate stream (two streams of one seed do not shift each other) */
  fork(salt: number): Mulberry32 {
    return new Mulberry32((this.state ^ Math.imul(salt, 0x9e3779b1)) >>> 0);
  }
}

/** Checks the options once, so the model itself never meets a nonsensical value. */
export function resolveTrafficOptions(partial: Partial<TrafficOptions> = {}): TrafficOptions {
  const o: TrafficOptions = { ...TRAFFIC_DEFAULTS };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (o as unknown as Record<string, number>)[k] = v as number;
  const bad = (name: string, why: string): never => {
    throw new RangeError(`traffic option ${name}: ${why}`);
  };
  if (!Number.isInteger(o.equipment) || o.equipment < 1) bad('equipment', `must be a positive integer, got ${o.equipment}`);
  if (!Number.isInteger(o.firstEquipmentId) || o.firstEquipmentId < 0 || o.firstEquipmentId + o.equipment - 1 > 0xffffffff) {
    bad('firstEquipmentId', `ids must fit in 32 bits, got ${o.firstEquipmentId}`);
  }
  if (!Number.isInteger(o.recordsPerFrameMin) || o.recordsPerFrameMin < 1) bad('recordsPerFrameMin', `must be ≥ 1, got ${o.recordsPerFrameMin}`);
  if (!Number.isInteger(o.recordsPerFrameMax) || o.recordsPerFrameMax < o.recordsPerFrameMin || o.recordsPerFrameMax > 0xffff) {
    bad('recordsPerFrameMax', `must be in ${o.recordsPerFrameMin}..65535, got ${o.recordsPerFrameMax}`);
  }
  for (const k of ['failureShare', 'badShare', 'crcShare', 'noImsiShare'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) bad(k, `must be a share in [0, 1], got ${o[k]}`);
  }
  for (const k of ['burstEveryMs', 'burstFailures', 'burstSpanMs', 'jitterMs'] as const) {
    if (!(o[k] >= 0 && Number.isFinite(o[k]))) bad(k, `must be a non-negative number, got ${o[k]}`);
  }
  if (!Number.isInteger(o.maxCauseCode) || o.maxCauseCode < 1 || o.maxCauseCode > 0xffff) bad('maxCauseCode', `must be in 1..65535, got ${o.maxCauseCode}`);
  o.seed = o.seed >>> 0;
  return o;
}

/**
 * The traffic model. Frames come out one at a time (`next`) or by batches (`fill`); each call takes the current time,
 * so a caller with a real clock gets live traffic and a test with a fixed clock gets reproducible bytes.
 */
export class TrafficModel {
  readonly options: TrafficOptions;
  private readonly rng: Mulberry32;
  /** next frame_seq per equipment (index = id - firstEquipmentId) */
  private readonly frameSeq: Uint32Array;
  /** cumulative activity weights: some equipment is far busier than other */
  private readonly activity: Float64Array;
  /** time the first frame was asked for: bursts fire at start + k × burstEveryMs */
  private startMs = -1;
  private nextBurstMs = Infinity;
  private burstEquipment = -1;
  private burstStartMs = 0;
  private burstEmitted = 0;
  /** the traits of the cell of the record being made (reused) */
  private readonly traits: CellTraits = { bad: false, failureFactor: 1, rsrpCentre: 0, latencyMedianMs: 0 };

  constructor(options: Partial<TrafficOptions> = {}) {
    this.options = resolveTrafficOptions(options);
    this.rng = new Mulberry32(this.options.seed);
    this.frameSeq = new Uint32Array(this.options.equipment);
    this.activity = new Float64Array(this.options.equipment);
    let acc = 0;
    for (let i = 0; i < this.options.equipment; i++) {
      acc += 0.2 + this.rng.exp(1); // every equipment talks, a few talk a lot
      this.activity[i] = acc;
    }
    for (let i = 0; i < this.options.equipment; i++) this.activity[i]! /= acc;
    this.activity[this.options.equipment - 1] = 1;
  }

  /** The equipment whose burst is in progress, or null. */
  get burstingEquipment(): number | null {
    return this.burstEquipment < 0 ? null : this.options.firstEquipmentId + this.burstEquipment;
  }

  /**
   * The next frame at time `nowMs`, with at most `maxRecords` records (to stop exactly on a record count).
   * Broken frames are drawn with probability badShare, independently of bursts.
   */
  next(nowMs: number, maxRecords = Infinity): GeneratedFrame {
    const o = this.options;
    if (this.startMs < 0) {
      this.startMs = nowMs;
      this.nextBurstMs = o.burstEveryMs > 0 && o.burstFailures > 0 ? nowMs + o.burstEveryMs : Infinity;
    }
    const limit = Math.max(1, Math.min(maxRecords, o.recordsPerFrameMax));
    if (this.burstEquipment < 0 && nowMs >= this.nextBurstMs) {
      this.burstEquipment = this.rng.int(0, o.equipment - 1);
      this.burstStartMs = nowMs;
      this.burstEmitted = 0;
      this.nextBurstMs += o.burstEveryMs * Math.max(1, Math.ceil((nowMs - this.nextBurstMs + 1) / o.burstEveryMs));
    }
    if (this.burstEquipment >= 0) {
      // Spread the burst over its span: emit the failures that are due by now, a frame at a time.
      const due = o.burstSpanMs <= 0 ? o.burstFailures : Math.ceil((o.burstFailures * Math.min(nowMs - this.burstStartMs + 1, o.burstSpanMs)) / o.burstSpanMs);
      const owed = Math.min(due, o.burstFailures) - this.burstEmitted;
      if (owed > 0) {
        const n = Math.min(owed, limit);
        this.burstEmitted += n;
        const eq = this.burstEquipment;
        if (this.burstEmitted >= o.burstFailures) this.burstEquipment = -1;
        return this.frame(eq, n, nowMs, true);
      }
      if (nowMs - this.burstStartMs >= o.burstSpanMs) this.burstEquipment = -1;
    }
    const eq = this.pickEquipment();
    const n = this.rng.int(o.recordsPerFrameMin, Math.max(o.recordsPerFrameMin, Math.min(limit, o.recordsPerFrameMax)));
    return this.frame(eq, Math.min(n, limit), nowMs, false);
  }

  /** Appends frames to `out` until `records` records are made (the last frame is cut to fit); returns the records made. */
  fill(out: GeneratedFrame[], records: number, nowMs: number): number {
    let made = 0;
    while (made < records) {
      const f = this.next(nowMs, records - made);
      out.push(f);
      made += f.records;
    }
    return made;
  }

  private pickEquipment(): number {
    const u = this.rng.next();
    const a = this.activity;
    let lo = 0;
    let hi = a.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < a[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private frame(eqIndex: number, count: number, nowMs: number, burst: boolean): GeneratedFrame {
    const o = this.options;
    const rng = this.rng;
    const equipmentId = o.firstEquipmentId + eqIndex;
    const frameSeq = this.frameSeq[eqIndex]!;
    this.frameSeq[eqIndex] = (frameSeq + 1) >>> 0;
    const records: RecordInput[] = new Array(count);
    let failures = 0;
    // Collectors flush a frame after its records happened: the oldest record first.
    let t = nowMs - (o.jitterMs > 0 ? rng.int(0, o.jitterMs) : 0);
    for (let i = 0; i < count; i++) {
      const r = this.record(equipmentId, t, burst);
      if (r.result !== SUCCESS) failures++;
      records[i] = r;
      if (o.jitterMs > 0 && t < nowMs) t = Math.min(nowMs, t + rng.int(0, Math.ceil(o.jitterMs / 10)));
    }
    const bad = o.badShare > 0 && rng.chance(o.badShare) ? rng.pick(BAD_FRAME_KINDS) : null;
    const input: FrameInput = { equipmentId, frameSeq, records, crc: rng.chance(o.crcShare) };
    const value = bad === null ? encodeFrame(input) : this.broken(input, bad);
    return { key: String(equipmentId), equipmentId, frameSeq, value, records: count, failures, bad, burst };
  }

  private record(equipmentId: number, eventTime: number, burst: boolean): RecordInput {
    const o = this.options;
    const rng = this.rng;
    const cell = rng.int(1, CELLS_PER_EQUIPMENT);
    const traits = cellTraits(o.seed, equipmentId * 100 + cell, this.traits);
    const fails = burst || rng.chance(Math.min(1, o.failureShare * traits.failureFactor));
    const type = rng.weighted(fails ? FAILURE_TYPES : SUCCESS_TYPES);
    const result = fails ? (rng.chance(0.8) ? FAILURE : TIMEOUT) : SUCCESS;
    const r: RecordInput = {
      type,
      result,
      eventTime,
      cellId: equipmentId * 100 + cell,
      causeCode: fails ? this.causeCode() : 0,
      rat: rng.weighted(RATS),
      imsi: rng.chance(o.noImsiShare) ? null : imsi(rng.pick(PLMNS), (rng.int(0, SUBSCRIBERS - 1) * 7919) % 10_000_000_000),
      durationMs: 0,
      bytesUp: 0,
      bytesDown: 0,
    };
    switch (type) {
      case ATTACH:
      case SESSION_START:
        r.durationMs = rng.int(15, 400);
        r.apn = rng.pick(APNS);
        if (type === ATTACH || rng.chance(CELL_QUALITY.latencyShare)) r.setupLatencyMs = this.setupLatency(result, traits.latencyMedianMs);
        break;
      case SESSION_END: {
        r.durationMs = Math.min(0xffffffff, Math.round(rng.exp(180_000)));
        const kb = rng.exp(r.durationMs / 50);
        r.bytesUp = Math.min(0xffffffff, Math.round(kb * 120));
        r.bytesDown = Math.min(0xffffffff, Math.round(kb * 1024 * (1 + rng.next() * 6)));
        r.apn = rng.pick(APNS);
        break;
      }
      case HANDOVER: {
        let target = rng.int(1, CELLS_PER_EQUIPMENT);
        if (target === cell) target = (target % CELLS_PER_EQUIPMENT) + 1;
        // One handover in five goes to a neighbouring equipment's cell.
        const last = o.firstEquipmentId + o.equipment - 1;
        const targetEq = rng.chance(0.2) ? Math.min(last, Math.max(o.firstEquipmentId, equipmentId + rng.int(-1, 1))) : equipmentId;
        r.targetCellId = targetEq * 100 + target;
        r.durationMs = rng.int(20, fails ? 2000 : 120);
        break;
      }
      case RADIO_LINK_FAILURE:
      case CALL_DROP:
        r.durationMs = Math.round(rng.exp(60_000));
        break;
      case PAGING:
        r.durationMs = rng.int(5, 300);
        break;
      default:
        r.durationMs = rng.int(5, 100);
    }
    if (type !== DETACH && rng.chance(CELL_QUALITY.rsrpShare)) r.rsrpDbm = this.rsrp(fails, traits.rsrpCentre);
    if (fails && rng.chance(0.3)) r.vendorDetail = rng.pick(VENDOR_DETAILS);
    return r;
  }

  /** Failures cluster on a few causes: half of them on 1..5, the rest spread over 1..maxCauseCode. */
  private causeCode(): number {
    const m = this.options.maxCauseCode;
    return this.rng.chance(0.5) ? this.rng.int(1, Math.min(5, m)) : this.rng.int(1, m);
  }

  /** dBm around the cell's level (weaker on a failed procedure), within CELL_QUALITY's reported range. */
  private rsrp(fails: boolean, centre: number): number {
    const q = CELL_QUALITY;
    const v = centre - (fails ? q.failedRsrpDb : 0) + (this.rng.next() + this.rng.next() + this.rng.next() - 1.5) * 8;
    return Math.max(q.rsrpMinDbm, Math.min(q.rsrpMaxDbm, Math.round(v)));
  }

  /**
   * Setup latency in ms: log-normal around the cell's median with a slow tail for successes, around a multiple of
   * it (wider) for failures, and the timer's 1-5 s for timeouts.
   */
  private setupLatency(result: number, medianMs: number): number {
    const q = CELL_QUALITY;
    const rng = this.rng;
    let ms: number;
    if (result === TIMEOUT) ms = rng.int(1000, 5000);
    else if (result === SUCCESS) {
      ms = medianMs * Math.exp(q.latencySigma * this.gaussian());
      if (rng.chance(q.latencyTailShare)) ms *= 2 + rng.next() * 4;
    } else ms = medianMs * q.failedLatencyFactor * Math.exp(q.failedLatencySigma * this.gaussian());
    return Math.max(1, Math.min(0xffff, Math.round(ms)));
  }

  /** A standard normal draw (Box-Muller). */
  private gaussian(): number {
    const u = 1 - this.rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.next());
  }

  /** One fault per frame, chosen so that exactly one decoding rule breaks. */
  private broken(input: FrameInput, kind: BadFrameKind): Buffer {
    const rng = this.rng;
    const first = input.records[0]!;
    const others = input.records.slice(1);
    const faults: FrameFaults = {};
    let frame: FrameInput = input;
    switch (kind) {
      case 'bad_magic':
        faults.magic = rng.pick([[0x4c, 0x58, 0x45, 0x32], [0x31, 0x45, 0x58, 0x4c], [0, 0, 0, 0], [0x47, 0x45, 0x54, 0x20]]);
        break;
      case 'bad_version':
        faults.version = rng.pick([0, 2, 255]);
        break;
      case 'bad_flags':
        faults.flags = (input.crc ? 1 : 0) | (2 << rng.int(0, 6));
        break;
      case 'empty_frame':
        frame = { ...input, records: [] };
        break;
      case 'truncated':
        // Without a trailer, the cut always lands in the last record.
        frame = { ...input, crc: false };
        faults.truncateBy = rng.int(1, 39);
        break;
      case 'trailing_bytes':
        frame = { ...input, crc: false };
        faults.trailing = Array.from({ length: rng.int(1, 8) }, () => rng.int(0, 255));
        break;
      case 'crc_mismatch':
        frame = { ...input, crc: true };
        faults.crcXor = (1 << rng.int(0, 31)) >>> 0;
        break;
      case 'bad_time':
        frame = { ...input, records: [{ ...first, eventTime: rng.pick([0, TIME_MIN - 1, TIME_END, 2 ** 53]) }, ...others] };
        break;
      case 'bad_record_length':
        frame = { ...input, records: [{ ...first, length: rng.int(0, 39) }, ...others] };
        break;
      case 'bad_tlv': {
        // rsrp_dbm with 3 bytes instead of 2, or a TLV whose length runs past its record.
        const tlv: Tlv = rng.chance(0.5) ? { tag: TAG_RSRP, value: [0xff, 0xa0, 0x00] } : { tag: 0x01, value: [0x69, 0x6d, 0x73], len: 200 };
        frame = { ...input, records: [{ ...first, tlvs: [tlv] }, ...others] };
        break;
      }
      case 'bad_imsi': {
        const imsi = encodeImsi('208011234567890');
        imsi[rng.int(0, 6)] = 0xa0 | rng.int(0, 9); // a digit nibble A before the end
        frame = { ...input, records: [{ ...first, imsi }, ...others] };
        break;
      }
      case 'bad_utf8':
        frame = { ...input, records: [{ ...first, apn: Uint8Array.of(0x69, 0x6e, 0xff, 0xfe) }, ...others] };
        break;
    }
    return encodeFrame(frame, faults);
  }
}
