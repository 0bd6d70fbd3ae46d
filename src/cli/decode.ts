// `lux decode`: the daemon's decoder, snapshot and serializer run locally over a file of length-prefixed frames, NDJSON out.
import fs from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { parseOptions, positiveInt, required } from './args.js';
import { LuxError } from '../errors.js';
import { loadRefTables } from '../enrich/csv-tables.js';
import { buildSnapshot, type Snapshot } from '../enrich/snapshot.js';
import { RecordJsonWriter, recordJsonCapacity } from '../enrich/record-json.js';
import { Lxe1Decoder, compileLxe1Sync, createDecoderMemory, type CompiledDecoder } from '../decode/wasm-decoder.js';
import { MSG_WORDS, M_COUNT, M_FIRST, M_LEN, M_PTR, M_REASON, REC_BYTES, memoryPages, slotGeometry, type SlotGeometry } from '../decode/layout.js';
import { REASON_NAMES } from '../decode/reasons.js';
import { DEFAULTS, LIMITS } from '../config/schema.js';
import { LocalKpis } from '../kpis/local-kpis.js';

const USAGE = 'usage: lux decode --ref DIR [--in FILE] [--dlq FILE] [--kpis FILE [--kpi-window-ms MS]]';
/** Frames per decode call and the frame area they share; a larger frame gets a larger memory of its own. */
const BATCH_FRAMES = 4096;
const BATCH_BYTES = 4 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

export async function decodeCommand(argv: string[]): Promise<number> {
  const opts = parseOptions('decode', argv, {
    ref: { type: 'string' },
    in: { type: 'string' },
    dlq: { type: 'string' },
    kpis: { type: 'string' },
    'kpi-window-ms': { type: 'string' },
  });
  if (opts.help) {
    process.stdout.write(
      `${USAGE}\n\nReads frames, each preceded by its length as a 4-byte big-endian integer (default: standard input),\nwrites one enriched record per line to standard output, and one {"index", "reason"} line per dead-lettered frame\nto the --dlq file (default: standard error).\n` +
        `With --kpis, also writes the indicators of every window (SPEC section 7, all four dimensions, windows of\n--kpi-window-ms, default ${DEFAULTS.kpis.window_ms}) to FILE, one JSON object per line, once the input is read.\n`,
    );
    return 0;
  }
  const refDir = required('decode', 'ref', opts.ref);
  const windowMs = kpiWindow(opts.kpis, opts['kpi-window-ms']);
  const snapshot = buildSnapshot(loadRefTables(refDir));
  const input = openInput(opts.in);
  const kpiOut = opts.kpis === undefined ? undefined : await openOutput(opts.kpis, 'kpis');
  const dlq = opts.dlq === undefined ? process.stderr : await openOutput(opts.dlq, 'dlq');
  const kpis = kpiOut === undefined ? undefined : new LocalKpis(snapshot, windowMs);
  const run = new LocalDecode(snapshot, process.stdout, dlq, kpis);
  try {
    await run.decodeStream(input, opts.in ?? 'standard input');
    if (kpis !== undefined && kpiOut !== undefined) await kpis.write(kpiOut);
  } finally {
    for (const s of [dlq, kpiOut]) {
      if (s === undefined || s === process.stderr) continue;
      s.end();
      await once(s, 'finish');
    }
  }
  return 0;
}

/** The KPI window size: --kpi-window-ms (a positive integer of at most 7 days) and only with --kpis. */
function kpiWindow(kpis: string | undefined, value: string | undefined): number {
  if (kpis === undefined) {
    if (value !== undefined) throw new LuxError('E_USAGE', 'decode: --kpi-window-ms needs --kpis FILE');
    return DEFAULTS.kpis.window_ms;
  }
  if (kpis === '') throw new LuxError('E_USAGE', 'decode: --kpis expects a file name');
  const ms = positiveInt('decode', 'kpi-window-ms', value, DEFAULTS.kpis.window_ms);
  if (ms > LIMITS.window_ms) throw new LuxError('E_USAGE', `decode: --kpi-window-ms expects at most ${LIMITS.window_ms} (7 days), got '${value}'`);
  return ms;
}

function openInput(file: string | undefined): fs.ReadStream | NodeJS.ReadStream {
  if (file === undefined) return process.stdin;
  try {
    const fd = fs.openSync(file, 'r');
    if (fs.fstatSync(fd).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return fs.createReadStream(file, { fd, highWaterMark: READ_CHUNK });
  } catch (err) {
    throw new LuxError('E_IO', `decode: cannot read --in ${file}: ${(err as Error).message}`);
  }
}

async function openOutput(file: string, option: string): Promise<fs.WriteStream> {
  const s = fs.createWriteStream(file);
  await new Promise<void>((resolve, reject) => {
    s.once('open', () => resolve());
    s.once('error', (err) => reject(new LuxError('E_IO', `decode: cannot write --${option} ${file}: ${err.message}`)));
  });
  return s;
}

/** One decoder over its own memory and slot, fed frame by frame, writing NDJSON and dead-letter lines in input order. */
export class LocalDecode {
  private readonly module: CompiledDecoder = compileLxe1Sync();
  private decoder!: Lxe1Decoder;
  private slot!: SlotGeometry;
  private readonly writer: RecordJsonWriter;
  private readonly recordCap: number;
  private out: Uint8Array;
  private outPos = 0;
  private dlqText = '';
  /** frames written into the slot and not yet decoded */
  private pending = 0;
  private framePos = 0;
  /** index of the first pending frame in the input */
  private baseIndex = 0;

  constructor(
    snapshot: Snapshot,
    private readonly stdout: Writable,
    private readonly dlq: Writable,
    /** the indicators of `--kpis`, fed every decoded batch */
    private readonly kpis?: LocalKpis,
  ) {
    this.writer = new RecordJsonWriter(snapshot);
    this.recordCap = recordJsonCapacity(snapshot) + 1;
    this.out = new Uint8Array(Math.max(1 << 20, this.recordCap * 64));
    this.allocate(BATCH_BYTES);
  }

  private allocate(frameBytes: number): void {
    const memory = createDecoderMemory(memoryPages(1, BATCH_FRAMES, frameBytes));
    this.decoder = new Lxe1Decoder(memory, this.module);
    this.decoder.initCrc();
    this.slot = slotGeometry(0, BATCH_FRAMES, frameBytes);
    this.writer.bind(memory.buffer);
  }

  /** Reads length-prefixed frames to the end of `input`; a stream that ends inside a frame dead-letters that frame as truncated. */
  async decodeStream(input: NodeJS.ReadableStream, name: string): Promise<void> {
    let carry: Buffer = Buffer.alloc(0);
    let index = 0;
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        let buf = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
        let at = 0;
        while (buf.length - at >= 4) {
          const len = buf.readUInt32BE(at);
          if (buf.length - at - 4 < len) break;
          await this.frame(buf.subarray(at + 4, at + 4 + len), index++);
          at += 4 + len;
        }
        carry = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
        buf = carry;
      }
    } catch (err) {
      if (err instanceof LuxError) throw err;
      throw new LuxError('E_IO', `decode: cannot read ${name}: ${(err as Error).message}`);
    }
    if (carry.length > 0) {
      // The input ended inside a length prefix or a frame: that frame is incomplete, never silently dropped.
      await this.flushBatch();
      this.deadLetter(index, 'truncated');
    }
    await this.flushBatch();
    await this.flushOutput();
  }

  private async frame(bytes: Uint8Array, index: number): Promise<void> {
    if (bytes.length > this.slot.frameBytes) {
      await this.flushBatch();
      this.allocate(Math.ceil(bytes.length / BATCH_BYTES) * BATCH_BYTES);
    }
    if (this.pending === BATCH_FRAMES || this.framePos + bytes.length > this.slot.framePtr + this.slot.frameBytes) await this.flushBatch();
    if (this.pending === 0) {
      this.baseIndex = index;
      this.framePos = this.slot.framePtr;
    }
    const { u8, u32 } = this.decoder;
    u8.set(bytes, this.framePos);
    const row = (this.slot.msgPtr >>> 2) + this.pending * MSG_WORDS;
    u32[row + M_PTR] = this.framePos;
    u32[row + M_LEN] = bytes.length;
    this.framePos += bytes.length;
    this.pending++;
  }

  /** Decodes the pending frames and serializes them in order. */
  private async flushBatch(): Promise<void> {
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    this.decoder.decode(this.slot, n);
    const u32 = this.decoder.u32;
    this.kpis?.addSlot(u32, this.decoder.i32, this.decoder.f64, this.slot, n);
    for (let i = 0; i < n; i++) {
      const row = (this.slot.msgPtr >>> 2) + i * MSG_WORDS;
      const reason = u32[row + M_REASON];
      if (reason !== 0) {
        this.deadLetter(this.baseIndex + i, REASON_NAMES[reason] ?? 'truncated');
        continue;
      }
      const first = u32[row + M_FIRST];
      const count = u32[row + M_COUNT];
      for (let r = 0; r < count; r++) {
        if (this.out.length - this.outPos < this.recordCap) await this.flushOutput();
        const pos = this.writer.write(this.slot.recPtr + (first + r) * REC_BYTES, this.out, this.outPos);
        if (pos < 0) throw new LuxError('E_INTERNAL', `record ${r} of frame ${this.baseIndex + i} does not fit an output buffer of ${this.out.length} bytes`);
        this.out[pos] = 0x0a;
        this.outPos = pos + 1;
      }
    }
  }

  private deadLetter(index: number, reason: string): void {
    this.dlqText += `{"index": ${index}, "reason": "${reason}"}\n`;
  }

  /** Writes out what is buffered, records first, then dead letters (separate streams, each in input order). */
  private async flushOutput(): Promise<void> {
    if (this.outPos > 0) {
      const chunk = Buffer.from(this.out.subarray(0, this.outPos));
      this.outPos = 0;
      if (!this.stdout.write(chunk)) await once(this.stdout, 'drain');
    }
    if (this.dlqText !== '') {
      const text = this.dlqText;
      this.dlqText = '';
      if (!this.dlq.write(text)) await once(this.dlq, 'drain');
    }
  }
}
