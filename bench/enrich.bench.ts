// Benchmark: enrich + serialize decoded records — the native slot writer (the daemon's), the JavaScript byte writer — against the JSON.stringify baseline.
//
// Run: npm run build && node dist/bench/enrich.bench.js [equipmentCount]
// Record slots are filled from JS per src/decode/layout.ts (no WASM needed), so this measures enrichment alone.
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import {
  F_APN,
  F_IMSI,
  F_RSRP,
  F_TARGET_CELL,
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
  REC_BYTES,
  MSG_BYTES,
  MSG_WORDS,
  M_COUNT,
  M_FIRST,
  type SlotGeometry,
} from '../src/decode/layout.js';
import type { RefTables } from '../src/enrich/csv-tables.js';
import { RecordJsonWriter, recordJsonCapacity, type SlotWriter } from '../src/enrich/record-json.js';
import { loadRecordJson, NativeRecordJsonWriter } from '../src/enrich/native-record-json.js';
import { ReferenceEnricher } from './baseline/json-enricher.js';
import { buildSnapshot } from '../src/enrich/snapshot.js';
import type { MicroCase } from './micro-case.js';

const BATCH = 10_000;
const VENDORS = ['nokia', 'ericsson', 'huawei', 'samsung'];

function syntheticTables(n: number): RefTables {
  const T = Date.UTC(2024, 0, 1);
  return {
    vendors: VENDORS.map((v) => ({ vendorId: v, name: v[0].toUpperCase() + v.slice(1) })),
    equipment: Array.from({ length: n }, (_, i) => ({
      equipmentId: i + 1,
      name: `ENB-${String(i + 1).padStart(6, '0')}`,
      model: `Model-${i % 12}`,
      vendorId: VENDORS[i % 4],
      site: `Site "${Math.floor(i / 3)}"`,
      region: `Region-${i % 9}`,
    })),
    errorCodes: VENDORS.flatMap((v) =>
      Array.from({ length: 10 }, (_, c) => ({ vendorId: v, causeCode: c + 1, label: `${v} cause ${c + 1}`, severity: 'major', category: 'radio' })),
    ),
    interventions: Array.from({ length: Math.ceil(n / 20) }, (_, k) => ({
      ticket: `CHG-${k}`,
      equipmentId: k * 20 + 1,
      kind: 'upgrade',
      startMs: T,
      endMs: k % 2 === 0 ? T + 86400000 : Infinity,
    })),
  };
}

/** Fills BATCH record slots the way the decoder would: realistic mix of flags, an apn on half the records. */
function fillRecords(memory: SharedArrayBuffer, n: number): number[] {
  const u32 = new Uint32Array(memory);
  const i32 = new Int32Array(memory);
  const f64 = new Float64Array(memory);
  const u8 = new Uint8Array(memory);
  const text = BATCH * REC_BYTES;
  u8.set(Buffer.from('internet.operator.example'), text);
  u8.set([0x02, 0x08, 0x51, 0x10, 0x32, 0x54, 0x76, 0xf8], text + 32); // 208 15 01 23 45 67 8
  const ptrs: number[] = [];
  const T = Date.UTC(2024, 0, 1);
  for (let i = 0; i < BATCH; i++) {
    const ptr = i * REC_BYTES;
    const w = ptr / 4;
    f64[(ptr + R_TIME_F64 * 4) / 8] = T + i * 17_000;
    u32[w + R_EQUIPMENT] = 1 + ((i * 7919) % (n + n / 50)); // ~2% unknown equipment
    u32[w + R_FRAME_SEQ] = 100000 + i;
    u32[w + R_INDEX] = i % 16;
    u32[w + R_CELL] = 4000000 + i;
    u32[w + R_DURATION] = i % 5000;
    u32[w + R_BYTES_UP] = i * 13;
    u32[w + R_BYTES_DOWN] = i * 131;
    u32[w + R_TARGET_CELL] = 4100000 + i;
    u32[w + R_APN_PTR] = text;
    u32[w + R_APN_LEN] = 25;
    u32[w + R_IMSI_PTR] = text + 32;
    u32[w + R_IMSI_DIGITS] = 15;
    u32[w + R_CAUSE_SETUP] = i % 3 === 0 ? 1 + (i % 10) : 0;
    i32[w + R_RSRP] = -60 - (i % 60);
    const flags = F_IMSI | F_RSRP | (i % 2 === 0 ? F_APN : 0) | (i % 5 === 0 ? F_TARGET_CELL : 0);
    u32[w + R_CODES] = (1 + (i % 8)) | ((i % 3) << 8) | ((1 + (i % 5)) << 16) | (flags << 24);
    ptrs.push(ptr);
  }
  return ptrs;
}

/** The enrich + serialize benchmark as tinybench tasks, with what this file prints besides (run by `npm run bench` too). */
export function enrichCases(
  equipmentCount = 10_000,
  time = 1500,
): { cases: MicroCase[]; nativeBatch: () => void; writeBatch: () => void; referenceBatch: () => void; meanRecordBytes: () => number } {
  const tables = syntheticTables(equipmentCount);
  const snapshot = buildSnapshot(tables);
  // the records, their text, then a message table of one record a message: the slot the decode worker hands a writer
  const msgPtr = BATCH * REC_BYTES + 4096;
  const memory = new SharedArrayBuffer(msgPtr + BATCH * MSG_BYTES);
  const ptrs = Int32Array.from(fillRecords(memory, equipmentCount));
  const table = new Uint32Array(memory, msgPtr, BATCH * MSG_WORDS);
  for (let i = 0; i < BATCH; i++) {
    table[i * MSG_WORDS + M_FIRST] = i;
    table[i * MSG_WORDS + M_COUNT] = 1;
  }
  const geo = { msgPtr, recPtr: 0 } as SlotGeometry;
  const ends = new Uint32Array(BATCH);
  const writer = new RecordJsonWriter(snapshot, memory);
  const load = loadRecordJson();
  if (load.addon === undefined) throw new Error(`the native record serializer: ${load.reason}`);
  const native = new NativeRecordJsonWriter(load.addon, snapshot, memory);
  const reference = new ReferenceEnricher(tables);
  const out = new Uint8Array(4 << 20);
  const capacity = recordJsonCapacity(snapshot);
  let sink = 0;

  function writeBatch(): void {
    let pos = 0;
    for (let i = 0; i < ptrs.length; i++) {
      if (pos + capacity > out.length) pos = 0; // stands in for a flush
      pos = writer.write(ptrs[i], out, pos);
      out[pos++] = 10;
    }
    sink += pos;
  }

  /** A slot of BATCH messages through `writeSlot`, resumed where the output fills (stands in for a flush). */
  function slotBatch(w: SlotWriter): void {
    let from = 0;
    let fromRecord = 0;
    while (from < BATCH) {
      const r = w.writeSlot(geo, BATCH, from, fromRecord, out, ends, false);
      from = r.done;
      fromRecord = r.doneRecord;
      sink += r.records;
    }
  }
  const nativeBatch = (): void => slotBatch(native);

  const encoder = new TextEncoder();
  function referenceBatch(): void {
    let pos = 0;
    for (let i = 0; i < ptrs.length; i++) {
      if (pos + capacity > out.length) pos = 0;
      pos += encoder.encodeInto(reference.recordJson(memory, ptrs[i]), out.subarray(pos)).written;
      out[pos++] = 10;
    }
    sink += pos;
  }

  const bench = new Bench({ name: `enrich + serialize, ${BATCH} records per op, ${equipmentCount} equipment`, time });
  bench.add('NativeRecordJsonWriter.writeSlot (C, the daemon\'s)', nativeBatch);
  bench.add('RecordJsonWriter.write (JavaScript bytes)', writeBatch);
  bench.add('ReferenceEnricher (object + JSON.stringify + encodeInto)', referenceBatch);
  function meanRecordBytes(): number {
    let bytes = 0;
    for (let i = 0; i < ptrs.length; i++) bytes += writer.write(ptrs[i], out, 0) + 1;
    // `sink` keeps the written bytes observable, so the writes are not optimised away
    return sink >= 0 ? bytes / BATCH : NaN;
  }
  return { cases: [{ group: 'enrich + serialize', bench, perOp: BATCH, unit: 'records', note: `${equipmentCount} equipment` }], nativeBatch, writeBatch, referenceBatch, meanRecordBytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { cases: [{ bench }], nativeBatch, writeBatch, referenceBatch, meanRecordBytes } = enrichCases(Number(process.argv[2] ?? 10_000));
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as { latency?: { mean: number } };
    const meanMs = r.latency?.mean ?? NaN;
    console.log(`${task.name}: ${((BATCH / meanMs) * 1000).toFixed(0)} records/s (${((meanMs * 1e6) / BATCH).toFixed(0)} ns/record)`);
  }
  // the machine may be shared: CPU time of this thread's process is a steadier figure than wall time
  for (const [name, fn] of [['NativeRecordJsonWriter', nativeBatch], ['RecordJsonWriter', writeBatch], ['ReferenceEnricher', referenceBatch]] as const) {
    const runs = name === 'ReferenceEnricher' ? 20 : 100;
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < runs; r++) fn();
    const cpu = process.cpuUsage(cpu0);
    const sec = (cpu.user + cpu.system) / 1e6;
    console.log(`${name}: ${((runs * BATCH) / sec).toFixed(0)} records per CPU second`);
  }
  console.log(`mean record size ${meanRecordBytes().toFixed(0)} bytes`);
}
