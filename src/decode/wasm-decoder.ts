// The LXE1 WASM decoder on the JS side: compiles the module once, shares one memory between threads and fills and decodes batch slots.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LuxError } from '../errors.js';
import { LXE1_WASM } from '../paths.js';
import { MSG_BYTES, MSG_WORDS, M_COUNT, M_FIRST, M_LEN, M_PARTITION, M_PTR, M_REASON, SLOTS_BASE, WASM_PAGE, type SlotGeometry } from './layout.js';

/** A compiled WebAssembly.Module: structured-cloneable, so it can travel to workers in workerData. */
export type CompiledDecoder = WebAssembly.Module;
export type DecoderMemory = WebAssembly.Memory;

/** The module declares 2 initial pages (asconfig.json initialMemory); an imported memory may not be smaller. */
export const MIN_DECODER_PAGES = 2;

interface Lxe1Exports {
  crcInit(): void;
  crc32(ptr: number, len: number): number;
  validUtf8(ptr: number, len: number): number;
  decodeBatch(msgPtr: number, msgCount: number, recPtr: number): number;
}

/** One shared memory for every decoder instance; fixed size (initial = maximum) so typed-array views never go stale. */
export function createDecoderMemory(pages: number): DecoderMemory {
  const n = Math.max(Math.ceil(pages), MIN_DECODER_PAGES, SLOTS_BASE / WASM_PAGE + 1);
  return new WebAssembly.Memory({ initial: n, maximum: n, shared: true });
}

/** Compiles the LXE1 module (once per process; pass the result to workers instead of compiling again). */
export async function compileLxe1(file: string = LXE1_WASM): Promise<CompiledDecoder> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new LuxError('E_IO', `${file}: cannot read the LXE1 decoder (run npm run build:wasm)`, { cause: err });
  }
  return WebAssembly.compile(bytes);
}

export function compileLxe1Sync(file: string = LXE1_WASM): CompiledDecoder {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new LuxError('E_IO', `${file}: cannot read the LXE1 decoder (run npm run build:wasm)`, { cause: err });
  }
  return new WebAssembly.Module(bytes);
}

let threadModule: CompiledDecoder | undefined;

/** This thread's compiled module: compiled on first use, then reused by every decoder the thread makes. */
export function lxe1Module(): CompiledDecoder {
  threadModule ??= compileLxe1Sync();
  return threadModule;
}

/** Typed-array views over the shared memory, made once; enrichment reads record slots through the same views. */
export class MemoryViews {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  constructor(readonly memory: DecoderMemory) {
    const b = memory.buffer as SharedArrayBuffer;
    this.u8 = new Uint8Array(b);
    this.u32 = new Uint32Array(b);
    this.i32 = new Int32Array(b);
    this.f64 = new Float64Array(b);
  }
}

/** One decoder instance (one per thread) over the shared memory. */
export class Lxe1Decoder extends MemoryViews {
  readonly format = 'lxe1';
  private readonly exports: Lxe1Exports;

  constructor(memory: DecoderMemory, module: CompiledDecoder = lxe1Module()) {
    super(memory);
    const instance = new WebAssembly.Instance(module, {
      env: {
        memory,
        abort: () => {
          throw new LuxError('E_INTERNAL', 'the LXE1 decoder aborted');
        },
      },
    });
    this.exports = instance.exports as unknown as Lxe1Exports;
  }

  /** Fills the CRC tables in reserved low memory: once per memory, on the main thread, before workers decode. */
  initCrc(): void {
    this.exports.crcInit();
  }

  /** Decodes the first `msgCount` messages of the slot (filled with fillSlot); returns the number of records written. */
  decode(slot: SlotGeometry, msgCount: number): number {
    return this.exports.decodeBatch(slot.msgPtr, msgCount, slot.recPtr);
  }

  /** Decodes an arbitrary message table (absolute offsets), for callers that lay out memory themselves. */
  decodeAt(msgPtr: number, msgCount: number, recPtr: number): number {
    return this.exports.decodeBatch(msgPtr, msgCount, recPtr);
  }

  crc32(ptr: number, len: number): number {
    return this.exports.crc32(ptr, len) >>> 0;
  }
}

/**
 * Copies frames[start..] into the slot's frame area and message table, in order, until either is full.
 * Returns how many frames fitted (0 only when frames[start] alone is larger than the frame area, or nothing is left).
 */
export function fillSlot(
  views: { u8: Uint8Array; u32: Uint32Array },
  slot: SlotGeometry,
  frames: ArrayLike<Uint8Array>,
  start = 0,
): number {
  const { u8, u32 } = views;
  const limit = slot.framePtr + slot.frameBytes;
  let at = slot.framePtr;
  let n = 0;
  for (let i = start; i < frames.length && n < slot.maxMessages; i++, n++) {
    const f = frames[i]!;
    if (at + f.byteLength > limit) break;
    u8.set(f, at);
    const row = (slot.msgPtr >>> 2) + n * MSG_WORDS;
    u32[row + M_PTR] = at;
    u32[row + M_LEN] = f.byteLength;
    u32[row + M_REASON] = 0;
    u32[row + M_FIRST] = 0;
    u32[row + M_COUNT] = 0;
    u32[row + M_PARTITION] = 0;
    at += f.byteLength;
  }
  return n;
}

/** The u32 index of word `word` of message row `m` in the slot's message table. */
export function messageWord(slot: SlotGeometry, m: number, word: number): number {
  return ((slot.msgPtr + m * MSG_BYTES) >>> 2) + word;
}
