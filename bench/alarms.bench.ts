// Benchmark: alarm window counter updates per second, evaluation of a slide, the memory of 1M active equipment (60 s window / 10 s slide), and the alarm side of one transaction (apply, journal, delta).
//
// Run: npx tsc -p tsconfig.json && node --expose-gc dist/bench/alarms.bench.js [equipmentCount]
// Targets: >= 1,000,000 counter updates/s; <= 200 MB for 1,000,000 active equipment; the alarm side of a
// 100 ms transaction at 40,000 records/s (4,000 records) a small fraction of those 100 ms.
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { AlarmCore } from '../src/alarms/core.js';
import { createChannel, createSignal, FeedWriter } from '../src/alarms/feed.js';
import { RuleSet, type RuleSpec } from '../src/alarms/rules.js';
import type { MicroCase } from './micro-case.js';

const RULE: RuleSpec = { name: 'rlf', window_ms: 60_000, slide_ms: 10_000, threshold: 20, clear_below: 5, lateness_ms: 10_000 };
const T0 = Date.UTC(2024, 0, 1);
const BATCH = 100_000;

const gc = (globalThis as { gc?: () => void }).gc;
function heapMb(): number {
  gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1048576;
}

/** N active equipment, each with failures spread over the window (the state the memory figure is taken of). */
export function alarmPopulate(N: number): RuleSet {
  const set = new RuleSet([RULE]);
  set.addFailure(0, T0); // first record fixes nothing yet (deferred); fix the frontier at T0
  set.advance(T0 + RULE.lateness_ms);
  for (let i = 0; i < N; i++) set.addFailure(i + 1, T0 + (i % 60_000));
  set.advance(T0 + RULE.lateness_ms); // nothing to evaluate yet; keeps state
  return set;
}

/** Evaluates one slide over every equipment; the updates benchmark runs after it, inside the open windows. */
export function alarmEvaluate(set: RuleSet): { ms: number; alarms: number } {
  const t = process.hrtime.bigint();
  const out = set.advance(T0 + 10_000 + RULE.lateness_ms);
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, alarms: out.length };
}

/** Counter updates on a populated, evaluated set, and through the feed ring, as tinybench tasks. */
export function alarmCases(set: RuleSet, N: number, time = 2_000): MicroCase[] {
  // ── counter updates/s on the populated store (random equipment, times inside open windows)
  const ids = new Uint32Array(BATCH);
  const times = new Float64Array(BATCH);
  let seed = 12345;
  for (let i = 0; i < BATCH; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    ids[i] = (seed % N) + 1;
    times[i] = T0 + 10_000 + (seed % 50_000);
  }
  const bench = new Bench({ time });
  bench.add(`RuleSet.addFailure x${BATCH} (${N.toLocaleString()} active)`, () => {
    for (let i = 0; i < BATCH; i++) set.addFailure(ids[i], times[i]);
  });

  // ── through the ring: producer writes and the core drains, in one thread
  const core = new AlarmCore([RULE], 60_000);
  const ch = createChannel(0, createSignal(), 256 * 1024);
  core.attach(ch);
  const writer = new FeedWriter(ch, 8192);
  core.rules.addFailure(0, T0);
  core.watermark.observe(0, T0 + RULE.lateness_ms, 0);
  core.advance(0);
  bench.add(`FeedWriter.add + flush + AlarmCore.drain x${BATCH} (failures)`, () => {
    for (let i = 0; i < BATCH; i++) {
      if (!writer.add(ids[i], times[i], 0, true, false)) {
        writer.flush();
        core.drain(0);
        writer.add(ids[i], times[i], 0, true, false);
      }
    }
    writer.flush();
    core.drain(0);
  });
  return [
    { group: 'alarm windows', bench, perOp: BATCH, unit: 'updates', note: `${N} active equipment` },
    transactionCase(N, time),
  ];
}

/** Records in one transaction: 100 ms of the 40,000 records/s peak. */
const TXN_RECORDS = 4_000;
/** Their share of failures. */
const TXN_FAILURE_RATE = 0.1;
const TXN_PARTITIONS = [0, 1, 2, 3];

/**
 * The alarm side of one transaction as the daemon runs it, on a core holding N active equipment: a batch of
 * TXN_RECORDS records through the ring with its mark, `prepare` (apply, evaluate, journal, encode the deltas of
 * the changed partitions) and `settle`. Also returns the delta bytes of one transaction.
 */
export function transactionCase(N: number, time = 2_000): MicroCase & { deltaBytes: () => number } {
  const core = new AlarmCore([RULE], 60_000);
  const ch = createChannel(0, createSignal(), 256 * 1024);
  core.attach(ch);
  const writer = new FeedWriter(ch, 16 * 1024);
  core.assign(TXN_PARTITIONS, 0);
  let seq = 0;
  let clock = T0;
  // N active equipment in the open windows, each on its partition (equipment % 4)
  for (let from = 1; from <= N; from += 100_000) {
    for (let i = from; i < Math.min(from + 100_000, N + 1); i++) writer.add(i, T0 + (i % 50_000), i % 4, true, false);
    writer.endBatch(++seq);
    writer.flush();
    core.prepare(seq, 0, TXN_PARTITIONS);
    core.settle(true);
  }
  let rand = 99;
  let lastBytes = 0;
  const bench = new Bench({ time });
  bench.add(`prepare + settle, ${TXN_RECORDS} records (${TXN_FAILURE_RATE * 100}% failures) (${N.toLocaleString()} active)`, () => {
    clock += 100; // 100 ms of event time a transaction: a slide's evaluation every 100th
    for (let i = 0; i < TXN_RECORDS; i++) {
      rand = (Math.imul(rand, 1103515245) + 12345) >>> 0;
      const eq = (rand % N) + 1;
      writer.add(eq, clock + (i % 100), eq % 4, (rand >>> 8) % 1000 < TXN_FAILURE_RATE * 1000, false);
    }
    writer.endBatch(++seq);
    writer.flush();
    const { entries } = core.prepare(seq, 0, TXN_PARTITIONS);
    lastBytes = entries.reduce((n, e) => n + (e.state?.length ?? 0), 0);
    core.settle(true);
  });
  return { group: 'alarm transaction', bench, perOp: TXN_RECORDS, unit: 'records', note: `${N} active equipment, deltas of 4 partitions`, deltaBytes: () => lastBytes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const N = Number(process.argv[2] ?? 1_000_000);
  // ── memory: N active equipment, each with failures spread over the window
  const before = heapMb();
  const set = alarmPopulate(N);
  const store = set.rules[0].store;
  const after = heapMb();
  console.log(
    `memory: ${store.active.toLocaleString()} active equipment, ring ${store.ring} buckets: typed arrays ${(store.byteSize() / 1048576).toFixed(1)} MB, ` +
      `heap+arrayBuffers delta ${(after - before).toFixed(1)} MB${gc ? '' : ' (run with --expose-gc for a stable figure)'}`,
  );

  // ── evaluation of one slide over all N equipment
  const evaluated = alarmEvaluate(set);
  console.log(`evaluate one slide over ${store.active.toLocaleString()} equipment: ${evaluated.ms.toFixed(1)} ms, ${evaluated.alarms} alarms`);

  for (const c of alarmCases(set, N)) {
    await c.bench.run();
    for (const task of c.bench.tasks) {
      const r = task.result as { state?: string; latency?: { mean: number }; period?: number } | undefined;
      const meanMs = r?.latency?.mean ?? r?.period ?? NaN;
      console.log(`${task.name}: ${((c.perOp / meanMs) * 1000 / 1e6).toFixed(2)} M ${c.unit}/s (mean ${meanMs.toFixed(2)} ms per ${c.perOp})`);
    }
    if ('deltaBytes' in c) console.log(`  one transaction's deltas: ${((c as ReturnType<typeof transactionCase>).deltaBytes() / 1024).toFixed(1)} KiB`);
  }
}
