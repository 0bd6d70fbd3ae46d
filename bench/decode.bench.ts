// Decode+validate throughput of the WASM LXE1 decoder against the plain DataView baseline, on 3-record frames with two TLVs per record.
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { memoryPages, slotGeometry } from '../src/decode/layout.js';
import { createDecoderMemory, fillSlot, Lxe1Decoder } from '../src/decode/wasm-decoder.js';
import { encodeFrame, type RecordInput } from '../src/gen/frame-encoder.js';
import { DataViewDecoder } from './baseline/dataview-decoder.js';
import type { MicroCase } from './micro-case.js';

const FRAMES_PER_BATCH = 1000;
const RECORDS_PER_FRAME = 3;
const RECORDS = FRAMES_PER_BATCH * RECORDS_PER_FRAME;

function batch(crc: boolean): Buffer[] {
  const frames: Buffer[] = [];
  for (let f = 0; f < FRAMES_PER_BATCH; f++) {
    const records: RecordInput[] = [];
    for (let r = 0; r < RECORDS_PER_FRAME; r++) {
      records.push({
        type: 1 + ((f + r) % 8), result: r % 3, rat: 3, eventTime: 1_700_000_000_000 + f * 10 + r, cellId: 1000 + f,
        causeCode: r, imsi: '20815012345' + String(f % 10000).padStart(4, '0'), durationMs: 120, bytesUp: 4096, bytesDown: 65536,
        apn: 'internet.mnc015.mcc208.gprs', rsrpDbm: -95,
      });
    }
    frames.push(encodeFrame({ equipmentId: 1 + (f % 500), frameSeq: f, records, crc }));
  }
  return frames;
}

let frameBytes = 0;

/** The decode benchmark as tinybench tasks (run by `npm run bench` and by this file alone). */
export function decodeCases(time = 1500): MicroCase[] {
  const slotA = slotGeometry(0, FRAMES_PER_BATCH, 1 << 20);
  const slotB = slotGeometry(1, FRAMES_PER_BATCH, 1 << 20);
  const memory = createDecoderMemory(memoryPages(2, FRAMES_PER_BATCH, 1 << 20));
  const wasm = new Lxe1Decoder(memory);
  wasm.initCrc();
  const baseline = new DataViewDecoder(memory.buffer);
  const plain = batch(false);
  const withCrc = batch(true);
  if (fillSlot(wasm, slotA, plain) !== FRAMES_PER_BATCH || fillSlot(wasm, slotB, withCrc) !== FRAMES_PER_BATCH) {
    throw new Error('the benchmark batch does not fit its slot');
  }
  frameBytes = plain.reduce((s, f) => s + f.length, 0) / FRAMES_PER_BATCH;

  function expectAll(n: number): void {
    if (n !== RECORDS) throw new Error(`decoded ${n} records, expected ${RECORDS}`);
  }

  const bench = new Bench({ time, warmup: true });
  bench
    .add('wasm, no CRC', () => expectAll(wasm.decode(slotA, FRAMES_PER_BATCH)))
    .add('dataview, no CRC', () => expectAll(baseline.decodeBatch(slotA.msgPtr, FRAMES_PER_BATCH, slotA.recPtr)))
    .add('wasm, CRC', () => expectAll(wasm.decode(slotB, FRAMES_PER_BATCH)))
    .add('dataview, CRC', () => expectAll(baseline.decodeBatch(slotB.msgPtr, FRAMES_PER_BATCH, slotB.recPtr)));
  return [{ group: 'decode', bench, perOp: RECORDS, unit: 'records', note: `batches of ${FRAMES_PER_BATCH} frames x ${RECORDS_PER_FRAME} records` }];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [{ bench }] = decodeCases();
  await bench.run();

  console.log(`LXE1 decode+validate: batches of ${FRAMES_PER_BATCH} frames x ${RECORDS_PER_FRAME} records, 2 TLVs per record, ${frameBytes} bytes/frame (+4 with CRC)`);
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') {
      console.log(`${task.name}: ${r.state}`);
      continue;
    }
    const perRecordNs = (r.period * 1e6) / RECORDS;
    const perSecond = 1e9 / perRecordNs;
    console.log(
      `${task.name.padEnd(18)} ${(perSecond / 1e6).toFixed(2).padStart(7)} M records/s  ${perRecordNs.toFixed(1).padStart(7)} ns/record  (±${r.latency.rme.toFixed(1)}%)`,
    );
  }
}
