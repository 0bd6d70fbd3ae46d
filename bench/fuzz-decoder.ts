// Fuzzing at scale (`npm run fuzz -- --frames N --seed S`): millions of mutated and random frames through the WASM decoder in a worker watched for hangs; every frame decoded or dead-lettered with a valid reason, word for word as the DataView baseline, no pointer outside its frame, no write outside the record area.
//
// Not a CI test (test/decode/lxe1-fuzz.test.ts runs a million frames there). One summary line, then the per-reason
// counts; exit 0 when nothing failed, 1 on a disagreement or an escape, 2 on a crash, 3 on a hang.
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { encodeFrame, type RecordInput, type Tlv } from '../src/gen/frame-encoder.js';
import {
  F_APN, F_VENDOR_DETAIL, MSG_WORDS, M_COUNT, M_FIRST, M_LEN, M_PTR, M_REASON, REC_WORDS, R_APN_LEN, R_APN_PTR,
  R_CODES, R_IMSI_DIGITS, R_IMSI_PTR, R_INDEX, R_MESSAGE, R_VD_LEN, R_VD_PTR, memoryPages, slotGeometry,
} from '../src/decode/layout.js';
import { REASON_NAMES } from '../src/decode/reasons.js';
import { createDecoderMemory, Lxe1Decoder } from '../src/decode/wasm-decoder.js';
import { DataViewDecoder } from './baseline/dataview-decoder.js';

/** Every default of the run, in one place. */
const FUZZ_DEFAULTS = {
  frames: 10_000_000,
  seed: 0x9e3779b9,
  /** frames per decodeBatch call */
  batch: 2000,
  /** no batch finished for this long: the decoder hangs */
  watchdogMs: 30_000,
  /** distinct valid frames the mutations start from */
  pool: 1024,
  /** every this many batches, the frame bytes are compared before and after decoding (the decoder must not write them) */
  frameCheckEvery: 16,
  /** failures printed in detail before the rest are only counted */
  maxReported: 10,
  /** the longest frame made: a record of 255 extension bytes times 8 records, plus random tails */
  maxFrameBytes: 4096,
} as const;

/** The worker's counters, shared with the main thread so a hang still leaves them readable. */
const C_FRAMES = 0;
const C_BATCH_START = 1;
const COUNTERS = 2;

interface FuzzJob {
  frames: number;
  seed: number;
  batch: number;
  counters: SharedArrayBuffer;
}

interface FuzzResult {
  frames: number;
  records: number;
  reasons: number[];
  /** frames whose reason, records or words differ from the baseline */
  disagreements: number;
  /** records with a pointer outside their frame, frames whose bytes changed, writes past the record area */
  escapes: number;
  /** decoded without records, or dead-lettered with records or with an unknown reason */
  invalid: number;
  /** unchanged valid frames that did not decode */
  rejectedValid: number;
  reports: string[];
}

const CANARY = 0xdeadbeef;

function fuzzWorker(job: FuzzJob): FuzzResult {
  let seed = job.seed >>> 0 || 1;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const below = (n: number): number => rnd() % n;
  const TEXTS = ['internet', '', 'ims', 'é', '€uro', '😀', 'a'.repeat(60), 'mcc208.gprs', '\u00ff\u0100', 'x'.repeat(200)];
  const randomRecord = (): RecordInput => {
    const extra: Tlv[] = [];
    for (let i = below(4); i > 0; i--) extra.push({ tag: 6 + below(250), value: Array.from({ length: below(8) }, () => below(256)) });
    const r: RecordInput = {
      type: below(10), result: below(4), rat: below(7), eventTime: 946684800000 + below(0xffffffff) * 500,
      cellId: rnd(), causeCode: below(65536), imsi: below(4) === 0 ? null : String(rnd()).padEnd(below(17), '7').slice(0, 16),
      durationMs: rnd(), bytesUp: rnd(), bytesDown: rnd(), extraTlvs: extra,
    };
    if (below(2)) r.apn = TEXTS[below(TEXTS.length)]!;
    if (below(2)) r.rsrpDbm = below(65536) - 32768;
    if (below(3) === 0) r.targetCellId = rnd();
    if (below(3) === 0) r.setupLatencyMs = below(65536);
    if (below(3) === 0) r.vendorDetail = TEXTS[below(TEXTS.length)]!;
    return r;
  };
  const pool: Buffer[] = [];
  for (let i = 0; i < FUZZ_DEFAULTS.pool; i++) {
    const records = Array.from({ length: 1 + below(8) }, randomRecord);
    pool.push(encodeFrame({ equipmentId: rnd(), frameSeq: rnd(), records, crc: below(2) === 0 }));
  }

  // room for a batch of the longest frames twice over: a glued or extended frame never runs past the area
  const frameBytes = job.batch * FUZZ_DEFAULTS.maxFrameBytes * 2;
  const memory = createDecoderMemory(memoryPages(2, job.batch, frameBytes));
  const decoder = new Lxe1Decoder(memory);
  decoder.initCrc();
  const [wasmSlot, baseSlot] = [slotGeometry(0, job.batch, frameBytes), slotGeometry(1, job.batch, frameBytes)];
  const { u8, u32 } = decoder;
  const baseline = new DataViewDecoder(memory.buffer);
  const counters = new Int32Array(job.counters);
  const wasmRow = wasmSlot.msgPtr >>> 2;
  const baseRow = baseSlot.msgPtr >>> 2;
  const kinds = new Uint8Array(job.batch);
  const r: FuzzResult = { frames: 0, records: 0, reasons: new Array<number>(REASON_NAMES.length).fill(0), disagreements: 0, escapes: 0, invalid: 0, rejectedValid: 0, reports: [] };
  const report = (frame: number, what: string, m: number): void => {
    if (r.reports.length >= FUZZ_DEFAULTS.maxReported) return;
    const w = wasmRow + m * MSG_WORDS;
    const bytes = Buffer.from(u8.subarray(u32[w + M_PTR]!, u32[w + M_PTR]! + Math.min(u32[w + M_LEN]!, 512))).toString('hex');
    r.reports.push(`frame ${frame} (seed ${job.seed}): ${what}: ${bytes}`);
  };

  for (let done = 0, batchNo = 0; done < job.frames; done += job.batch, batchNo++) {
    const n = Math.min(job.batch, job.frames - done);
    Atomics.store(counters, C_BATCH_START, done);
    let at = wasmSlot.framePtr;
    for (let m = 0; m < n; m++) {
      const kind = below(10);
      let len: number;
      if (kind === 7) {
        // random bytes, half of them behind a plausible header
        len = below(200);
        for (let i = 0; i < len; i++) u8[at + i] = rnd() & 0xff;
        if (below(2) && len >= 8) u8.set([0x4c, 0x58, 0x45, 0x31, 1, below(2), 0, 1 + below(3)], at);
      } else if (kind === 8) {
        // two valid frames glued: trailing bytes that look like a frame
        const a = pool[below(pool.length)]!;
        const b = pool[below(pool.length)]!;
        u8.set(a, at);
        u8.set(b, at + a.length);
        len = a.length + b.length;
      } else {
        const src = pool[below(pool.length)]!;
        u8.set(src, at);
        len = src.length;
        if (kind === 1 || kind === 2 || kind === 3) {
          for (let k = 1 + below(4); k > 0; k--) u8[at + below(len)] ^= 1 + below(255);
        } else if (kind === 4) {
          len = below(len);
        } else if (kind === 5) {
          const extra = 1 + below(8);
          for (let i = 0; i < extra; i++) u8[at + len + i] = rnd() & 0xff;
          len += extra;
        } else if (kind === 6) {
          // a record length, TLV length or header byte set to an arbitrary value
          u8[at + below(Math.min(len, 64))] = rnd() & 0xff;
        } else if (kind === 9) {
          // a 16-bit field (record_count, record length) at an arbitrary place set to an extreme
          const p = below(Math.max(1, len - 1));
          const v = [0, 1, 39, 40, 0x7fff, 0xffff][below(6)]!;
          u8[at + p] = v >>> 8;
          u8[at + p + 1] = v & 0xff;
        }
      }
      kinds[m] = kind;
      u32[wasmRow + m * MSG_WORDS + M_PTR] = at;
      u32[wasmRow + m * MSG_WORDS + M_LEN] = len;
      u32[baseRow + m * MSG_WORDS + M_PTR] = at;
      u32[baseRow + m * MSG_WORDS + M_LEN] = len;
      at += len;
    }
    const checkFrames = batchNo % FUZZ_DEFAULTS.frameCheckEvery === 0;
    const framesBefore = checkFrames ? u8.slice(wasmSlot.framePtr, at) : undefined;
    // The decoder may stage a failing frame's records past the ones it keeps, but never more record slots than the
    // batch's bytes can hold (a record is at least 40 bytes): a band of canaries after that bound catches a runaway write.
    const recWords = wasmSlot.recPtr >>> 2;
    const bandStart = recWords + Math.ceil((at - wasmSlot.framePtr) / 40) * REC_WORDS;
    const bandEnd = Math.min(bandStart + 256 * REC_WORDS, recWords + wasmSlot.maxRecords * REC_WORDS);
    if (checkFrames) u32.fill(CANARY, bandStart, bandEnd);

    const total = decoder.decode(wasmSlot, n);
    const baseTotal = baseline.decodeBatch(baseSlot.msgPtr, n, baseSlot.recPtr);
    r.records += total;
    if (total !== baseTotal) {
      r.disagreements++;
      if (r.reports.length < FUZZ_DEFAULTS.maxReported) r.reports.push(`batch at frame ${done} (seed ${job.seed}): wasm decoded ${total} records, baseline ${baseTotal}`);
    }
    if (framesBefore !== undefined) {
      const after = u8.subarray(wasmSlot.framePtr, at);
      if (Buffer.compare(Buffer.from(framesBefore.buffer), Buffer.from(after.buffer, after.byteOffset, after.byteLength)) !== 0) {
        r.escapes++;
        if (r.reports.length < FUZZ_DEFAULTS.maxReported) r.reports.push(`batch at frame ${done} (seed ${job.seed}): the decoder changed frame bytes`);
      }
      for (let k = bandStart; k < bandEnd; k++) {
        if (u32[k] !== CANARY) {
          r.escapes++;
          if (r.reports.length < FUZZ_DEFAULTS.maxReported) r.reports.push(`batch at frame ${done} (seed ${job.seed}): a write past every record slot the batch could fill (word ${k - recWords})`);
          break;
        }
      }
    }

    for (let m = 0; m < n; m++) {
      const frame = done + m;
      const w = wasmRow + m * MSG_WORDS;
      const b = baseRow + m * MSG_WORDS;
      const reason = u32[w + M_REASON]!;
      const count = u32[w + M_COUNT]!;
      if (reason >= REASON_NAMES.length || (reason === 0) !== (count > 0)) {
        r.invalid++;
        report(frame, `reason code ${reason} with ${count} records`, m);
        continue;
      }
      r.reasons[reason]!++;
      if (reason !== u32[b + M_REASON] || u32[w + M_FIRST] !== u32[b + M_FIRST] || count !== u32[b + M_COUNT]) {
        r.disagreements++;
        report(frame, `wasm ${REASON_NAMES[reason]} (${count} records) vs baseline ${REASON_NAMES[u32[b + M_REASON]!] ?? u32[b + M_REASON]} (${u32[b + M_COUNT]} records)`, m);
        continue;
      }
      if (kinds[m] === 0 && reason !== 0) {
        r.rejectedValid++;
        report(frame, `an unchanged valid frame was ${REASON_NAMES[reason]}`, m);
      }
      if (reason !== 0) continue;
      const lo = u32[w + M_PTR]!;
      const hi = lo + u32[w + M_LEN]!;
      const inside = (p: number, len: number): boolean => p >= lo && p + len <= hi;
      const first = u32[w + M_FIRST]!;
      for (let i = 0; i < count; i++) {
        const rw = (wasmSlot.recPtr >>> 2) + (first + i) * REC_WORDS;
        const bw = (baseSlot.recPtr >>> 2) + (first + i) * REC_WORDS;
        let same = true;
        for (let k = 0; k < REC_WORDS; k++) if (u32[rw + k] !== u32[bw + k]) same = false;
        if (!same) {
          r.disagreements++;
          report(frame, `record ${i} differs from the baseline`, m);
          break;
        }
        const flags = u32[rw + R_CODES]! >>> 24;
        if (
          u32[rw + R_MESSAGE] !== m ||
          u32[rw + R_INDEX] !== i ||
          !inside(u32[rw + R_IMSI_PTR]!, 8) ||
          u32[rw + R_IMSI_DIGITS]! > 16 ||
          (flags & F_APN && !inside(u32[rw + R_APN_PTR]!, u32[rw + R_APN_LEN]!)) ||
          (flags & F_VENDOR_DETAIL && !inside(u32[rw + R_VD_PTR]!, u32[rw + R_VD_LEN]!))
        ) {
          r.escapes++;
          report(frame, `record ${i} points outside its frame [${lo}, ${hi}) or is misnumbered`, m);
          break;
        }
      }
    }
    r.frames += n;
    Atomics.store(counters, C_FRAMES, r.frames);
  }
  return r;
}

function intOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 1) {
    process.stderr.write(`fuzz-decoder: --${name} expects a positive integer, got '${raw}'\n`);
    process.exit(64);
  }
  return v;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { frames: { type: 'string' }, seed: { type: 'string' }, batch: { type: 'string' }, 'watchdog-ms': { type: 'string' } },
  });
  const frames = intOption('frames', values.frames, FUZZ_DEFAULTS.frames);
  const seed = intOption('seed', values.seed, FUZZ_DEFAULTS.seed) >>> 0;
  const batch = intOption('batch', values.batch, FUZZ_DEFAULTS.batch);
  const watchdogMs = intOption('watchdog-ms', values['watchdog-ms'], FUZZ_DEFAULTS.watchdogMs);
  const counters = new SharedArrayBuffer(COUNTERS * 4);
  const view = new Int32Array(counters);
  const t0 = Date.now();
  const job: FuzzJob = { frames, seed, batch, counters };
  const worker = new Worker(new URL(import.meta.url), { workerData: job });

  const outcome = await new Promise<{ result?: FuzzResult; crash?: string; hang?: boolean }>((resolve) => {
    let last = -1;
    let lastChange = Date.now();
    let lastPrint = Date.now();
    const watch = setInterval(() => {
      const now = Date.now();
      const f = Atomics.load(view, C_FRAMES);
      if (f !== last) {
        last = f;
        lastChange = now;
      } else if (now - lastChange > watchdogMs) {
        clearInterval(watch);
        void worker.terminate();
        resolve({ hang: true });
      }
      if (now - lastPrint >= 30_000) {
        lastPrint = now;
        process.stderr.write(`fuzz-decoder: ${f} of ${frames} frames, ${Math.round(f / ((now - t0) / 1000))} frames/s\n`);
      }
    }, 500);
    worker.once('message', (result: FuzzResult) => {
      clearInterval(watch);
      resolve({ result });
    });
    worker.once('error', (err) => {
      clearInterval(watch);
      resolve({ crash: (err as Error).stack ?? String(err) });
    });
    worker.once('exit', (code) => {
      clearInterval(watch);
      resolve({ crash: `the worker exited with code ${code} before it finished` });
    });
  });
  const seconds = (Date.now() - t0) / 1000;
  const batchStart = Atomics.load(view, C_BATCH_START);
  if (outcome.hang === true) {
    process.stdout.write(`fuzz-decoder: HANG: no batch finished for ${watchdogMs} ms, in the batch starting at frame ${batchStart} (seed ${seed}, --batch ${batch}); ${Atomics.load(view, C_FRAMES)} frames checked before it\n`);
    return 3;
  }
  if (outcome.result === undefined) {
    process.stdout.write(`fuzz-decoder: CRASH in the batch starting at frame ${batchStart} (seed ${seed}, --batch ${batch}): ${outcome.crash}\n`);
    return 2;
  }
  const r = outcome.result;
  const failures = r.disagreements + r.escapes + r.invalid + r.rejectedValid;
  const rate = Math.round(r.frames / seconds);
  process.stdout.write(
    `fuzz-decoder: ${r.frames} frames in ${seconds.toFixed(1)} s (${rate} frames/s), seed ${seed}: ${r.reasons[0]} decoded (${r.records} records), ${r.frames - r.reasons[0]!} dead-lettered; 0 crashes, 0 hangs, ${r.disagreements} disagreements with the baseline, ${r.escapes} escapes, ${r.invalid} invalid outcomes, ${r.rejectedValid} valid frames rejected — ${failures === 0 ? 'PASS' : 'FAIL'}\n`,
  );
  for (let i = 0; i < REASON_NAMES.length; i++) process.stdout.write(`  ${REASON_NAMES[i]!.padEnd(18)} ${r.reasons[i]}\n`);
  for (const line of r.reports) process.stdout.write(`  ${line}\n`);
  return failures === 0 ? 0 : 1;
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`fuzz-decoder: ${(err as Error).stack ?? err}\n`);
      process.exit(70);
    },
  );
} else {
  parentPort!.postMessage(fuzzWorker(workerData as FuzzJob));
}
