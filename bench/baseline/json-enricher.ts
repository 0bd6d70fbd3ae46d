// The plain-object baseline of enrichment: a record as an object through JSON.stringify, looked up in Maps built from the rows, independently of the snapshot (the tests' oracle and the benchmark's baseline).
import {
  F_APN,
  F_IMSI,
  F_RSRP,
  F_SETUP_LATENCY,
  F_TARGET_CELL,
  F_VENDOR_DETAIL,
  R_APN_LEN,
  R_APN_PTR,
  R_BYTES_DOWN,
  R_BYTES_UP,
  R_CAUSE_SETUP,
  R_CELL,
  R_CODES,
  R_DURATION,
  R_EQUIPMENT,
  R_FRAME_SEQ,
  R_IMSI_DIGITS,
  R_IMSI_PTR,
  R_INDEX,
  R_RSRP,
  R_TARGET_CELL,
  R_TIME_F64,
  R_VD_LEN,
  R_VD_PTR,
} from '../../src/decode/layout.js';
import { ratName, resultName, typeName } from '../../src/decode/codes.js';
import type { RefTables } from '../../src/enrich/csv-tables.js';


/** The plain-object baseline: indexes the rows with Maps, independently of the snapshot. */
export class ReferenceEnricher {
  private readonly equipment = new Map<number, RefTables['equipment'][number]>();
  private readonly vendorNames = new Map<string, string | null>();
  private readonly causes = new Map<string, RefTables['errorCodes'][number]>();
  private readonly interventions = new Map<number, RefTables['interventions'][number][]>();
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a leading U+FEFF is text here, not a BOM

  constructor(tables: RefTables) {
    for (const e of tables.equipment) this.equipment.set(e.equipmentId, e);
    for (const v of tables.vendors) this.vendorNames.set(v.vendorId, v.name);
    for (const c of tables.errorCodes) this.causes.set(`${c.vendorId}:${c.causeCode}`, c);
    const byTicket = new Map(tables.interventions.map((i) => [i.ticket, i]));
    for (const i of byTicket.values()) {
      const list = this.interventions.get(i.equipmentId) ?? [];
      list.push(i);
      this.interventions.set(i.equipmentId, list);
    }
  }

  /** The SPEC section 3 object of the record at `recPtr` in `memory`. */
  record(memory: ArrayBufferLike, recPtr: number): Record<string, unknown> {
    const m32 = new Uint32Array(memory);
    const m8 = new Uint8Array(memory);
    const w = recPtr / 4;
    const codes = m32[w + R_CODES];
    const flags = codes >>> 24;
    const time = new Float64Array(memory)[(recPtr + R_TIME_F64 * 4) / 8];
    const equipmentId = m32[w + R_EQUIPMENT];
    const causeCode = m32[w + R_CAUSE_SETUP] & 0xffff;
    const o: Record<string, unknown> = {
      event_time: new Date(time).toISOString(),
      equipment_id: equipmentId,
      frame_seq: m32[w + R_FRAME_SEQ],
      record_index: m32[w + R_INDEX],
      type: typeName(codes & 0xff),
      result: resultName((codes >>> 8) & 0xff),
      rat: ratName((codes >>> 16) & 0xff),
      cell_id: m32[w + R_CELL],
      cause_code: causeCode,
      duration_ms: m32[w + R_DURATION],
      bytes_up: m32[w + R_BYTES_UP],
      bytes_down: m32[w + R_BYTES_DOWN],
      imsi: null,
    };
    if (flags & F_IMSI) {
      let s = '';
      const ptr = m32[w + R_IMSI_PTR];
      for (let i = 0; i < m32[w + R_IMSI_DIGITS]; i++) {
        const b = m8[ptr + (i >> 1)];
        s += String(i % 2 === 0 ? b & 15 : b >> 4);
      }
      o.imsi = s;
    }
    const text = (ptr: number, len: number): string => this.utf8.decode(m8.slice(ptr, ptr + len));
    if (flags & F_APN) o.apn = text(m32[w + R_APN_PTR], m32[w + R_APN_LEN]);
    if (flags & F_RSRP) o.rsrp_dbm = new Int32Array(memory)[w + R_RSRP];
    if (flags & F_TARGET_CELL) o.target_cell_id = m32[w + R_TARGET_CELL];
    if (flags & F_SETUP_LATENCY) o.setup_latency_ms = m32[w + R_CAUSE_SETUP] >>> 16;
    if (flags & F_VENDOR_DETAIL) o.vendor_detail = text(m32[w + R_VD_PTR], m32[w + R_VD_LEN]);
    const e = this.equipment.get(equipmentId);
    o.equipment =
      e === undefined
        ? null
        : {
            name: e.name,
            model: e.model,
            vendor: e.vendorId === null ? null : (this.vendorNames.get(e.vendorId) ?? null),
            site: e.site,
            region: e.region,
          };
    const c = e === undefined || e.vendorId === null || causeCode === 0 ? undefined : this.causes.get(`${e.vendorId}:${causeCode}`);
    o.cause = c === undefined ? null : { label: c.label, severity: c.severity, category: c.category };
    let best: RefTables['interventions'][number] | undefined;
    for (const i of this.interventions.get(equipmentId) ?? []) {
      // latest start wins; on equal starts the later input row (matches the snapshot's stable order)
      if (i.startMs <= time && time < i.endMs && (best === undefined || i.startMs >= best.startMs)) best = i;
    }
    o.maintenance = best === undefined ? null : { ticket: best.ticket, kind: best.kind };
    return o;
  }

  /** JSON.stringify of `record`. */
  recordJson(memory: ArrayBufferLike, recPtr: number): string {
    return JSON.stringify(this.record(memory, recPtr));
  }
}
