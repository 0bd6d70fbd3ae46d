// The KPIs of `lux decode --kpis` (SPEC section 6): the daemon's batch partials, codec, window store and KPI JSON over a local decode, every window emitted once the input ends.
//
// The same path as the daemon's, minus Kafka: each local decode batch is folded by BatchPartials (all four
// dimensions, one shard), encoded, read back with the merge's chunk reader into one window store. No watermark and
// no lateness: every decoded record counts, and at the end every window is closed, in ascending order.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { SlotGeometry } from '../decode/layout.js';
import { Reference } from '../enrich/reference.js';
import { Snapshot } from '../enrich/snapshot.js';
import { BatchPartials } from './batch-partials.js';
import { ByteReader, ByteWriter } from './leb128.js';
import { windowTimes } from './kpi-json.js';
import { KpiJsonWriter } from './kpi-json-writer.js';
import { DIMENSIONS } from './names.js';
import { ChunkReader, readBatchPartials } from './partials-codec.js';
import { KpiWindowStore } from './window-store.js';

/** Bytes of KPI lines gathered before a write. */
const WRITE_CHUNK = 1 << 20;

export class LocalKpis {
  readonly windowMs: number;
  private readonly partials: BatchPartials;
  private readonly store = new KpiWindowStore();
  private readonly reader = new ChunkReader();
  /** records folded */
  records = 0;

  constructor(reference: Snapshot | Reference, windowMs: number) {
    this.windowMs = windowMs;
    this.partials = new BatchPartials({ windowMs, shards: 1, dimensions: DIMENSIONS });
    this.partials.use(reference instanceof Snapshot ? new Reference(reference) : reference);
  }

  /** Folds the records decoded in a slot (messages [0, count)), as a decode worker does. */
  addSlot(u32: Uint32Array, i32: Int32Array, f64: Float64Array, geo: SlotGeometry, count: number): void {
    this.partials.addSlot(u32, i32, f64, geo, count);
    this.records += this.partials.records;
    const batch = readBatchPartials(this.partials.finish());
    for (const chunk of batch.chunks) this.reader.readChunks(new ByteReader(chunk, { what: 'local KPI partials' }), this.store);
  }

  /** Closes every window and writes one KPI object per line to `out`; returns the objects written. */
  async write(out: Writable): Promise<number> {
    const json = new ByteWriter(WRITE_CHUNK * 2);
    const writer = new KpiJsonWriter(this.store);
    const pending: Buffer[] = [];
    let written = 0;
    let times = windowTimes(0, this.windowMs);
    let timesOf = -1;
    this.store.closeThrough(Infinity, (e, window) => {
      if (window !== timesOf) {
        times = windowTimes(window, this.windowMs);
        timesOf = window;
      }
      writer.write(json, e, times);
      json.u8(0x0a);
      written++;
      if (json.pos >= WRITE_CHUNK) {
        pending.push(Buffer.from(json.copy()));
        json.reset();
      }
    });
    if (json.pos > 0) pending.push(Buffer.from(json.copy()));
    for (const chunk of pending) if (!out.write(chunk)) await once(out, 'drain');
    return written;
  }
}
