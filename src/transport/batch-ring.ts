// The shared-memory batch ring: fixed slots that carry a batch's frames to a worker and its serialized records back, used strictly in order.
import {
  MSG_WORDS, M_LEN, M_PARTITION, M_PTR, memoryPages, slotGeometry, type SlotGeometry,
} from '../decode/layout.js';

export interface RingSizes {
  /** number of slots: how many batches can be in flight at once */
  slots: number;
  /** most messages (frames) in one batch */
  maxMessages: number;
  /** bytes of frames in one batch */
  frameBytes: number;
  /** bytes of serialized JSON one pass over a slot may write */
  outBytes: number;
}

/** Per-slot output region, in the output SharedArrayBuffer: the end offset of each record's JSON, then the JSON bytes. */
export interface OutputGeometry {
  /** u32 index of the first record-end entry */
  endsIndex: number;
  /** byte offset of the JSON area */
  jsonPtr: number;
  jsonBytes: number;
}

export interface RingShared {
  memory: WebAssembly.Memory;
  output: SharedArrayBuffer;
  sizes: RingSizes;
}

export function outputGeometry(sizes: RingSizes, slot: number): OutputGeometry {
  const g = slotGeometry(0, sizes.maxMessages, sizes.frameBytes);
  const endsBytes = Math.ceil((g.maxRecords * 4) / 64) * 64;
  const per = endsBytes + sizes.outBytes;
  const base = slot * per;
  return { endsIndex: base / 4, jsonPtr: base + endsBytes, jsonBytes: sizes.outBytes };
}

export function outputBytes(sizes: RingSizes): number {
  const last = outputGeometry(sizes, sizes.slots - 1);
  return last.jsonPtr + last.jsonBytes;
}

/** Bytes of shared memory a ring of these sizes takes (decoder memory plus output), for the memory budget. */
export function ringBytes(sizes: RingSizes): number {
  return memoryPages(sizes.slots, sizes.maxMessages, sizes.frameBytes) * 65536 + outputBytes(sizes);
}

/** Allocates the shared memories for a ring. */
export function createRingShared(sizes: RingSizes): RingShared {
  const pages = memoryPages(sizes.slots, sizes.maxMessages, sizes.frameBytes);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const output = new SharedArrayBuffer(outputBytes(sizes));
  return { memory, output, sizes };
}

/** Typed views and slot geometry over a ring's shared memories; the same class serves the main thread and the workers. */
export class RingViews {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly outU8: Uint8Array;
  readonly outU32: Uint32Array;
  readonly slots: SlotGeometry[];
  readonly outputs: OutputGeometry[];
  /** per slot, a view of exactly its JSON area, so a writer bounded by its array cannot spill into the next slot */
  readonly json: Uint8Array[];
  /** per slot, its record-end offsets: one u32 a record the slot can hold */
  readonly ends: Uint32Array[];

  constructor(readonly shared: RingShared) {
    const buf = shared.memory.buffer as unknown as SharedArrayBuffer;
    this.u8 = new Uint8Array(buf);
    this.u32 = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.outU8 = new Uint8Array(shared.output);
    this.outU32 = new Uint32Array(shared.output);
    this.slots = [];
    this.outputs = [];
    this.json = [];
    this.ends = [];
    for (let i = 0; i < shared.sizes.slots; i++) {
      this.slots.push(slotGeometry(i, shared.sizes.maxMessages, shared.sizes.frameBytes));
      const out = outputGeometry(shared.sizes, i);
      this.outputs.push(out);
      this.json.push(this.outU8.subarray(out.jsonPtr, out.jsonPtr + out.jsonBytes));
      this.ends.push(this.outU32.subarray(out.endsIndex, out.endsIndex + this.slots[i].maxRecords));
    }
  }

  /**
   * Copies message values, from `from`, into the slot's frame area and message table: the one copy a frame makes on
   * its way in. Stops when the slot is full; returns how many messages it took. A message that alone exceeds an empty
   * slot is taken with length 0, so the decoder dead-letters it as `truncated` (the original bytes still go to the
   * dead-letter topic, from the Kafka message).
   */
  fill(slot: number, values: ArrayLike<{ value: Buffer | null; partition: number }>, from: number): number {
    const g = this.slots[slot];
    const u32 = this.u32;
    let ptr = g.framePtr;
    const end = g.framePtr + g.frameBytes;
    let n = 0;
    for (let i = from; i < values.length && n < g.maxMessages; i++) {
      const m = values[i];
      const v = m.value;
      const len = v === null ? 0 : v.length;
      const row = (g.msgPtr >>> 2) + n * MSG_WORDS;
      if (ptr + len > end) {
        if (n > 0) break;
        // Alone and still too big: no slot can hold it.
        u32[row + M_PTR] = g.framePtr;
        u32[row + M_LEN] = 0;
        u32[row + M_PARTITION] = m.partition;
        return 1;
      }
      if (len > 0) this.u8.set(v as Buffer, ptr);
      u32[row + M_PTR] = ptr;
      u32[row + M_LEN] = len;
      u32[row + M_PARTITION] = m.partition;
      ptr += len;
      n++;
    }
    return n;
  }
}
