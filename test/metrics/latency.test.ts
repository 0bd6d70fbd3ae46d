// Latency histograms: recorders in two threads merge into one window; the SLA checker reports breach and recovery once each.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distModule } from '../../src/paths.js';
import { initLatency, LatencyMerger, LatencyRecorder, SlaChecker, type LatencySnapshot } from '../../src/metrics/latency.js';

beforeAll(() => initLatency());

/** A real worker thread that records `values` ms with the compiled recorder and posts its snapshot. */
function snapshotFromWorker(values: number[]): Promise<LatencySnapshot> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module).then(async (m) => {
      await m.initLatency();
      const r = new m.LatencyRecorder(['event_to_commit']);
      for (const v of workerData.values) r.record('event_to_commit', v);
      parentPort.postMessage(r.snapshot());
      r.destroy();
    });`;
  const worker = new Worker(code, { eval: true, workerData: { module: distModule('metrics/latency.js'), values } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: LatencySnapshot) => {
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', reject);
  });
}

describe('LatencyMerger', () => {
  let merger: LatencyMerger;
  beforeAll(() => {
    merger = new LatencyMerger(30_000, 10_000);
  });
  afterAll(() => merger.destroy());

  it('merges a main-thread recorder and a worker-thread recorder', async () => {
    const local = new LatencyRecorder();
    for (let i = 1; i <= 100; i++) local.record('event_to_commit', i);
    merger.add(local.snapshot());
    merger.add(await snapshotFromWorker([5_000, 6_000]));
    local.destroy();
    const s = merger.stats('event_to_commit');
    expect(s.windowCount).toBe(102);
    expect(s.count).toBe(102);
    expect(s.maxSeconds).toBeCloseTo(6, 2);
    expect(s.quantiles.get(50)).toBeCloseTo(0.051, 2);
    expect(s.sumSeconds).toBeCloseTo((5050 + 11_000) / 1000, 0);
  });

  it('forgets values once they leave the sliding window but keeps the cumulative count', () => {
    for (let i = 0; i < 3; i++) merger.rotate();
    const s = merger.stats('event_to_commit');
    expect(s.windowCount).toBe(0);
    expect(s.count).toBe(102);
  });

  it('records per-record ages from a batch of event times and clamps skewed clocks', () => {
    const r = new LatencyRecorder(['kafka_to_commit']);
    const now = 1_000_000;
    r.recordSince('kafka_to_commit', now, new Float64Array([now - 250, now + 5_000, now - 1_000]));
    const m = new LatencyMerger(10_000, 10_000);
    m.add(r.snapshot());
    const s = m.stats('kafka_to_commit', [0, 100]);
    expect(s.windowCount).toBe(3);
    expect(s.quantiles.get(0)).toBe(0); // the future event time counts as 0, not as an error
    expect(s.maxSeconds).toBeCloseTo(1, 2);
    expect(() => r.record('event_to_commit', 1)).toThrow(/not recorded by this recorder: event_to_commit/);
    r.destroy();
    m.destroy();
  });
});

describe('SlaChecker', () => {
  it('reports one breach when p99.9 or max passes the bound, and one ok when it comes back', () => {
    const merger = new LatencyMerger(20_000, 10_000);
    const sla = new SlaChecker({ seconds: 60, percentile: 99.9 });
    const r = new LatencyRecorder(['event_to_commit']);
    expect(sla.check(merger).transition).toBeUndefined(); // no data: no verdict

    r.record('event_to_commit', 500, 10_000);
    merger.add(r.snapshot());
    expect(sla.check(merger)).toMatchObject({ breached: false, transition: undefined });

    r.record('event_to_commit', 90_000); // one old record: max breaks the bound even if p99.9 does not
    merger.add(r.snapshot());
    const v = sla.check(merger);
    expect(v).toMatchObject({ breached: true, transition: 'breach' });
    expect(v.reason).toMatch(/^event_to_commit max 90\.\d s > 60 s$/);
    expect(sla.check(merger).transition).toBeUndefined();

    merger.rotate();
    merger.rotate(); // the old record leaves the window
    r.record('event_to_commit', 200);
    merger.add(r.snapshot());
    expect(sla.check(merger)).toMatchObject({ breached: false, transition: 'ok' });

    // A stall: nothing committed, but the oldest pending event is 2 minutes old.
    merger.rotate();
    merger.rotate();
    expect(sla.check(merger, 120)).toMatchObject({ breached: true, transition: 'breach' });
    r.destroy();
    merger.destroy();
  });
});
