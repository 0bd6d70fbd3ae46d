// Test-side plumbing for the KPI engine: reference data with the awkward cases, traffic with every record type and result, decoding through the real WASM decoder, enriched NDJSON for the model, and synthetic decoded records.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { LocalDecode } from '../../src/cli/decode.js';
import { MSG_WORDS, M_PARTITION, REC_WORDS, type SlotGeometry, R_BYTES_DOWN, R_BYTES_UP, R_CAUSE_SETUP, R_CELL, R_CODES, R_EQUIPMENT, R_RSRP, R_TIME_F64, F_RSRP, F_SETUP_LATENCY, memoryPages, slotGeometry } from '../../src/decode/layout.js';
import { createDecoderMemory, fillSlot, Lxe1Decoder } from '../../src/decode/wasm-decoder.js';
import { buildSnapshot, loadSnapshot, type Snapshot } from '../../src/enrich/snapshot.js';
import { Reference } from '../../src/enrich/reference.js';
import { encodeFrame, type RecordInput } from '../../src/gen/frame-encoder.js';
import { Mulberry32, TrafficModel } from '../../src/gen/traffic.js';
import { BatchPartials, type BatchPartialsOptions, type PartialsAccumulator } from '../../src/kpis/batch-partials.js';
import { loadKpiPartials, NativeBatchPartials } from '../../src/kpis/native-batch-partials.js';
import { DIMENSIONS } from '../../src/kpis/names.js';
import { TransactionPartials, type PartialsMessage } from '../../src/kpis/transaction-partials.js';
import type { EnrichedRecord } from './model.js';

const EXAMPLES = path.join(import.meta.dirname, '../../examples/refdata');

/** Equipment 201..206 have an empty region (206: and a vendor with no name); 207..212 are unknown. */
export const FLEET = 212;

/** The example reference data plus equipment rows whose region is empty or whose vendor has no name. */
export function makeRefDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lux-kpi-ref-'));
  for (const f of ['vendors.csv', 'error_codes.csv', 'interventions.csv']) copyFileSync(path.join(EXAMPLES, f), path.join(dir, f));
  let eq = readFileSync(path.join(EXAMPLES, 'equipment.csv'), 'utf8');
  if (!eq.endsWith('\n')) eq += '\n';
  for (let id = 201; id <= 205; id++) eq += `${id},ENB-NOREGION-${id},${['NOK', 'ERI', 'HUA', 'SAM', 'NOK'][id - 201]},Model X,Somewhere,,2020-01-01\n`;
  eq += '206,ENB-ZTE-206,ZTE,ZXSDR,Nowhere,,2020-01-01\n';
  writeFileSync(path.join(dir, 'equipment.csv'), eq);
  return dir;
}

export function loadRef(dir: string): Snapshot {
  return loadSnapshot(dir);
}

/**
 * `count` frames of traffic from `seed`, one every `stepMs` of clock from `t0`, over equipment 1..FLEET; about one in
 * forty is a hand-made frame with any type (0..9) and result (0..3), latencies on any type, and byte counts near 2^32.
 */
export function trafficFrames(seed: number, count: number, t0: number, stepMs: number): Uint8Array[] {
  const model = new TrafficModel({ seed, equipment: FLEET, badShare: 0.01, burstEveryMs: 20_000, burstFailures: 30, burstSpanMs: 2_000 });
  const rng = new Mulberry32(seed * 7 + 1);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const now = t0 + i * stepMs;
    if (rng.chance(0.025)) {
      const equipmentId = rng.int(1, FLEET);
      const records: RecordInput[] = [];
      for (let r = rng.int(1, 4); r > 0; r--) {
        records.push({
          type: rng.int(0, 9),
          result: rng.int(0, 3),
          eventTime: now - rng.int(0, 200),
          cellId: equipmentId * 100 + rng.int(1, 3),
          bytesUp: rng.chance(0.5) ? 4_000_000_000 + rng.int(0, 294_967_295) : rng.int(0, 1000),
          bytesDown: rng.int(0, 0xffffffff),
          rsrpDbm: rng.chance(0.5) ? rng.int(-140, -44) : undefined,
          setupLatencyMs: rng.chance(0.6) ? rng.int(0, 0xffff) : undefined,
        });
      }
      out.push(encodeFrame({ equipmentId, frameSeq: i, records }));
    } else out.push(model.next(now).value);
  }
  return out;
}

/** Frames as the `lux decode` input: each preceded by its length (4 bytes, big-endian). */
export function lengthPrefixed(frames: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of frames) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(f.length);
    parts.push(len, Buffer.from(f));
  }
  return Buffer.concat(parts);
}

/** The enriched records of `frames` (SPEC section 3), through LocalDecode: what the model is given. */
export async function enrichedRecords(snapshot: Snapshot, frames: readonly Uint8Array[]): Promise<EnrichedRecord[]> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  const dlq = new Writable({ write: (_c, _e, cb) => cb() });
  await new LocalDecode(snapshot, out, dlq).decodeStream(Readable.from([lengthPrefixed(frames)]), 'test frames');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as EnrichedRecord);
}

const MAX_MESSAGES = 2048;
const FRAME_BYTES = 4 << 20;

/** The real decoder over one slot: a batch of frames, each from its raw partition, folded by a batch partials accumulator. */
export class DecodeBatches {
  private readonly decoder = new Lxe1Decoder(createDecoderMemory(memoryPages(1, MAX_MESSAGES, FRAME_BYTES)));
  private readonly slot = slotGeometry(0, MAX_MESSAGES, FRAME_BYTES);
  constructor() {
    this.decoder.initCrc();
  }

  /** Decodes `frames` (all fit one slot) read from `partitions[i]`, folds them into `partials`, returns its batch bytes. */
  fold(partials: PartialsAccumulator, frames: readonly Uint8Array[], partitions: readonly number[]): Uint8Array {
    const d = this.decode(frames, partitions);
    partials.addSlot(d.u32, d.i32, d.f64, d.slot, d.count);
    return partials.finish();
  }

  /** Decodes `frames` (all fit one slot) read from `partitions[i]`: the decoder's views, the slot and its message count. */
  decode(frames: readonly Uint8Array[], partitions: readonly number[]): { u32: Uint32Array; i32: Int32Array; f64: Float64Array; slot: SlotGeometry; count: number } {
    const d = this.decoder;
    const n = fillSlot(d, this.slot, frames);
    if (n !== frames.length) throw new Error(`only ${n} of ${frames.length} frames fit the test slot`);
    for (let m = 0; m < n; m++) d.u32[(this.slot.msgPtr >>> 2) + m * MSG_WORDS + M_PARTITION] = partitions[m];
    d.decode(this.slot, n);
    return { u32: d.u32, i32: d.i32, f64: d.f64, slot: this.slot, count: n };
  }
}

/** Makes a batch's KPI accumulator of one kind. */
export type MakePartials = (options: BatchPartialsOptions) => PartialsAccumulator;

/**
 * Both batch partials accumulators, by name: the tests hold each to the same behaviour and bytes. The native one must
 * load here (npm test builds it): a missing addon fails the tests that use it rather than skipping them.
 */
export const BATCH_PARTIALS: readonly [string, MakePartials][] = [
  ['BatchPartials', (options) => new BatchPartials(options)],
  [
    'NativeBatchPartials',
    (options) => {
      const load = loadKpiPartials();
      if (load.addon === undefined) throw new Error(load.reason);
      return new NativeBatchPartials(load.addon, options);
    },
  ],
];

const makeJs: MakePartials = (options) => new BatchPartials(options);

/** A batch's KPI accumulator over a reference, all four dimensions. */
export function batchPartials(snapshot: Snapshot, windowMs: number, shards: number, make: MakePartials = makeJs): PartialsAccumulator {
  const p = make({ windowMs, shards, dimensions: DIMENSIONS });
  p.use(new Reference(snapshot));
  return p;
}

// ── synthetic decoded records, for hand-made cases

export interface SynthRecord {
  time: number;
  equipment: number;
  cell?: number;
  /** wire codes; default attach, success */
  type?: number;
  result?: number;
  rsrp?: number;
  latency?: number;
  up?: number;
  down?: number;
}

/** Writes records in the decoded layout (layout.ts) and folds them into `partials` as read from `partition`. */
export function foldSynthetic(partials: PartialsAccumulator, records: readonly SynthRecord[], partition: number): void {
  const buf = new ArrayBuffer(Math.max(1, records.length) * REC_WORDS * 4);
  const u32 = new Uint32Array(buf);
  const i32 = new Int32Array(buf);
  const f64 = new Float64Array(buf);
  records.forEach((r, i) => {
    const w = i * REC_WORDS;
    f64[(w + R_TIME_F64) >>> 1] = r.time;
    u32[w + R_EQUIPMENT] = r.equipment;
    u32[w + R_CELL] = r.cell ?? r.equipment * 100 + 1;
    const flags = (r.rsrp !== undefined ? F_RSRP : 0) | (r.latency !== undefined ? F_SETUP_LATENCY : 0);
    u32[w + R_CODES] = (r.type ?? 1) | ((r.result ?? 0) << 8) | (3 << 16) | (flags << 24);
    u32[w + R_CAUSE_SETUP] = ((r.latency ?? 0) << 16) >>> 0;
    i32[w + R_RSRP] = r.rsrp ?? 0;
    u32[w + R_BYTES_UP] = r.up ?? 0;
    u32[w + R_BYTES_DOWN] = r.down ?? 0;
  });
  partials.addRecords(u32, i32, f64, 0, records.length, partition);
}

/** A small reference: equipment 1 (R1, Nokia), 2 (R2, Nokia), 3 (region "", Ericsson), 4 (no region, vendor without name). */
export function smallReference(): Reference {
  return new Reference(
    buildSnapshot({
      equipment: [
        { equipmentId: 1, name: 'e1', model: null, vendorId: 'NOK', site: null, region: 'R1' },
        { equipmentId: 2, name: 'e2', model: null, vendorId: 'NOK', site: null, region: 'R2' },
        { equipmentId: 3, name: 'e3', model: null, vendorId: 'ERI', site: null, region: '' },
        { equipmentId: 4, name: 'e4', model: null, vendorId: 'ZTE', site: null, region: null },
      ],
      vendors: [
        { vendorId: 'NOK', name: 'Nokia' },
        { vendorId: 'ERI', name: 'Ericsson' },
      ],
      errorCodes: [],
      interventions: [],
    }),
  );
}

/** An instance's KPI side over synthetic records: a worker's batch partials accumulator and the main thread's TransactionPartials. */
export class SynthInstance {
  readonly tp: TransactionPartials;
  readonly partials: PartialsAccumulator;
  constructor(windowMs: number, shards: number, partitions: readonly number[], nowMs = 0, idleTimeoutMs = 30_000, reference: Reference = smallReference(), make: MakePartials = makeJs) {
    this.tp = new TransactionPartials({ windowMs, shards, idleTimeoutMs });
    this.tp.assign(partitions, nowMs);
    this.partials = make({ windowMs, shards, dimensions: DIMENSIONS });
    this.partials.use(reference);
  }

  /** One batch of records from `partition`, added to the open transaction. */
  batch(records: readonly SynthRecord[], partition: number, nowMs = 0): this {
    foldSynthetic(this.partials, records, partition);
    this.tp.add(this.partials.finish(), nowMs);
    return this;
  }

  /** Commits the open transaction: its partials messages. */
  commit(nowMs = 0): PartialsMessage[] {
    const m = this.tp.prepare(nowMs);
    this.tp.settle(true);
    return m;
  }
}

/** SynthInstance's constructor with the small reference and accumulators of one kind. */
export function synthInstances(make: MakePartials): (windowMs: number, shards: number, partitions: readonly number[], nowMs?: number, idleTimeoutMs?: number) => SynthInstance {
  return (windowMs, shards, partitions, nowMs = 0, idleTimeoutMs = 30_000) => new SynthInstance(windowMs, shards, partitions, nowMs, idleTimeoutMs, smallReference(), make);
}

/** An append-only partials log fed by instances' commits, read by merge cores per shard. */
export class Log {
  readonly shards: Buffer[][];
  constructor(shards: number) {
    this.shards = Array.from({ length: shards }, () => []);
  }
  append(messages: readonly PartialsMessage[]): this {
    for (const m of messages) this.shards[m.shard].push(m.value);
    return this;
  }
}
