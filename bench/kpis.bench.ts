// Benchmark: the KPI side of one transaction (a worker's batch partials for 4,000 records, in JavaScript and in C, the main thread's transaction partials, the merge's apply, window close and KPI JSON), and the memory of the merge's windows for 100,000 active cells.
//
// Run: npx tsc -p tsconfig.json && node --expose-gc dist/bench/kpis.bench.js [cells] [transactions]
// The workload: 4,000 records a transaction (100 ms of the 40,000 records/s peak) decoded once by the WASM decoder
// from the traffic model (its type mix, setup latencies and rsrp), then, per transaction, given new cells (uniform
// over `cells`, 12 a piece of cells / 12 equipment, 20 regions, 5 vendors) and event times 100 ms further on, in
// place in the decoder's memory. Targets: the KPI side a small fraction of a 100 ms transaction; <= 150 MB of window
// state for 100,000 active cells at 60 s windows.
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { MSG_WORDS, M_COUNT, M_FIRST, M_PARTITION, M_REASON, REC_WORDS, R_CELL, R_EQUIPMENT, R_TIME_F64, memoryPages, slotGeometry, type SlotGeometry } from '../src/decode/layout.js';
import { createDecoderMemory, fillSlot, Lxe1Decoder } from '../src/decode/wasm-decoder.js';
import type { RefTables } from '../src/enrich/csv-tables.js';
import { Reference } from '../src/enrich/reference.js';
import { buildSnapshot } from '../src/enrich/snapshot.js';
import { TrafficModel, type GeneratedFrame } from '../src/gen/traffic.js';
import { BatchPartials, type PartialsAccumulator } from '../src/kpis/batch-partials.js';
import { loadKpiPartials, NativeBatchPartials } from '../src/kpis/native-batch-partials.js';
import { KpiMergeCore } from '../src/kpis/merge-core.js';
import { DIMENSIONS } from '../src/kpis/names.js';
import { TransactionPartials } from '../src/kpis/transaction-partials.js';
import type { MicroCase } from './micro.js';

const TXN_RECORDS = 4_000;
const TXN_MS = 100;
const WINDOW_MS = 60_000;
const LATENESS_MS = 5_000;
const SHARDS = 4;
const RAW_PARTITIONS = 4;
const CELLS_PER_EQUIPMENT = 12;
const REGIONS = 20;
const VENDORS = ['NOK', 'ERI', 'HUA', 'SAM', 'ZTE'];
const T0 = Date.UTC(2025, 0, 6, 8, 0, 0);

function tables(equipment: number): RefTables {
  return {
    vendors: VENDORS.map((v) => ({ vendorId: v, name: `Vendor ${v}` })),
    equipment: Array.from({ length: equipment }, (_, i) => ({
      equipmentId: i + 1,
      name: `ENB-${i + 1}`,
      model: 'AirScale',
      vendorId: VENDORS[i % VENDORS.length],
      site: `Site ${Math.floor(i / 3)}`,
      region: `Region ${i % REGIONS}`,
    })),
    errorCodes: [],
    interventions: [],
  };
}

/** One decoded batch of TXN_RECORDS records, re-aimed at new cells and times for each transaction. */
export class KpiWorkload {
  readonly cells: number;
  readonly reference: Reference;
  readonly decoder: Lxe1Decoder;
  readonly slot: SlotGeometry;
  readonly messages: number;
  private readonly recWords: Uint32Array;
  private rand = 12345;

  constructor(cells = 100_000) {
    this.cells = cells;
    this.reference = new Reference(buildSnapshot(tables(Math.ceil(cells / CELLS_PER_EQUIPMENT))));
    this.slot = slotGeometry(0, 8192, 4 << 20);
    this.decoder = new Lxe1Decoder(createDecoderMemory(memoryPages(1, 8192, 4 << 20)));
    this.decoder.initCrc();
    const frames: GeneratedFrame[] = [];
    new TrafficModel({ seed: 3, badShare: 0, burstEveryMs: 0 }).fill(frames, TXN_RECORDS, T0);
    this.messages = fillSlot(this.decoder, this.slot, frames.map((f) => f.value));
    if (this.decoder.decode(this.slot, this.messages) !== TXN_RECORDS) throw new Error('the workload batch did not decode whole');
    // the word index of every record, and each message's raw partition
    const u32 = this.decoder.u32;
    const words: number[] = [];
    for (let m = 0; m < this.messages; m++) {
      const row = (this.slot.msgPtr >>> 2) + m * MSG_WORDS;
      if (u32[row + M_REASON] !== 0) throw new Error('a workload frame was dead-lettered');
      u32[row + M_PARTITION] = m % RAW_PARTITIONS;
      for (let r = 0; r < u32[row + M_COUNT]; r++) words.push((this.slot.recPtr >>> 2) + (u32[row + M_FIRST] + r) * REC_WORDS);
    }
    this.recWords = Uint32Array.from(words);
  }

  /** Aims the batch at transaction `t`: random cells, event times spread over [t, t + 1) × 100 ms from T0. */
  aim(t: number): void {
    const { u32, f64 } = this.decoder;
    const base = T0 + t * TXN_MS;
    for (let i = 0; i < this.recWords.length; i++) {
      this.rand = (Math.imul(this.rand, 1103515245) + 12345) >>> 0;
      const c = this.rand % this.cells;
      const eq = 1 + Math.floor(c / CELLS_PER_EQUIPMENT);
      const w = this.recWords[i];
      u32[w + R_EQUIPMENT] = eq;
      u32[w + R_CELL] = eq * 100 + (c % CELLS_PER_EQUIPMENT);
      f64[(w + R_TIME_F64) >>> 1] = base + Math.floor((i * TXN_MS) / TXN_RECORDS);
    }
  }
}

/** The three sides of the KPI path, wired as the daemon wires them (one instance owning every raw partition and shard). */
export class KpiPath {
  readonly partials: PartialsAccumulator;
  readonly transaction: TransactionPartials;
  readonly core: KpiMergeCore;
  private readonly offsets = new Array<number>(SHARDS).fill(0);
  t = 0;
  /** what the last transaction wrote */
  kpis = 0;
  partialsBytes = 0;

  /** `native`: the worker's part through NativeBatchPartials (the daemon's), else BatchPartials */
  constructor(readonly workload: KpiWorkload, native = false) {
    const options = { windowMs: WINDOW_MS, shards: SHARDS, dimensions: DIMENSIONS };
    if (native) {
      const load = loadKpiPartials();
      if (load.addon === undefined) throw new Error(load.reason);
      this.partials = new NativeBatchPartials(load.addon, options);
    } else this.partials = new BatchPartials(options);
    this.partials.use(workload.reference);
    this.transaction = new TransactionPartials({ windowMs: WINDOW_MS, shards: SHARDS });
    this.transaction.assign([0, 1, 2, 3], 0);
    this.core = new KpiMergeCore({ windowMs: WINDOW_MS, latenessMs: LATENESS_MS, rawPartitions: RAW_PARTITIONS, shards: SHARDS });
    for (let s = 0; s < SHARDS; s++) this.core.assign(s, []);
  }

  /** The worker's part: fold the decoded slot, encode. */
  worker(): Uint8Array {
    const d = this.workload.decoder;
    this.workload.aim(this.t++);
    this.partials.addSlot(d.u32, d.i32, d.f64, this.workload.slot, this.workload.messages);
    return this.partials.finish();
  }

  /** The main thread's part: the batch into the transaction, its messages at commit. */
  main(batch: Uint8Array): Buffer[] {
    this.transaction.add(batch, this.t);
    const msgs = this.transaction.prepare(this.t);
    this.transaction.settle(true);
    const out: Buffer[] = [];
    for (const m of msgs) out[m.shard] = m.value;
    return out;
  }

  /** The KPI thread's part: receive, apply, close what the watermark passed, encode the KPI JSON, commit. */
  merge(messages: Buffer[]): void {
    this.partialsBytes = 0;
    messages.forEach((m, s) => {
      this.core.receive(s, this.offsets[s]++, m);
      this.partialsBytes += m.length;
    });
    this.kpis = this.core.prepare(0).kpis.length;
    this.core.settle(true);
  }

  transactionStep(): void {
    this.merge(this.main(this.worker()));
  }
}

/** Micro benchmark cases (bench/micro.ts): each stage of a transaction, between window closes. */
export function kpiCases(time = 2_000, cells = 100_000): MicroCase[] {
  const workload = new KpiWorkload(cells);
  const path = new KpiPath(workload);
  for (let i = 0; i < 50; i++) path.transactionStep(); // tables grown, caches warm
  const bench = new Bench({ time });
  let batch = path.worker();
  // the C accumulator over the same decoded batch, when the addon is built (npm run build:native)
  const native = loadKpiPartials().addon === undefined ? undefined : new KpiPath(workload, true);
  for (let i = 0; native !== undefined && i < 50; i++) native.worker();
  if (native !== undefined) {
    bench.add(`NativeBatchPartials.addSlot + finish (C, the daemon's), ${TXN_RECORDS} records (worker)`, () => {
      native.worker();
    });
  }
  bench.add(`BatchPartials.addSlot + finish, ${TXN_RECORDS} records (worker)`, () => {
    batch = path.worker();
  });
  bench.add(`TransactionPartials add + prepare + settle, ${SHARDS} shards (main thread)`, () => {
    path.main(batch);
  });
  const whole = new Bench({ time });
  whole.add(`one transaction end to end: worker + main + merge (${cells.toLocaleString()} cells, windows closing)`, () => path.transactionStep());
  return [
    { group: 'kpis', bench, perOp: TXN_RECORDS, unit: 'records', note: `${cells} cells` },
    { group: 'kpis', bench: whole, perOp: TXN_RECORDS, unit: 'records', note: `${cells} cells, 60 s windows, 100 ms of event time per transaction` },
  ];
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapMb(): number {
  // twice: the buffers of a window close are external memory, given back a collection later
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1048576;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cells = Number(process.argv[2] ?? 100_000);
  const transactions = Number(process.argv[3] ?? 1_500);
  const workload = new KpiWorkload(cells);
  const before = heapMb();
  const path = new KpiPath(workload);
  const worker = new Float64Array(transactions);
  const main = new Float64Array(transactions);
  const merge = new Float64Array(transactions);
  let peakState = 0;
  let peakHeap = 0;
  let closes = 0;
  let emitted = 0;
  let bytes = 0;
  const windowTxns = WINDOW_MS / TXN_MS;
  // CPU time of this thread per stage (the box may be shared: wall time would count other processes' turns)
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const wall = new Float64Array(transactions);
  for (let t = 0; t < transactions; t++) {
    const w0 = performance.now();
    const a = cpuMs();
    const batch = path.worker();
    const b = cpuMs();
    const msgs = path.main(batch);
    const c = cpuMs();
    path.merge(msgs);
    const d = cpuMs();
    wall[t] = performance.now() - w0;
    worker[t] = b - a;
    main[t] = c - b;
    merge[t] = d - c;
    bytes += path.partialsBytes;
    if (path.kpis > 0) {
      closes++;
      emitted += path.kpis;
    }
    // the state peaks just before a window closes: one full window and the lateness of the next
    if ((t + 1) % windowTxns === (LATENESS_MS / TXN_MS) % windowTxns) {
      const st = path.core.counters();
      if (st.stateBytes > peakState) peakState = st.stateBytes;
      const h = heapMb() - before;
      if (h > peakHeap) peakHeap = h;
      console.log(
        `state at t=${((t + 1) * TXN_MS) / 1000} s: ${st.keysHeld.toLocaleString()} keys, ${st.latenciesHeld.toLocaleString()} latencies, ` +
          `typed arrays ${(st.stateBytes / 1048576).toFixed(1)} MB, heap+arrayBuffers delta ${h.toFixed(1)} MB${gc ? '' : ' (run with --expose-gc)'}`,
      );
    }
  }
  const stat = (name: string, xs: Float64Array): string => {
    const s = xs.slice().sort();
    const mean = xs.reduce((x, y) => x + y, 0) / xs.length;
    return `${name}: mean ${mean.toFixed(3)} ms, p50 ${percentile(s, 0.5).toFixed(3)}, p99 ${percentile(s, 0.99).toFixed(3)}, max ${s[s.length - 1].toFixed(1)} ms`;
  };
  const total = new Float64Array(transactions).map((_, i) => worker[i] + main[i] + merge[i]);
  const mean = total.reduce((x, y) => x + y, 0) / transactions;
  console.log(`${transactions} transactions of ${TXN_RECORDS} records (${((transactions * TXN_MS) / 1000).toFixed(0)} s of event time), ${cells.toLocaleString()} cells, ${SHARDS} shards; CPU time:`);
  console.log(`  ${stat('worker  (batch partials)', worker)}`);
  console.log(`  ${stat('main    (transaction partials)', main)}`);
  console.log(`  ${stat('merge   (apply, close, KPI JSON)', merge)}`);
  console.log(`  ${stat('total', total)} → ${((TXN_RECORDS / mean) * 1000).toLocaleString('en-US', { maximumFractionDigits: 0 })} records/s on one core`);
  console.log(`  ${stat('wall clock, whole transaction', wall)}`);
  console.log(`  partials: ${(bytes / transactions / 1024).toFixed(1)} KiB per transaction (${(bytes / transactions / TXN_RECORDS).toFixed(1)} bytes per record)`);
  console.log(`  ${closes} transactions closed windows, ${emitted.toLocaleString()} KPI objects emitted`);
  console.log(`memory of the merge windows, ${cells.toLocaleString()} active cells: peak typed arrays ${(peakState / 1048576).toFixed(1)} MB, peak heap+arrayBuffers delta ${peakHeap.toFixed(1)} MB (target <= 150 MB)`);
  for (const c of kpiCases(1_000, cells)) {
    await c.bench.run();
    for (const task of c.bench.tasks) {
      const r = task.result as { latency?: { mean: number }; period?: number } | undefined;
      const ms = r?.latency?.mean ?? r?.period ?? NaN;
      console.log(`${task.name}: ${ms.toFixed(3)} ms per transaction, ${((c.perOp / ms) * 1000).toLocaleString('en-US', { maximumFractionDigits: 0 })} ${c.unit}/s`);
    }
  }
}
