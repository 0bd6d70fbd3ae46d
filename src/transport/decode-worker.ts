// A decode worker (Piscina): decodes a slot's frames in place with the WASM decoder, enriches and serializes the records into the slot's output area.
import { workerData } from 'node:worker_threads';
import { Lxe1Decoder, type CompiledDecoder } from '../decode/wasm-decoder.js';
import { MSG_WORDS, M_COUNT, M_FIRST, M_REASON, REC_BYTES } from '../decode/layout.js';
import { openSnapshot, type Snapshot } from '../enrich/snapshot.js';
import { RecordJsonWriter } from '../enrich/record-json.js';
import { RingViews, type RingShared } from './batch-ring.js';
import type { DecodeResult, DecodeTask } from './decode-task.js';

interface DecodeWorkerData {
  ring: RingShared;
  decoder: CompiledDecoder;
  snapshot: SharedArrayBuffer;
}

const data = workerData as DecodeWorkerData;
const views = new RingViews(data.ring);
const decoder = new Lxe1Decoder(data.ring.memory, data.decoder);
let snapshot: Snapshot = openSnapshot(data.snapshot);
let snapshotBuffer = data.snapshot;
const writer = new RecordJsonWriter(snapshot, data.ring.memory.buffer);

export default function decodeBatch(task: DecodeTask): DecodeResult {
  if (task.snapshot !== snapshotBuffer) {
    // A new reference-data version: every record of this pass is enriched against it, none against a mix.
    snapshot = openSnapshot(task.snapshot);
    snapshotBuffer = task.snapshot;
    writer.use(snapshot);
  }
  const geo = views.slots[task.slot];
  const out = views.outputs[task.slot];
  const u32 = views.u32;
  const json = views.json[task.slot];
  const outU32 = views.outU32;
  const t0 = process.hrtime.bigint();
  let decoded = 0;
  if (task.decode) {
    decoded = decoder.decode(geo, task.count);
  }
  const t1 = process.hrtime.bigint();

  let pos = 0;
  let written = 0;
  let m = task.from;
  let r = task.fromRecord;
  let full = false;
  for (; m < task.count && !full; m++, r = 0) {
    const row = (geo.msgPtr >>> 2) + m * MSG_WORDS;
    if (u32[row + M_REASON] !== 0) continue;
    const first = u32[row + M_FIRST];
    const count = u32[row + M_COUNT];
    for (; r < count; r++) {
      const next = writer.write(geo.recPtr + (first + r) * REC_BYTES, json, pos);
      if (next < 0) {
        full = true;
        break;
      }
      pos = next;
      outU32[out.endsIndex + written] = pos;
      written++;
    }
    if (full) break;
  }
  if (full && written === 0) {
    throw new Error(`the output area of slot ${task.slot} (${out.jsonBytes} bytes) cannot hold one record; raise pipeline.batch_max_bytes`);
  }
  const t2 = process.hrtime.bigint();
  return {
    slot: task.slot,
    done: m,
    doneRecord: full ? r : 0,
    records: written,
    decoded,
    snapshotVersion: task.snapshotVersion,
    decodeNs: Number(t1 - t0),
    enrichNs: Number(t2 - t1),
  };
}
