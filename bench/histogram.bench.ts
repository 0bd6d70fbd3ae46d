// Benchmark: latency recording on the hot path — LatencyRecorder (HDR, WebAssembly) per batch and per value, against hdr-histogram-js's plain JS histogram.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/histogram.bench.js
import { pathToFileURL } from 'node:url';
import hdr from 'hdr-histogram-js';
import { Bench } from 'tinybench';
import { LatencyRecorder, initLatency } from '../src/metrics/latency.js';
import type { MicroCase } from './micro-case.js';

/** Values per op: one consumed batch's worth of event times. */
const BATCH = 1000;

export async function histogramCases(time = 1000): Promise<MicroCase[]> {
  await initLatency();
  const recorder = new LatencyRecorder(['event_to_commit', 'kafka_to_commit']);
  const now = Date.now();
  // Event times 0..2 s before now, as a committed batch carries them.
  const times = Float64Array.from({ length: BATCH }, (_, i) => now - ((i * 7919) % 2000));
  const plain = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 86_400_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  const bench = new Bench({ time, warmup: true });
  bench.add(`LatencyRecorder.recordSince, a batch of ${BATCH} (hot path)`, () => recorder.recordSince('event_to_commit', now, times));
  bench.add(`LatencyRecorder.record x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++) recorder.record('kafka_to_commit', now - times[i]);
  });
  bench.add(`baseline: hdr-histogram-js JS recordValue x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++) plain.recordValue(now - times[i]);
  });
  // Per interval, not per record: the encoded snapshot a worker ships every 10 s (reported per value of the batch).
  bench.add(`LatencyRecorder.snapshot after ${BATCH} values (per interval)`, () => {
    recorder.recordSince('event_to_commit', now, times);
    recorder.snapshot();
  });
  return [{ group: 'histogram recording', bench, perOp: BATCH, unit: 'values', note: 'HDR, 3 significant digits, 1 ms .. 1 day' }];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [c] = await histogramCases();
  await c.bench.run();
  for (const task of c.bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') continue;
    const ns = (r.period * 1e6) / BATCH;
    console.log(`${task.name}: ${((1e9 / ns) / 1e6).toFixed(2)} M values/s, ${ns.toFixed(1)} ns/value (±${r.latency.rme.toFixed(1)}%)`);
  }
}
