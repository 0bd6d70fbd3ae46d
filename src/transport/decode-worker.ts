// A decode worker (Piscina): decodes a slot's frames in place with the WASM decoder, enriches and serializes the records into the slot's output area.
import { workerData } from 'node:worker_threads';
import type { CompiledDecoder } from '../decode/wasm-decoder.js';
import { decoderFormat } from '../decode/registry.js';
import { TRANSPORT_INTERNALS } from '../config/internals.js';
import { MSG_WORDS, M_COUNT, M_FIRST, M_PARTITION, M_REASON, REC_WORDS } from '../decode/layout.js';
import { openReference, type ReferenceVersion } from '../enrich/reference.js';
import { RecordJsonWriter, type SlotWriter } from '../enrich/record-json.js';
import { loadRecordJson, NativeRecordJsonWriter } from '../enrich/native-record-json.js';
import { RingViews, type RingShared } from './batch-ring.js';
import type { SlotGeometry } from '../decode/layout.js';
import type { DecodeResult, DecodeTask } from './decode-task.js';
import { FeedWriter, type FeedChannel } from '../alarms/feed.js';
import { LatencyRecorder, initLatency } from '../metrics/latency.js';
import { BatchPartials, type PartialsAccumulator } from '../kpis/batch-partials.js';
import { loadKpiPartials, NativeBatchPartials } from '../kpis/native-batch-partials.js';
import type { Dimension } from '../kpis/names.js';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { nameThread, THREAD_NAMES } from '../service/thread-name.js';

/** What the worker needs to fold each batch into KPI partials (absent: KPIs off). */
export interface WorkerKpis {
  windowMs: number;
  shards: number;
  dimensions: readonly Dimension[];
}

interface DecodeWorkerData {
  ring: RingShared;
  /** the frame format (decode/registry.ts) and its module compiled on the main thread */
  format: string;
  decoder: CompiledDecoder;
  reference: ReferenceVersion;
  /** one alarm-feed ring per worker (single producer each), claimed through `alarmClaims` */
  alarmFeeds?: FeedChannel[];
  alarmClaims?: SharedArrayBuffer;
  kpis?: WorkerKpis;
  /** write the JSON through the native serializer (the main thread checked that it loads: pipeline.native_json) */
  nativeJson?: boolean;
  /** fold KPI partials through the native accumulator (the main thread checked that it loads: pipeline.native_kpis) */
  nativeKpis?: boolean;
}

nameThread(THREAD_NAMES.decode);
const data = workerData as DecodeWorkerData;
const views = new RingViews(data.ring);
const decoder = decoderFormat(data.format).create(data.ring.memory, data.decoder);
let referenceVersion = data.reference.version;
const firstReference = openReference(data.reference.base, data.reference.overlay);
const writer = slotWriter(data);
/** The native serializer when the main thread chose it, else the JavaScript one: the same bytes. */
function slotWriter(d: DecodeWorkerData): SlotWriter {
  if (d.nativeJson !== true) return new RecordJsonWriter(firstReference, d.ring.memory.buffer);
  const load = loadRecordJson();
  if (load.addon === undefined) throw new Error(`the native record serializer does not load in a decode worker: ${load.reason}`);
  return new NativeRecordJsonWriter(load.addon, firstReference, d.ring.memory.buffer);
}
/**
 * A batch's KPI accumulator on the first reference data (absent: KPIs off): the native one when the main thread chose
 * it, else the JavaScript one — the same bytes.
 */
function newPartials(d: DecodeWorkerData): PartialsAccumulator | undefined {
  const k = d.kpis;
  if (k === undefined) return undefined;
  const options = { windowMs: k.windowMs, shards: k.shards, dimensions: k.dimensions };
  let p: PartialsAccumulator;
  if (d.nativeKpis === true) {
    const load = loadKpiPartials();
    if (load.addon === undefined) throw new Error(`the native KPI batch partials do not load in a decode worker: ${load.reason}`);
    p = new NativeBatchPartials(load.addon, options);
  } else p = new BatchPartials(options);
  p.use(firstReference);
  return p;
}
const kpis = newPartials(data);
/** what a warm-up pass folds its KPI partials into: the same code, another accumulator, thrown away */
const warmKpis = newPartials(data);
const feed = claimFeed(data);
// Stage latency recorded where the work happens; shipped with a result at most every TRANSPORT_INTERNALS.latencyReportMs.
await initLatency();
const latency = new LatencyRecorder(['decode_enrich']);
// the first result reports at once, then at most every TRANSPORT_INTERNALS.latencyReportMs
let latencyReportedAt = 0;
process.on('exit', () => latency.destroy());
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Takes a free alarm-feed ring (a restarted worker takes the one its predecessor released). */
function claimFeed(d: DecodeWorkerData): FeedWriter | undefined {
  if (d.alarmFeeds === undefined || d.alarmClaims === undefined) return undefined;
  const claims = new Int32Array(d.alarmClaims);
  for (let i = 0; i < d.alarmFeeds.length; i++) {
    if (Atomics.compareExchange(claims, i, 0, 1) === 0) {
      process.on('exit', () => Atomics.store(claims, i, 0));
      return new FeedWriter(d.alarmFeeds[i]);
    }
  }
  throw new Error(`no free alarm-feed ring among ${d.alarmFeeds.length}: more decode workers than rings`);
}

/**
 * Hands the slot's decoded records to the alarm thread, then the mark that closes batch `seq`; waits (never drops)
 * while its ring is full.
 */
function feedAlarms(f: FeedWriter, geo: SlotGeometry, count: number, seq: number): void {
  const u32 = views.u32;
  const f64 = views.f64;
  for (let m = 0; m < count; m++) {
    const row = (geo.msgPtr >>> 2) + m * MSG_WORDS;
    if (u32[row + M_REASON] !== 0) continue;
    const n = u32[row + M_COUNT];
    let done = 0;
    while (done < n) {
      done += f.addDecoded(u32, f64, (geo.recPtr >>> 2) + (u32[row + M_FIRST] + done) * REC_WORDS, n - done, u32[row + M_PARTITION]);
      if (done < n && !f.flush()) Atomics.wait(pause, 0, 0, 1);
    }
  }
  while (!f.endBatch(seq)) Atomics.wait(pause, 0, 0, 1);
  while (!f.flush()) Atomics.wait(pause, 0, 0, 1);
}

export default function decodeBatch(task: DecodeTask): DecodeResult {
  if (task.reference.version !== referenceVersion) {
    // A new reference-data version: every record of this pass is enriched against it, none against a mix. (Compared
    // by number: a SharedArrayBuffer arrives as a new object with every message.)
    const reference = openReference(task.reference.base, task.reference.overlay);
    writer.use(reference);
    kpis?.use(reference);
    warmKpis?.use(reference);
    referenceVersion = task.reference.version;
  }
  const warmup = task.warmup === true;
  const partials = warmup ? warmKpis : kpis;
  const geo = views.slots[task.slot];
  const u32 = views.u32;
  const t0 = process.hrtime.bigint();
  let decoded = 0;
  let kpiBytes: Uint8Array | undefined;
  if (task.decode) {
    decoded = decoder.decode(geo, task.count);
    if (feed !== undefined && !warmup) feedAlarms(feed, geo, task.count, task.seq);
    if (partials !== undefined) {
      partials.addSlot(u32, views.i32, views.f64, geo, task.count);
      kpiBytes = partials.finish();
    }
  }
  const t1 = process.hrtime.bigint();

  const w = writer.writeSlot(geo, task.count, task.from, task.fromRecord, views.json[task.slot], views.ends[task.slot], warmup);
  if (w.full && w.records === 0) {
    throw new Error(`the output area of slot ${task.slot} (${views.outputs[task.slot].jsonBytes} bytes) cannot hold one record; raise pipeline.batch_max_bytes`);
  }
  const t2 = process.hrtime.bigint();
  const result: DecodeResult = {
    latency: undefined,
    slot: task.slot,
    done: w.done,
    doneRecord: w.doneRecord,
    records: w.records,
    decoded,
    snapshotVersion: task.reference.version,
    decodeNs: Number(t1 - t0),
    enrichNs: Number(t2 - t1),
  };
  // a warm-up pass leaves no trace: no latency recorded, its KPI partials dropped
  if (warmup) return result;
  latency.record('decode_enrich', Number(t2 - t0) / 1e6);
  const now = Date.now();
  if (now - latencyReportedAt >= TRANSPORT_INTERNALS.latencyReportMs) {
    result.latency = latency.snapshot();
    latencyReportedAt = now;
  }
  if (kpiBytes === undefined) return result;
  // the KPI partials travel back transferred (their own buffer), never copied
  result.kpis = kpiBytes;
  const transfer = kpiBytes.buffer as ArrayBuffer;
  return move({
    get [transferableSymbol]() {
      return [transfer];
    },
    get [valueSymbol]() {
      return result;
    },
  }) as unknown as DecodeResult;
}
