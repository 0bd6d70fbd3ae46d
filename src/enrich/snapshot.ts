// The reference-data snapshot: the four tables compiled into one immutable SharedArrayBuffer that every worker reads in place.
//
// Layout (all offsets computed from the header counts by `layoutOf`, sections 8-byte aligned):
//   header        HEADER_WORDS u32
//   equipment     EQ_WORDS u32 per row: id, string ids of name/model/vendor name/site/region, vendor index, flags
//   equipment ix  open addressing, 2 u32 per slot: key (equipment_id), row + 1 (0 = empty slot)
//   vendors       2 u32 per vendor index: string id of vendor_id, string id of name
//   error codes   2 u32 per row: key (vendor index << 16 | cause_code), string id of the whole `cause` JSON object
//   error ix      open addressing on that key, 2 u32 per slot
//   interventions 2 u32 per row (equipment_id, string id of the whole `maintenance` JSON object), then f64 starts,
//                 f64 ends (Infinity when ongoing); rows sorted by (equipment_id, start, input order)
//   interv. ix    open addressing on equipment_id, 4 u32 per slot: key, first row + 1, row count, unused
//   strings       u32 start offsets (count + 1) into the pool; string id 0 is the literal `null`
//   pool          UTF-8 bytes of pre-escaped JSON literals (quotes included), each distinct literal stored once
// Strings are JSON literals so the serializer copies bytes and never escapes reference data per record.
//
// The same layout serves as an OVERLAY (live updates, refdata-state.ts): a small snapshot holding only the rows changed
// since its base, consulted first. An overlay's equipment rows may be tombstones (EQ_FLAGS & EQ_DELETED), its error
// codes may be tombstones (ERR_JSON = ERR_DELETED), its intervention index owns whole per-equipment lists (an empty list
// is a slot with count 0), and its vendor table is complete. Vendor indexes are shared by a base and its overlays:
// both are built from the same append-only `vendorOrder`, so a base equipment row's vendor index names the same vendor
// in the overlay (whose vendor table then gives the current name: the writer resolves vendor names at write time).
import { loadRefTables, type RefTables } from './csv-tables.js';
import { LuxError } from '../errors.js';

const MAGIC = 0x3153584c; // "LXS1"
const LAYOUT_VERSION = 2;
export const HEADER_WORDS = 20;
const H_MAGIC = 0;
const H_LAYOUT = 1;
const H_VERSION = 2;
const H_EQ_COUNT = 3;
const H_EQ_CAP = 4;
const H_VENDOR_COUNT = 5;
const H_ERR_COUNT = 6;
const H_ERR_CAP = 7;
const H_IV_COUNT = 8;
const H_IV_CAP = 9;
const H_STR_COUNT = 10;
const H_POOL_BYTES = 11;
const H_MAX_EQ_JSON = 12;
const H_MAX_CAUSE_JSON = 13;
const H_MAX_MAINT_JSON = 14;
const H_FLAGS = 15;
const H_MAX_VENDOR_JSON = 16;
const H_MAX_EQ_FIELDS_JSON = 17;
const FLAG_OVERLAY = 1;

export const EQ_WORDS = 8;
export const EQ_ID = 0;
export const EQ_NAME = 1;
export const EQ_MODEL = 2;
export const EQ_VENDOR_NAME = 3;
export const EQ_SITE = 4;
export const EQ_REGION = 5;
/** vendor index (interned vendor_id), or NO_VENDOR when the equipment has no vendor_id */
export const EQ_VENDOR = 6;
export const NO_VENDOR = 0xffffffff;
/** Row flags (overlays only): EQ_DELETED marks a tombstone, an equipment deleted since the base. */
export const EQ_FLAGS = 7;
export const EQ_DELETED = 1;
export const ERR_WORDS = 2;
export const ERR_KEY = 0;
export const ERR_JSON = 1;
/** ERR_JSON of an error-code tombstone in an overlay. */
export const ERR_DELETED = 0xffffffff;
export const IV_WORDS = 2;
export const IV_EQUIPMENT = 0;
export const IV_JSON = 1;
/** String id of the literal `null`. */
export const NULL_STRING = 0;
/** Vendor indexes share the error-code key with the 16-bit cause_code. */
export const MAX_VENDORS = 0x10000;
/** Bytes of `{"name":,"model":,"vendor":,"site":,"region":}` around the five literals. */
export const EQUIPMENT_JSON_FRAME = 46;

interface Counts {
  eq: number;
  eqCap: number;
  vendors: number;
  err: number;
  errCap: number;
  iv: number;
  ivCap: number;
  strings: number;
  poolBytes: number;
}

interface Layout {
  eqRows: number;
  eqHash: number;
  vendors: number;
  errRows: number;
  errHash: number;
  ivRows: number;
  ivStart: number;
  ivEnd: number;
  ivHash: number;
  strStart: number;
  pool: number;
  total: number;
}

function layoutOf(c: Counts): Layout {
  let off = HEADER_WORDS * 4;
  const take = (bytes: number): number => {
    const at = Math.ceil(off / 8) * 8;
    off = at + bytes;
    return at;
  };
  const l: Layout = {
    eqRows: take(c.eq * EQ_WORDS * 4),
    eqHash: take(c.eqCap * 8),
    vendors: take(c.vendors * 8),
    errRows: take(c.err * ERR_WORDS * 4),
    errHash: take(c.errCap * 8),
    ivRows: take(c.iv * IV_WORDS * 4),
    ivStart: take(c.iv * 8),
    ivEnd: take(c.iv * 8),
    ivHash: take(c.ivCap * 16),
    strStart: take((c.strings + 1) * 4),
    pool: take(c.poolBytes),
    total: 0,
  };
  l.total = Math.ceil(off / 8) * 8;
  return l;
}

/** Smallest power of two holding n keys at a load factor of at most 1/2. */
function capacityFor(n: number): number {
  let cap = 4;
  while (cap < n * 2) cap *= 2;
  return cap;
}

function shiftFor(cap: number): number {
  return 32 - Math.log2(cap);
}

/** Fibonacci hashing: the top bits of key × 2^32/φ. */
function slotOf(key: number, shift: number): number {
  return Math.imul(key, 0x9e3779b1) >>> shift;
}

/** Interns JSON literals into a growing byte pool while the snapshot is built. */
class LiteralPool {
  private readonly ids = new Map<string, number>();
  starts = new Uint32Array(1024);
  bytes = new Uint8Array(1 << 16);
  count = 0;
  used = 0;

  constructor() {
    this.literal('null');
  }

  /** Id of a JSON string literal for `s`, or NULL_STRING for null. */
  string(s: string | null): number {
    return s === null ? NULL_STRING : this.literal(JSON.stringify(s));
  }

  /** Id of an already-serialized JSON text. */
  literal(json: string): number {
    const known = this.ids.get(json);
    if (known !== undefined) return known;
    const id = this.append(json);
    this.ids.set(json, id);
    return id;
  }

  /**
   * Id of a JSON string literal for `s` stored without interning: for columns whose values are nearly all distinct
   * (equipment names), where the intern map would cost a million entries and save no bytes.
   */
  unique(s: string | null): number {
    return s === null ? NULL_STRING : this.append(JSON.stringify(s));
  }

  private append(json: string): number {
    const id = this.count++;
    if (id + 2 > this.starts.length) {
      const s = new Uint32Array(this.starts.length * 2);
      s.set(this.starts);
      this.starts = s;
    }
    this.reserve(json.length * 3);
    let p = this.used;
    const b = this.bytes;
    for (let i = 0; i < json.length; i++) {
      const c = json.charCodeAt(i);
      if (c >= 0x80) {
        p = this.used + Buffer.from(json, 'utf8').copy(b, this.used);
        break;
      }
      b[p++] = c;
    }
    this.starts[id] = this.used;
    this.used = p;
    this.starts[id + 1] = p;
    return id;
  }

  length(id: number): number {
    return this.starts[id + 1] - this.starts[id];
  }

  private reserve(n: number): void {
    if (this.used + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (this.used + n > size) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.bytes.subarray(0, this.used));
    this.bytes = b;
  }
}

/** What makes a snapshot an overlay: the tombstones and the equipment whose whole intervention list it owns. */
export interface OverlayContent {
  /** equipment deleted since the base */
  readonly deletedEquipment: readonly number[];
  /** error codes deleted since the base */
  readonly deletedErrorCodes: readonly { readonly vendorId: string; readonly causeCode: number }[];
  /** equipment whose interventions changed: the overlay's list for them (possibly empty) replaces the base's */
  readonly interventionEquipment: readonly number[];
}

export interface SnapshotOptions {
  /** Version number carried by the snapshot (incremented by live updates); default 1. */
  readonly version?: number;
  /** vendor_id values whose indexes are fixed first, in this order (a base's order, shared with its overlays) */
  readonly vendorOrder?: readonly string[];
  /** set: build an overlay (tables hold the changed rows only; the vendor table must be complete) */
  readonly overlay?: OverlayContent;
}

/** Rows handled between two yields of `buildSnapshotSteps` (a few milliseconds of work). */
const STEP_ROWS = 8192;

/**
 * Compiles plain row arrays (from CSV or from Kafka updates) into a snapshot. Within one table a later row with the same
 * key replaces an earlier one (upsert order), so a table kept as a Map of live rows can be passed as its values.
 */
export function buildSnapshot(tables: RefTables, options: SnapshotOptions = {}): Snapshot {
  const steps = buildSnapshotSteps(tables, options);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * `buildSnapshot` in slices: yields every few thousand rows so a thread building a large base can still serve other
 * messages (live updates) in between. The rows must not change while the build runs.
 */
export function* buildSnapshotSteps(tables: RefTables, options: SnapshotOptions = {}): Generator<void, Snapshot, void> {
  const version = options.version ?? 1;
  const overlay = options.overlay;
  const pool = new LiteralPool();

  // vendors: every vendor_id mentioned anywhere gets an index; names come from vendors.csv only
  const vendorIndex = new Map<string, number>();
  const vendorIds: string[] = [];
  const vendorNames: number[] = [];
  const internVendor = (id: string): number => {
    let v = vendorIndex.get(id);
    if (v === undefined) {
      v = vendorIds.length;
      if (v >= MAX_VENDORS) throw new LuxError('E_REFDATA', `more than ${MAX_VENDORS} distinct vendor_id values`);
      vendorIndex.set(id, v);
      vendorIds.push(id);
      vendorNames.push(NULL_STRING);
    }
    return v;
  };
  for (const id of options.vendorOrder ?? []) internVendor(id);
  for (const v of tables.vendors) vendorNames[internVendor(v.vendorId)] = pool.string(v.name);

  // equipment: de-duplicate (last wins) through a temporary hash on the id
  const eqIn = tables.equipment;
  const eqDeleted = overlay?.deletedEquipment ?? [];
  const eqAll = eqIn.length + eqDeleted.length;
  const eqCap = capacityFor(eqAll);
  const eqShift = shiftFor(eqCap);
  const eqHash = new Uint32Array(eqCap * 2);
  const eqRows = new Uint32Array(eqAll * EQ_WORDS);
  let eqCount = 0;
  let maxEqFields = 0;
  const eqSlot = (equipmentId: number): number => {
    let s = slotOf(equipmentId, eqShift);
    for (;;) {
      const v = eqHash[s * 2 + 1];
      if (v === 0) {
        const row = eqCount++;
        eqHash[s * 2] = equipmentId;
        eqHash[s * 2 + 1] = row + 1;
        return row;
      }
      if (eqHash[s * 2] === equipmentId) return v - 1;
      s = (s + 1) & (eqCap - 1);
    }
  };
  for (let i = 0; i < eqIn.length; i++) {
    if ((i & (STEP_ROWS - 1)) === STEP_ROWS - 1) yield;
    const e = eqIn[i];
    const row = eqSlot(e.equipmentId);
    const vendor = e.vendorId === null ? NO_VENDOR : internVendor(e.vendorId);
    const w = row * EQ_WORDS;
    eqRows[w + EQ_ID] = e.equipmentId;
    eqRows[w + EQ_NAME] = pool.unique(e.name);
    eqRows[w + EQ_MODEL] = pool.string(e.model);
    eqRows[w + EQ_SITE] = pool.string(e.site);
    eqRows[w + EQ_REGION] = pool.string(e.region);
    eqRows[w + EQ_VENDOR] = vendor;
    eqRows[w + EQ_FLAGS] = 0;
  }
  // tombstones: all strings null, flagged; lookups treat them as absent and do not fall through to the base
  for (const id of eqDeleted) {
    const w = eqSlot(id) * EQ_WORDS;
    eqRows[w + EQ_ID] = id;
    eqRows[w + EQ_VENDOR] = NO_VENDOR;
    eqRows[w + EQ_FLAGS] = EQ_DELETED;
  }
  // vendor names are resolved after all vendors are known (equipment may come before vendors in update order)
  for (let row = 0; row < eqCount; row++) {
    if ((row & (STEP_ROWS - 1)) === STEP_ROWS - 1) yield;
    const w = row * EQ_WORDS;
    const vendor = eqRows[w + EQ_VENDOR];
    eqRows[w + EQ_VENDOR_NAME] = vendor === NO_VENDOR ? NULL_STRING : vendorNames[vendor];
    const len =
      pool.length(eqRows[w + EQ_NAME]) +
      pool.length(eqRows[w + EQ_MODEL]) +
      pool.length(eqRows[w + EQ_SITE]) +
      pool.length(eqRows[w + EQ_REGION]);
    if (len > maxEqFields) maxEqFields = len;
  }

  // error codes keyed by (vendor index, cause_code); the `cause` object is pre-rendered whole
  const errKeys = new Map<number, number>();
  let k = 0;
  for (const c of tables.errorCodes) {
    if ((++k & (STEP_ROWS - 1)) === 0) yield;
    const key = ((internVendor(c.vendorId) << 16) | c.causeCode) >>> 0;
    errKeys.set(key, pool.literal(JSON.stringify({ label: c.label, severity: c.severity, category: c.category })));
  }
  for (const c of overlay?.deletedErrorCodes ?? []) errKeys.set(((internVendor(c.vendorId) << 16) | c.causeCode) >>> 0, ERR_DELETED);
  let maxCauseJson = 4;
  for (const id of errKeys.values()) if (id !== ERR_DELETED) maxCauseJson = Math.max(maxCauseJson, pool.length(id));

  // interventions sorted by (equipment, start, input order); the `maintenance` object is pre-rendered whole
  const ivIn = tables.interventions;
  const byTicket = new Map<string, number>();
  for (let i = 0; i < ivIn.length; i++) byTicket.set(ivIn[i].ticket, i);
  const ivOrder = [...byTicket.values()].sort(
    (a, b) => ivIn[a].equipmentId - ivIn[b].equipmentId || ivIn[a].startMs - ivIn[b].startMs || a - b,
  );
  const ivJson = ivOrder.map((i) => pool.literal(JSON.stringify({ ticket: ivIn[i].ticket, kind: ivIn[i].kind })));
  let maxMaintJson = 4;
  for (const id of ivJson) maxMaintJson = Math.max(maxMaintJson, pool.length(id));
  let ivEquipment = 0;
  const ivListed = new Set<number>();
  for (let k = 0; k < ivOrder.length; k++) {
    if (k === 0 || ivIn[ivOrder[k]].equipmentId !== ivIn[ivOrder[k - 1]].equipmentId) ivEquipment++;
    if (overlay !== undefined) ivListed.add(ivIn[ivOrder[k]].equipmentId);
  }
  // an overlay owns these equipment's lists; those now empty get a slot with no rows
  const ivEmpty = (overlay?.interventionEquipment ?? []).filter((id) => !ivListed.has(id));
  let maxVendorJson = 4;
  for (const id of vendorNames) maxVendorJson = Math.max(maxVendorJson, pool.length(id));

  const counts: Counts = {
    eq: eqCount,
    eqCap,
    vendors: vendorIds.length,
    err: errKeys.size,
    errCap: capacityFor(errKeys.size),
    iv: ivOrder.length,
    ivCap: capacityFor(ivEquipment + ivEmpty.length),
    strings: 0,
    poolBytes: 0,
  };
  const vendorIdStrings = vendorIds.map((id) => pool.string(id));
  counts.strings = pool.count;
  counts.poolBytes = pool.used;
  const l = layoutOf(counts);
  const sab = new SharedArrayBuffer(l.total);
  const u32 = new Uint32Array(sab);
  const f64 = new Float64Array(sab);
  const u8 = new Uint8Array(sab);

  u32[H_MAGIC] = MAGIC;
  u32[H_LAYOUT] = LAYOUT_VERSION;
  u32[H_VERSION] = version;
  u32[H_EQ_COUNT] = counts.eq;
  u32[H_EQ_CAP] = counts.eqCap;
  u32[H_VENDOR_COUNT] = counts.vendors;
  u32[H_ERR_COUNT] = counts.err;
  u32[H_ERR_CAP] = counts.errCap;
  u32[H_IV_COUNT] = counts.iv;
  u32[H_IV_CAP] = counts.ivCap;
  u32[H_STR_COUNT] = counts.strings;
  u32[H_POOL_BYTES] = counts.poolBytes;
  u32[H_MAX_EQ_JSON] = EQUIPMENT_JSON_FRAME + maxEqFields + maxVendorJson;
  u32[H_MAX_EQ_FIELDS_JSON] = EQUIPMENT_JSON_FRAME + maxEqFields;
  u32[H_MAX_VENDOR_JSON] = maxVendorJson;
  u32[H_FLAGS] = overlay === undefined ? 0 : FLAG_OVERLAY;
  u32[H_MAX_CAUSE_JSON] = maxCauseJson;
  u32[H_MAX_MAINT_JSON] = maxMaintJson;

  u32.set(eqRows.subarray(0, eqCount * EQ_WORDS), l.eqRows / 4);
  u32.set(eqHash, l.eqHash / 4);
  for (let v = 0; v < vendorIds.length; v++) {
    u32[l.vendors / 4 + v * 2] = vendorIdStrings[v];
    u32[l.vendors / 4 + v * 2 + 1] = vendorNames[v];
  }

  const errShift = shiftFor(counts.errCap);
  let errRow = 0;
  for (const [key, json] of errKeys) {
    u32[l.errRows / 4 + errRow * ERR_WORDS + ERR_KEY] = key;
    u32[l.errRows / 4 + errRow * ERR_WORDS + ERR_JSON] = json;
    let s = slotOf(key, errShift);
    while (u32[l.errHash / 4 + s * 2 + 1] !== 0) s = (s + 1) & (counts.errCap - 1);
    u32[l.errHash / 4 + s * 2] = key;
    u32[l.errHash / 4 + s * 2 + 1] = errRow + 1;
    errRow++;
  }

  const ivShift = shiftFor(counts.ivCap);
  let slot = -1;
  for (let k = 0; k < ivOrder.length; k++) {
    const iv = ivIn[ivOrder[k]];
    u32[l.ivRows / 4 + k * IV_WORDS + IV_EQUIPMENT] = iv.equipmentId;
    u32[l.ivRows / 4 + k * IV_WORDS + IV_JSON] = ivJson[k];
    f64[l.ivStart / 8 + k] = iv.startMs;
    f64[l.ivEnd / 8 + k] = iv.endMs;
    if (k === 0 || iv.equipmentId !== ivIn[ivOrder[k - 1]].equipmentId) {
      let s = slotOf(iv.equipmentId, ivShift);
      while (u32[l.ivHash / 4 + s * 4 + 1] !== 0) s = (s + 1) & (counts.ivCap - 1);
      slot = l.ivHash / 4 + s * 4;
      u32[slot] = iv.equipmentId;
      u32[slot + 1] = k + 1;
    }
    u32[slot + 2]++;
  }
  for (const id of ivEmpty) {
    let s = slotOf(id, ivShift);
    while (u32[l.ivHash / 4 + s * 4 + 1] !== 0) s = (s + 1) & (counts.ivCap - 1);
    u32[l.ivHash / 4 + s * 4] = id;
    u32[l.ivHash / 4 + s * 4 + 1] = ivOrder.length + 1;
  }

  u32.set(pool.starts.subarray(0, counts.strings + 1), l.strStart / 4);
  u8.set(pool.bytes.subarray(0, counts.poolBytes), l.pool);
  return new Snapshot(sab);
}

/** Loads a reference-data directory (csv-tables.ts) and compiles it; throws RefDataError naming file, row and column. */
export function loadSnapshot(dir: string, options: SnapshotOptions = {}): Snapshot {
  return buildSnapshot(loadRefTables(dir), options);
}

/** Opens a snapshot built elsewhere (typically in a worker, from the SharedArrayBuffer posted to it). */
export function openSnapshot(sab: SharedArrayBuffer): Snapshot {
  return new Snapshot(sab);
}

const decoder = new TextDecoder();

/**
 * A read-only view of a snapshot. Lookups take numbers and return row indexes (-1 when absent) and allocate nothing;
 * the public word bases let the record serializer read rows straight from `u32`, `f64` and `bytes`.
 */
export class Snapshot {
  readonly buffer: SharedArrayBuffer;
  readonly version: number;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  readonly bytes: Uint8Array;
  /** the same bytes for reads four at a time (the record serializer copies literals a word a load) */
  readonly view: DataView;
  readonly equipmentCount: number;
  readonly vendorCount: number;
  readonly errorCodeCount: number;
  readonly interventionCount: number;
  readonly stringCount: number;
  /** Largest `equipment`, `cause` and `maintenance` JSON values in bytes (for output buffer sizing). */
  readonly maxEquipmentJson: number;
  readonly maxCauseJson: number;
  readonly maxMaintenanceJson: number;
  /** Largest `equipment` value without its vendor literal, and largest vendor-name literal (vendor names resolved at write time). */
  readonly maxEquipmentFieldsJson: number;
  readonly maxVendorJson: number;
  /** An overlay of live changes (tombstones possible), not a whole base. */
  readonly isOverlay: boolean;
  /** u32 word index of equipment row 0 */
  readonly eqBase: number;
  readonly vendorBase: number;
  readonly errBase: number;
  readonly ivBase: number;
  /** f64 index of interventions' start and end times */
  readonly ivStartBase: number;
  readonly ivEndBase: number;
  /** u32 word index of the string start offsets */
  readonly strBase: number;
  /** byte offset of the pool; string offsets are relative to it */
  readonly poolBase: number;
  private readonly eqHash: number;
  private readonly eqMask: number;
  private readonly eqShift: number;
  private readonly errHash: number;
  private readonly errMask: number;
  private readonly errShift: number;
  private readonly ivHash: number;
  private readonly ivMask: number;
  private readonly ivShift: number;
  private vendorIds: Map<string, number> | undefined;
  private layout: Uint32Array | undefined;

  constructor(sab: SharedArrayBuffer) {
    const u32 = new Uint32Array(sab);
    if (sab.byteLength < HEADER_WORDS * 4 || u32[H_MAGIC] !== MAGIC || u32[H_LAYOUT] !== LAYOUT_VERSION) {
      throw new LuxError('E_INTERNAL', 'not a reference-data snapshot of this layout version');
    }
    const c: Counts = {
      eq: u32[H_EQ_COUNT],
      eqCap: u32[H_EQ_CAP],
      vendors: u32[H_VENDOR_COUNT],
      err: u32[H_ERR_COUNT],
      errCap: u32[H_ERR_CAP],
      iv: u32[H_IV_COUNT],
      ivCap: u32[H_IV_CAP],
      strings: u32[H_STR_COUNT],
      poolBytes: u32[H_POOL_BYTES],
    };
    const l = layoutOf(c);
    if (l.total !== sab.byteLength) throw new LuxError('E_INTERNAL', 'snapshot size does not match its header');
    this.buffer = sab;
    this.u32 = u32;
    this.f64 = new Float64Array(sab);
    this.bytes = new Uint8Array(sab);
    this.view = new DataView(sab);
    this.version = u32[H_VERSION];
    this.equipmentCount = c.eq;
    this.vendorCount = c.vendors;
    this.errorCodeCount = c.err;
    this.interventionCount = c.iv;
    this.stringCount = c.strings;
    this.maxEquipmentJson = u32[H_MAX_EQ_JSON];
    this.maxCauseJson = u32[H_MAX_CAUSE_JSON];
    this.maxMaintenanceJson = u32[H_MAX_MAINT_JSON];
    this.maxEquipmentFieldsJson = u32[H_MAX_EQ_FIELDS_JSON];
    this.maxVendorJson = u32[H_MAX_VENDOR_JSON];
    this.isOverlay = (u32[H_FLAGS] & FLAG_OVERLAY) !== 0;
    this.eqBase = l.eqRows / 4;
    this.vendorBase = l.vendors / 4;
    this.errBase = l.errRows / 4;
    this.ivBase = l.ivRows / 4;
    this.ivStartBase = l.ivStart / 8;
    this.ivEndBase = l.ivEnd / 8;
    this.strBase = l.strStart / 4;
    this.poolBase = l.pool;
    this.eqHash = l.eqHash / 4;
    this.eqMask = c.eqCap - 1;
    this.eqShift = shiftFor(c.eqCap);
    this.errHash = l.errHash / 4;
    this.errMask = c.errCap - 1;
    this.errShift = shiftFor(c.errCap);
    this.ivHash = l.ivHash / 4;
    this.ivMask = c.ivCap - 1;
    this.ivShift = shiftFor(c.ivCap);
  }

  /**
   * The table offsets and hash parameters the native record serializer (native/record_json.c) reads this snapshot by,
   * in its `S_*` order; made once.
   */
  layoutWords(): Uint32Array {
    this.layout ??= Uint32Array.of(
      this.eqBase, this.eqHash, this.eqMask, this.eqShift, this.vendorBase, this.vendorCount, this.errBase, this.errHash,
      this.errMask, this.errShift, this.ivBase, this.ivStartBase, this.ivEndBase, this.ivHash, this.ivMask, this.ivShift,
      this.interventionCount, this.strBase, this.poolBase, this.stringCount,
    );
    return this.layout;
  }

  /** Row of an equipment_id (u32), or -1. */
  equipmentRow(equipmentId: number): number {
    const u32 = this.u32;
    let s = slotOf(equipmentId, this.eqShift);
    for (;;) {
      const w = this.eqHash + s * 2;
      const v = u32[w + 1];
      if (v === 0) return -1;
      if (u32[w] === equipmentId) return v - 1;
      s = (s + 1) & this.eqMask;
    }
  }

  /** Whether an equipment row is a tombstone (overlays only). */
  equipmentDeleted(row: number): boolean {
    return (this.u32[this.eqBase + row * EQ_WORDS + EQ_FLAGS] & EQ_DELETED) !== 0;
  }

  /** Whether an error-code row is a tombstone (overlays only). */
  errorCodeDeleted(row: number): boolean {
    return this.u32[this.errBase + row * ERR_WORDS + ERR_JSON] === ERR_DELETED;
  }

  /** String id of a vendor index's name (NULL_STRING for NO_VENDOR or an index beyond this snapshot's vendors). */
  vendorNameId(vendor: number): number {
    return vendor < this.vendorCount ? this.u32[this.vendorBase + vendor * 2 + 1] : NULL_STRING;
  }

  /** Vendor index of an equipment row, or NO_VENDOR. */
  equipmentVendor(row: number): number {
    return this.u32[this.eqBase + row * EQ_WORDS + EQ_VENDOR];
  }

  /** Row of the error code (vendor index, cause_code), or -1. */
  errorCodeRow(vendor: number, causeCode: number): number {
    if (vendor === NO_VENDOR) return -1;
    const key = ((vendor << 16) | causeCode) >>> 0;
    const u32 = this.u32;
    let s = slotOf(key, this.errShift);
    for (;;) {
      const w = this.errHash + s * 2;
      const v = u32[w + 1];
      if (v === 0) return -1;
      if (u32[w] === key) return v - 1;
      s = (s + 1) & this.errMask;
    }
  }

  /** Row of the intervention on this equipment with start <= timeMs < end (latest start; on a tie the later input row), or -1. */
  interventionAt(equipmentId: number, timeMs: number): number {
    const r = this.interventionLookup(equipmentId, timeMs);
    return r < 0 ? -1 : r;
  }

  /** As `interventionAt`, but -2 when this snapshot holds no list at all for the equipment (an overlay then defers to its base). */
  interventionLookup(equipmentId: number, timeMs: number): number {
    const u32 = this.u32;
    let s = slotOf(equipmentId, this.ivShift);
    let first = -1;
    let count = 0;
    for (;;) {
      const w = this.ivHash + s * 4;
      const v = u32[w + 1];
      if (v === 0) return -2;
      if (u32[w] === equipmentId) {
        first = v - 1;
        count = u32[w + 2];
        break;
      }
      s = (s + 1) & this.ivMask;
    }
    const f64 = this.f64;
    const starts = this.ivStartBase;
    // last row whose start <= timeMs
    let lo = first;
    let hi = first + count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (f64[starts + mid] <= timeMs) lo = mid + 1;
      else hi = mid;
    }
    for (let r = lo - 1; r >= first; r--) {
      if (timeMs < f64[this.ivEndBase + r]) return r;
    }
    return -1;
  }

  /** Vendor index of a vendor_id string, or NO_VENDOR (not for the hot path: builds a map on first use). */
  vendorIndex(vendorId: string): number {
    if (this.vendorIds === undefined) {
      this.vendorIds = new Map();
      for (let v = 0; v < this.vendorCount; v++) this.vendorIds.set(JSON.parse(this.stringJson(this.u32[this.vendorBase + v * 2])), v);
    }
    return this.vendorIds.get(vendorId) ?? NO_VENDOR;
  }

  /** vendor_id of every vendor index, in index order (allocates; a base's order seeds its overlays and the next base). */
  vendorIdList(): string[] {
    const ids: string[] = [];
    for (let v = 0; v < this.vendorCount; v++) ids.push(JSON.parse(this.stringJson(this.u32[this.vendorBase + v * 2])) as string);
    return ids;
  }

  /** Byte offset in `bytes` and byte length of a string literal. */
  stringStart(id: number): number {
    return this.poolBase + this.u32[this.strBase + id];
  }
  stringLength(id: number): number {
    return this.u32[this.strBase + id + 1] - this.u32[this.strBase + id];
  }

  /** A string id's JSON literal as text (allocates; for alarms, tools and tests). */
  stringJson(id: number): string {
    const start = this.stringStart(id);
    return decoder.decode(this.bytes.slice(start, start + this.stringLength(id)));
  }

  /** The `equipment` JSON value of a row, or `null` for -1 (allocates; for alarms, tools and tests). */
  equipmentJson(row: number): string {
    if (row < 0) return 'null';
    const w = this.eqBase + row * EQ_WORDS;
    const s = (k: number): string => this.stringJson(this.u32[w + k]);
    return `{"name":${s(EQ_NAME)},"model":${s(EQ_MODEL)},"vendor":${s(EQ_VENDOR_NAME)},"site":${s(EQ_SITE)},"region":${s(EQ_REGION)}}`;
  }

  /** The `cause` JSON value of an error-code row, or `null` for -1. */
  causeJson(row: number): string {
    return row < 0 ? 'null' : this.stringJson(this.u32[this.errBase + row * ERR_WORDS + ERR_JSON]);
  }

  /** The `maintenance` JSON value of an intervention row, or `null` for -1. */
  maintenanceJson(row: number): string {
    return row < 0 ? 'null' : this.stringJson(this.u32[this.ivBase + row * IV_WORDS + IV_JSON]);
  }
}

/** Stamps a snapshot not yet published with its version (a sliced build learns its number only when it ends). */
export function withVersion(snapshot: Snapshot, version: number): Snapshot {
  new Uint32Array(snapshot.buffer)[H_VERSION] = version;
  return new Snapshot(snapshot.buffer);
}
