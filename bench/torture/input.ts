// The torture run's input: a deterministic LXE1 stream (each equipment pinned to one partition, event time growing with the frame, failure bursts, a share of broken frames, one far-ahead frame per partition at the end), written once to a length-prefixed file, with what the verification needs to place every output.
import fs from 'node:fs';
import { encodeFrame, type FrameFaults, type RecordInput } from '../../src/gen/frame-encoder.js';
import { Mulberry32 } from '../../src/gen/traffic.js';

/** The traffic model, in one place. */
export const INPUT_MODEL = {
  /** frame i's event time is start + i × stepMs (its records + 0, 1, 2, 3 ms): the same order on every partition
   * (a run may set both: the overload run keeps event time in step with its producer) */
  startMs: Date.parse('2026-11-26T00:00:00.000Z'),
  stepMs: 2,
  /** equipment 1–200 are in examples/refdata; the others are unknown (no equipment object, no region nor vendor) */
  knownEquipment: 200,
  unknownEquipment: [9001, 9002, 9003, 9004, 9005],
  cellsPerEquipment: 3,
  recordsPerFrame: { min: 1, max: 4 },
  /** failure probability outside and inside a burst */
  failureRate: 0.03,
  burstFailureRate: 0.85,
  /** an equipment's bursts: one every 60–600 s of event time, each 20–40 s long */
  burstGapS: { min: 60, max: 600 },
  burstLengthS: { min: 20, max: 40 },
  /** one frame in this many is broken (a dead letter) */
  badFrameEvery: 400,
  /** the last frame of each partition, this far past the last data frame: the watermark passes every data window */
  endAheadMs: 60_000,
  /** bytes written to the input file at a time */
  writeChunkBytes: 4 * 1024 * 1024,
} as const;

/** The broken frames and the reason each is made for (the decoder may name another matching one). */
const FAULTS: readonly { faults: FrameFaults; crc?: boolean }[] = [
  { faults: { magic: [0x4c, 0x58, 0x45, 0x32] } },
  { faults: { version: 2 } },
  { faults: { crcXor: 0x5a5a }, crc: true },
  { faults: { truncateBy: 3 } },
  { faults: { trailing: [0, 0] } },
  { faults: { flags: 0x80 } },
];

// type codes weighted like a day of traffic: attach, detach, session start/end, handover, radio link failure, call drop, paging
const TYPES = [1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 7, 8];

/** Told every decoded record, in input order (the alarm reference counts them). */
export interface RecordObserver {
  record(equipmentId: number, eventTimeMs: number, failure: boolean): void;
}

export interface TortureInput {
  file: string;
  partitions: number;
  frames: number;
  /** records the decoder gives (every frame but the broken ones) */
  records: number;
  badFrames: number;
  /** per frame: its equipment, partition, first record's index in the decoded output (-1: broken) and record count */
  frameEquipment: Uint32Array;
  framePartition: Uint8Array;
  frameSlot: Int32Array;
  frameRecords: Uint8Array;
  /** per equipment: frame index by frame_seq */
  framesOf: Map<number, Int32Array>;
  /** the far-ahead frames' event time (the same on every partition) */
  endTimeMs: number;
  /** frames per partition */
  perPartition: number[];
}

/** Every equipment of the run and the partition it is pinned to. */
export function equipmentList(): number[] {
  const list: number[] = [];
  for (let eq = 1; eq <= INPUT_MODEL.knownEquipment; eq++) list.push(eq);
  list.push(...INPUT_MODEL.unknownEquipment);
  return list;
}

export function partitionOf(equipmentId: number, partitions: number): number {
  return equipmentId % partitions;
}

/** Burst windows per equipment, [start, end) in ms, sorted, covering `spanMs` from the start. */
function bursts(rnd: Mulberry32, equipment: readonly number[], startMs: number, spanMs: number): Map<number, number[]> {
  const m = INPUT_MODEL;
  const out = new Map<number, number[]>();
  for (const eq of equipment) {
    const list: number[] = [];
    let t = startMs + rnd.int(0, m.burstGapS.max) * 1000;
    while (t < startMs + spanMs) {
      const len = rnd.int(m.burstLengthS.min, m.burstLengthS.max) * 1000;
      list.push(t, t + len);
      t += len + rnd.int(m.burstGapS.min, m.burstGapS.max) * 1000;
    }
    out.set(eq, list);
  }
  return out;
}

function inBurst(list: readonly number[], t: number, cursor: { i: number }): boolean {
  while (cursor.i < list.length && list[cursor.i + 1] <= t) cursor.i += 2;
  return cursor.i < list.length && list[cursor.i] <= t;
}

/** Writes the input file (length-prefixed frames, as `lux decode --in` reads them) and describes it. */
export function writeTortureInput(
  file: string,
  opts: { records: number; partitions: number; seed: number; startMs?: number; stepMs?: number },
  observer: RecordObserver,
): TortureInput {
  const m = INPUT_MODEL;
  // the overload run sets both so that event time keeps pace with the producer (the SLA then measures the real lag)
  const startMs = opts.startMs ?? m.startMs;
  const stepMs = opts.stepMs ?? m.stepMs;
  const rnd = new Mulberry32(opts.seed);
  const equipment = equipmentList();
  const avgPerFrame = (m.recordsPerFrame.min + m.recordsPerFrame.max) / 2;
  const capacity = Math.ceil((opts.records / m.recordsPerFrame.min) * (1 + 2 / m.badFrameEvery)) + opts.partitions + 16;
  const spanMs = Math.ceil((opts.records / avgPerFrame) * (1 + 1 / m.badFrameEvery) * stepMs);
  const burstsOf = bursts(rnd.fork(1), equipment, startMs, spanMs);
  const cursors = new Map(equipment.map((eq) => [eq, { i: 0 }]));
  const frameEquipment = new Uint32Array(capacity);
  const framePartition = new Uint8Array(capacity);
  const frameSlot = new Int32Array(capacity);
  const frameRecords = new Uint8Array(capacity);
  const seqs = new Map<number, number[]>(equipment.map((eq) => [eq, []]));
  const perPartition = new Array<number>(opts.partitions).fill(0);

  const fd = fs.openSync(file, 'w');
  let chunk = Buffer.allocUnsafe(m.writeChunkBytes);
  let used = 0;
  const write = (frame: Buffer): void => {
    if (used + 4 + frame.length > chunk.length) {
      fs.writeSync(fd, chunk, 0, used);
      used = 0;
      if (4 + frame.length > chunk.length) chunk = Buffer.allocUnsafe(4 + frame.length);
    }
    chunk.writeUInt32BE(frame.length, used);
    frame.copy(chunk, used + 4);
    used += 4 + frame.length;
  };

  let frames = 0;
  let records = 0;
  let badFrames = 0;
  const place = (eq: number, slot: number, count: number): number => {
    const i = frames++;
    frameEquipment[i] = eq;
    const p = partitionOf(eq, opts.partitions);
    framePartition[i] = p;
    perPartition[p]++;
    frameSlot[i] = slot;
    frameRecords[i] = count;
    const list = seqs.get(eq) as number[];
    list.push(i);
    return list.length - 1;
  };

  let lastTime = startMs;
  try {
    while (records < opts.records) {
      const t = startMs + Math.floor(frames * stepMs);
      const eq = rnd.pick(equipment);
      const burst = inBurst(burstsOf.get(eq) as number[], t, cursors.get(eq) as { i: number });
      const broken = rnd.next() < 1 / m.badFrameEvery;
      const n = rnd.int(m.recordsPerFrame.min, m.recordsPerFrame.max);
      const recs: RecordInput[] = [];
      for (let r = 0; r < n; r++) {
        const failure = rnd.chance(burst ? m.burstFailureRate : m.failureRate);
        const type = rnd.pick(TYPES);
        const rec: RecordInput = {
          eventTime: t + r,
          type,
          result: failure ? rnd.int(1, 2) : 0,
          cellId: eq * 10 + rnd.int(0, m.cellsPerEquipment - 1),
          causeCode: failure ? rnd.int(1, 12) : 0,
          rat: rnd.int(1, 5),
          imsi: rnd.chance(0.9) ? `20801${String(rnd.int(0, 9_999_999_999)).padStart(10, '0')}` : null,
          durationMs: rnd.int(0, 600_000),
          bytesUp: rnd.int(0, 5_000_000),
          bytesDown: rnd.int(0, 50_000_000),
        };
        if (rnd.chance(0.5)) rec.apn = rnd.chance(0.8) ? 'internet' : 'ims';
        if (rnd.chance(0.7)) rec.rsrpDbm = -rnd.int(60, 125);
        if (type === 3 && rnd.chance(0.8)) rec.setupLatencyMs = rnd.int(20, 3000);
        if (type === 5) rec.targetCellId = rnd.int(10, 2009);
        recs.push(rec);
      }
      const seq = (seqs.get(eq) as number[]).length;
      if (broken) {
        const f = rnd.pick(FAULTS);
        write(encodeFrame({ equipmentId: eq, frameSeq: seq, records: recs, crc: f.crc ?? rnd.chance(0.5) }, f.faults));
        place(eq, -1, 0);
        badFrames++;
        continue;
      }
      write(encodeFrame({ equipmentId: eq, frameSeq: seq, records: recs, crc: rnd.chance(0.5) }));
      place(eq, records, n);
      for (const r of recs) observer.record(eq, r.eventTime as number, r.result !== 0);
      records += n;
      lastTime = t + n - 1;
    }
    // one far-ahead frame per partition, all at the same time: the watermark (the smallest of the partitions' largest
    // event times) passes every data window on every partition, and no output depends on when instances went idle
    const endTimeMs = lastTime + m.endAheadMs;
    for (let p = 0; p < opts.partitions; p++) {
      const eq = equipment.find((e) => partitionOf(e, opts.partitions) === p) ?? p + 10_000;
      if (!seqs.has(eq)) seqs.set(eq, []);
      const seq = (seqs.get(eq) as number[]).length;
      write(encodeFrame({ equipmentId: eq, frameSeq: seq, records: [{ eventTime: endTimeMs, type: 1, result: 0, cellId: eq * 10 }] }));
      place(eq, records, 1);
      observer.record(eq, endTimeMs, false);
      records += 1;
    }
    if (used > 0) fs.writeSync(fd, chunk, 0, used);
    const framesOf = new Map<number, Int32Array>();
    for (const [eq, list] of seqs) if (list.length > 0) framesOf.set(eq, Int32Array.from(list));
    return {
      file,
      partitions: opts.partitions,
      frames,
      records,
      badFrames,
      frameEquipment: frameEquipment.subarray(0, frames),
      framePartition: framePartition.subarray(0, frames),
      frameSlot: frameSlot.subarray(0, frames),
      frameRecords: frameRecords.subarray(0, frames),
      framesOf,
      endTimeMs,
      perPartition,
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads the input file back, frame by frame (index, bytes), without holding it whole. */
export function* readTortureFrames(file: string): Generator<[number, Buffer]> {
  const fd = fs.openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(INPUT_MODEL.writeChunkBytes);
    let have = 0;
    let at = 0;
    let index = 0;
    for (;;) {
      if (have - at < 4 || have - at < 4 + buf.readUInt32BE(at)) {
        // move what is left to the front and read more
        buf.copy(buf, 0, at, have);
        have -= at;
        at = 0;
        if (have >= 4 && 4 + buf.readUInt32BE(0) > buf.length) {
          const bigger = Buffer.allocUnsafe(4 + buf.readUInt32BE(0));
          buf.copy(bigger, 0, 0, have);
          buf = bigger;
        }
        const n = fs.readSync(fd, buf, have, buf.length - have, null);
        if (n === 0) {
          if (have !== 0) throw new Error(`${file}: ${have} bytes after the last whole frame`);
          return;
        }
        have += n;
        continue;
      }
      const len = buf.readUInt32BE(at);
      // a copy: the caller may keep it while the buffer is refilled
      yield [index++, Buffer.from(buf.subarray(at + 4, at + 4 + len))];
      at += 4 + len;
    }
  } finally {
    fs.closeSync(fd);
  }
}
