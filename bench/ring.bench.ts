// Benchmark: the main-thread → worker hand-off, RingViews.fill copying a consumed batch's frames into a shared-memory slot, against a plain Buffer.concat.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/ring.bench.js
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { RingViews, createRingShared } from '../src/transport/batch-ring.js';
import { TrafficModel } from '../src/gen/traffic.js';
import { DEFAULTS } from '../src/config/schema.js';
import type { MicroCase } from './micro-case.js';

/** The daemon's default batch: batch_max_messages frames in a slot of batch_max_bytes. */
const MESSAGES = DEFAULTS.pipeline.batch_max_messages;
const SLOT_BYTES = DEFAULTS.pipeline.batch_max_bytes;

/** Kafka-like messages (value + partition) with generator frames of `recordsPerFrame` records. */
function messages(recordsPerFrame: number): Array<{ value: Buffer; partition: number }> {
  const model = new TrafficModel({ seed: 7, recordsPerFrameMin: recordsPerFrame, recordsPerFrameMax: recordsPerFrame, badShare: 0, jitterMs: 0, burstEveryMs: 0 });
  const now = Date.UTC(2026, 0, 1);
  return Array.from({ length: MESSAGES }, (_, i) => ({ value: model.next(now + i).value, partition: i % 3 }));
}

/** RingViews.fill of one batch of 1-record and of 8-record frames; perOp in records. */
export function ringCases(time = 1000): MicroCase[] {
  const views = new RingViews(createRingShared({ slots: 2, maxMessages: MESSAGES, frameBytes: SLOT_BYTES, outBytes: 1024 }));
  const cases: MicroCase[] = [];
  for (const k of [1, 8]) {
    const batch = messages(k);
    const bytes = batch.reduce((s, m) => s + m.value.length, 0);
    if (views.fill(0, batch, 0) !== MESSAGES) throw new Error(`a batch of ${MESSAGES} frames (${bytes} bytes) does not fit one slot`);
    const values = batch.map((m) => m.value);
    const bench = new Bench({ time, warmup: true });
    let sink = 0;
    bench.add(`RingViews.fill, ${MESSAGES} frames x ${k} record${k > 1 ? 's' : ''} (${Math.round(bytes / MESSAGES)} B/frame)`, () => {
      sink += views.fill(0, batch, 0);
    });
    bench.add(`baseline: Buffer.concat of the same frames (copy only, no message table)`, () => {
      sink += Buffer.concat(values, bytes).length;
    });
    cases.push({ group: 'ring transfer', bench, perOp: MESSAGES * k, unit: 'records', note: `${k} record${k > 1 ? 's' : ''}/frame; keep ${sink >= 0 ? 'alive' : ''}` });
  }
  return cases;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const c of ringCases()) {
    await c.bench.run();
    for (const task of c.bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') continue;
      const ns = (r.period * 1e6) / (c.perOp as number);
      console.log(`${task.name}: ${((1e9 / ns) / 1e6).toFixed(2)} M records/s, ${ns.toFixed(1)} ns/record (±${r.latency.rme.toFixed(1)}%)`);
    }
  }
}
