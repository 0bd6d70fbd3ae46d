// The native record serializer (native/record_json.c): the bytes RecordJsonWriter writes, a whole slot in one call; loaded per thread, checked against this build's layout.
//
// The decode worker writes each slot's JSON through it when it loads (pipeline.native_json, default on), else through
// RecordJsonWriter; the tests hold both to JSON.stringify's bytes. It reads the decoder's shared memory, the
// snapshot's SharedArrayBuffers and record-json.ts's constants in place and writes into the slot's output area: no copy
// and no allocation per record, one N-API call a slot.
import { loadAddon, sameLayout, type AddonLoad } from '../native-addon.js';
import * as L from '../decode/layout.js';
import type { SlotGeometry } from '../decode/layout.js';
import {
  EQ_DELETED, EQ_FLAGS, EQ_MODEL, EQ_NAME, EQ_REGION, EQ_SITE, EQ_VENDOR, EQ_WORDS, ERR_DELETED, ERR_JSON, ERR_WORDS,
  IV_JSON, IV_WORDS, NO_VENDOR, NULL_STRING, Snapshot,
} from './snapshot.js';
import { Reference } from './reference.js';
import { RECORD_JSON_CONSTANTS, RECORD_JSON_FIXED_BYTES, type SlotWrite, type SlotWriter } from './record-json.js';

interface RecordJsonAddon {
  writeSlot(
    mem: Uint8Array, consts: Uint8Array, constAt: Uint32Array, base: Uint8Array, baseWords: Uint32Array,
    overlay: Uint8Array | null, overlayWords: Uint32Array | null, out: Uint8Array, ends: Uint32Array, io: Uint32Array,
  ): void;
  /** the layout the addon was compiled with, in LAYOUT's order */
  layout: number[];
}

/** Words of Snapshot.layoutWords(), constants before the enum combinations, and `io` words (the C file's S_WORDS, K_ENUMS, IO_WORDS). */
const S_WORDS = 20;
const K_ENUMS = 23;
const IO_WORDS = 15;
const IO = {
  msgPtr: 0, recPtr: 1, count: 2, from: 3, fromRecord: 4, wrap: 5, fixedBytes: 6, maxRefJson: 7, types: 8, results: 9,
  rats: 10, done: 11, doneRecord: 12, records: 13, full: 14,
} as const;

/** What record_json.c compiled in, in its `layout` order: it must equal this build's, or the addon is not used. */
const LAYOUT = [
  L.MSG_WORDS, L.M_REASON, L.M_FIRST, L.M_COUNT, L.REC_WORDS, L.R_TIME_F64, L.R_EQUIPMENT, L.R_FRAME_SEQ, L.R_INDEX,
  L.R_CELL, L.R_DURATION, L.R_BYTES_UP, L.R_BYTES_DOWN, L.R_TARGET_CELL, L.R_APN_PTR, L.R_APN_LEN, L.R_VD_PTR, L.R_VD_LEN,
  L.R_IMSI_PTR, L.R_IMSI_DIGITS, L.R_CODES, L.R_CAUSE_SETUP, L.R_RSRP, L.F_APN, L.F_RSRP, L.F_TARGET_CELL,
  L.F_SETUP_LATENCY, L.F_VENDOR_DETAIL, L.F_IMSI, EQ_WORDS, EQ_NAME, EQ_MODEL, EQ_SITE, EQ_REGION, EQ_VENDOR, EQ_FLAGS,
  EQ_DELETED, NO_VENDOR, ERR_WORDS, ERR_JSON, ERR_DELETED, IV_WORDS, IV_JSON, NULL_STRING, S_WORDS, K_ENUMS, IO_WORDS,
];

/** The addon, or why it is not used. */
export type RecordJsonLoad = AddonLoad<RecordJsonAddon>;

let loaded: RecordJsonLoad | undefined;

/** The serializer addon for this Node's ABI, loaded once per thread; `reason` says why not (not built, another layout). */
export function loadRecordJson(): RecordJsonLoad {
  return (loaded ??= loadAddon<RecordJsonAddon>('lux_json', sameLayout(LAYOUT, 'was built for another record layout')));
}

/** RecordJsonWriter's `writeSlot` in C. Bind it to the decoder's memory; swap reference data between slots with `use`. */
export class NativeRecordJsonWriter implements SlotWriter {
  private readonly addon: RecordJsonAddon;
  private readonly mem: Uint8Array;
  private readonly io = new Uint32Array(IO_WORDS);
  private base!: Snapshot;
  private overlay: Snapshot | null = null;

  constructor(addon: RecordJsonAddon, reference: Snapshot | Reference, memory: ArrayBufferLike) {
    this.addon = addon;
    this.mem = new Uint8Array(memory);
    this.io[IO.fixedBytes] = RECORD_JSON_FIXED_BYTES;
    this.io[IO.types] = RECORD_JSON_CONSTANTS.types;
    this.io[IO.results] = RECORD_JSON_CONSTANTS.results;
    this.io[IO.rats] = RECORD_JSON_CONSTANTS.rats;
    this.use(reference);
  }

  use(reference: Snapshot | Reference): void {
    const r = reference instanceof Snapshot ? new Reference(reference) : reference;
    this.base = r.base;
    this.overlay = r.overlay;
    this.io[IO.maxRefJson] = r.maxEquipmentJson + r.maxCauseJson + r.maxMaintenanceJson;
  }

  writeSlot(geo: SlotGeometry, count: number, from: number, fromRecord: number, out: Uint8Array, ends: Uint32Array, wrap: boolean): SlotWrite {
    const io = this.io;
    io[IO.msgPtr] = geo.msgPtr;
    io[IO.recPtr] = geo.recPtr;
    io[IO.count] = count;
    io[IO.from] = from;
    io[IO.fromRecord] = fromRecord;
    io[IO.wrap] = wrap ? 1 : 0;
    const ov = this.overlay;
    this.addon.writeSlot(
      this.mem, RECORD_JSON_CONSTANTS.bytes, RECORD_JSON_CONSTANTS.at, this.base.bytes, this.base.layoutWords(),
      ov === null ? null : ov.bytes, ov === null ? null : ov.layoutWords(), out, ends, io,
    );
    return { done: io[IO.done], doneRecord: io[IO.doneRecord], records: io[IO.records], full: io[IO.full] !== 0 };
  }
}
