// The native KPI batch partials (native/kpi_partials.c): the bytes BatchPartials.finish writes, a slot folded in one call; loaded per thread, checked against this build's layout.
//
// The decode worker folds each slot through it when it loads (pipeline.native_kpis, default on), else through
// BatchPartials; the tests hold both to the same bytes. The C side reads the decoded records in place in the
// decoder's memory and keeps its tables between batches. Region and vendor stay resolved here, by EquipmentKeys (overlay
// first, tombstones, interning): a record whose equipment the C cache does not hold returns the call, this side looks
// it up, hands over the result and any string newly interned for it (UTF-8 bytes and shard hashes), and the call
// resumes at that record — once per equipment per reference version, never per record.
import { loadAddon, sameLayout, type AddonLoad } from '../native-addon.js';
import * as L from '../decode/layout.js';
import type { SlotGeometry } from '../decode/layout.js';
import type { Reference } from '../enrich/reference.js';
import { checkPartialsOptions, MAX_PARTITION, type BatchPartialsOptions, type PartialsAccumulator } from './batch-partials.js';
import { EquipmentKeys } from './equipment-keys.js';
import * as M from './measures.js';
import { DIM_CELL, DIM_EQUIPMENT, DIM_REGION, DIM_VENDOR, dimensionCode } from './names.js';
import { BATCH_MAGIC, PARTIALS_VERSION } from './partials-codec.js';
import { KpiUsageError } from './errors.js';

/** An accumulator's state in C (an external value). */
type Handle = object;

interface KpiPartialsAddon {
  create(windowMs: number, shards: number, dimensions: number): Handle;
  /** a status: DONE, MISS (io[AT_MESSAGE], io[AT_RECORD], io[EQUIPMENT]) or PARTITION (io[PARTITION]) */
  addSlot(h: Handle, u32: Uint32Array, msgPtr: number, recPtr: number, count: number, io: Uint32Array): number;
  addRecords(h: Handle, u32: Uint32Array, recWord: number, count: number, partition: number, io: Uint32Array): number;
  define(h: Handle, equipmentId: number, regionId: number, vendorId: number): void;
  string(h: Handle, utf8: Uint8Array, regionHash: number, vendorHash: number): void;
  forget(h: Handle, strings: number): void;
  /** a Buffer over an ArrayBuffer of its own (transferable) */
  finish(h: Handle): Uint8Array;
  reset(h: Handle): void;
  byteSize(h: Handle): number;
  /** the layout the addon was compiled with, in LAYOUT's order */
  layout: number[];
}

/** The `io` words and statuses of kpi_partials.c. */
const IO_WORDS = 7;
const IO = { fromMessage: 0, fromRecord: 1, atMessage: 2, atRecord: 3, equipment: 4, partition: 5, records: 6 } as const;
const DONE = 0;
const MISS = 1;

/** What kpi_partials.c compiled in, in its `layout` order: it must equal this build's, or the addon is not used. */
const LAYOUT = [
  L.MSG_WORDS, L.M_REASON, L.M_FIRST, L.M_COUNT, L.M_PARTITION, L.REC_WORDS, L.R_TIME_F64, L.R_EQUIPMENT, L.R_CELL,
  L.R_BYTES_UP, L.R_BYTES_DOWN, L.R_CODES, L.R_CAUSE_SETUP, L.R_RSRP, L.F_RSRP, L.F_SETUP_LATENCY, M.ATTACH,
  M.SESSION_START, M.HANDOVER, M.RADIO_LINK_FAILURE, M.CALL_DROP, M.M_RECORDS, M.M_FAILURES, M.M_ATTACH_ATTEMPTS,
  M.M_ATTACH_SUCCESSES, M.M_SESSION_ATTEMPTS, M.M_SESSION_SUCCESSES, M.M_HANDOVER_ATTEMPTS, M.M_HANDOVER_SUCCESSES,
  M.M_CALL_DROPS, M.M_RADIO_LINK_FAILURES, M.M_RSRP_COUNT, M.M_RSRP_SUM, M.M_RSRP_MIN, M.M_BYTES_UP, M.M_BYTES_DOWN,
  M.MEASURES, DIM_CELL, DIM_EQUIPMENT, DIM_REGION, DIM_VENDOR, BATCH_MAGIC, PARTIALS_VERSION, MAX_PARTITION, IO_WORDS,
];

const utf8 = new TextEncoder();

/** The addon, or why it is not used. */
export type KpiPartialsLoad = AddonLoad<KpiPartialsAddon>;

let loaded: KpiPartialsLoad | undefined;

/** The KPI partials addon for this Node's ABI, loaded once per thread; `reason` says why not (not built, another layout). */
export function loadKpiPartials(): KpiPartialsLoad {
  return (loaded ??= loadAddon<KpiPartialsAddon>('lux_kpi', sameLayout(LAYOUT, 'was built for another record or partials layout')));
}

/** BatchPartials in C: the same interface and the same bytes. */
export class NativeBatchPartials implements PartialsAccumulator {
  readonly windowMs: number;
  readonly shards: number;
  readonly keys = new EquipmentKeys();
  /** records folded into the open batch */
  records = 0;
  private readonly addon: KpiPartialsAddon;
  private readonly handle: Handle;
  private readonly io = new Uint32Array(IO_WORDS);
  private version = -1;
  /** interned strings handed to C (EquipmentKeys' ids [0, strings)) */
  private strings = 0;

  constructor(addon: KpiPartialsAddon, options: BatchPartialsOptions) {
    checkPartialsOptions(options);
    this.addon = addon;
    this.windowMs = options.windowMs;
    this.shards = options.shards;
    let dims = 0;
    for (const d of options.dimensions) dims |= 1 << dimensionCode(d);
    this.handle = addon.create(options.windowMs, options.shards, dims);
  }

  /** The reference data of the batches to come (region and vendor); a new version empties both equipment caches. */
  use(reference: Reference): void {
    this.keys.use(reference);
    if (reference.version === this.version) return;
    this.version = reference.version;
    // EquipmentKeys may have started its strings afresh: C keeps the ones that are still the same
    this.strings = Math.min(this.strings, this.keys.strings.length);
    this.addon.forget(this.handle, this.strings);
  }

  /** BatchPartials.addSlot; `u32` is read in place (it views the same bytes as `i32` and `f64`). */
  addSlot(u32: Uint32Array, _i32: Int32Array, _f64: Float64Array, geo: SlotGeometry, count: number): void {
    const io = this.io;
    io[IO.fromMessage] = 0;
    io[IO.fromRecord] = 0;
    for (;;) {
      const status = this.addon.addSlot(this.handle, u32, geo.msgPtr, geo.recPtr, count, io);
      this.records = io[IO.records];
      if (status === DONE) return;
      if (status !== MISS) throw new KpiUsageError(`raw partition ${io[IO.partition]} is outside 0..${MAX_PARTITION}`);
      this.resolve(io[IO.equipment]);
      io[IO.fromMessage] = io[IO.atMessage];
      io[IO.fromRecord] = io[IO.atRecord];
    }
  }

  /** BatchPartials.addRecords. */
  addRecords(u32: Uint32Array, _i32: Int32Array, _f64: Float64Array, recWord: number, count: number, partition: number): void {
    const io = this.io;
    io[IO.fromRecord] = 0;
    for (;;) {
      const status = this.addon.addRecords(this.handle, u32, recWord, count, partition, io);
      this.records = io[IO.records];
      if (status === DONE) return;
      if (status !== MISS) throw new KpiUsageError(`raw partition ${partition} is outside 0..${MAX_PARTITION}`);
      this.resolve(io[IO.equipment]);
      io[IO.fromRecord] = io[IO.atRecord];
    }
  }

  finish(): Uint8Array {
    const bytes = this.addon.finish(this.handle);
    this.records = 0;
    return bytes;
  }

  reset(): void {
    this.addon.reset(this.handle);
    this.records = 0;
  }

  byteSize(): number {
    return this.addon.byteSize(this.handle);
  }

  /** An equipment the C cache does not hold: resolved here, handed over with the strings interned since the last. */
  private resolve(equipmentId: number): void {
    const keys = this.keys;
    keys.lookup(equipmentId);
    for (; this.strings < keys.strings.length; this.strings++) {
      const id = this.strings;
      this.addon.string(this.handle, utf8.encode(keys.text(id)), keys.regionHash[id], keys.vendorHash[id]);
    }
    this.addon.define(this.handle, equipmentId, keys.regionId, keys.vendorId);
  }
}
