// The last few dead letters (topic, partition, offset, reason), kept as examples for the status page in a fixed ring.
import type { DeadLetterExample } from './status-document.js';
import { STATUS_DEFAULTS } from './status-defaults.js';

/**
 * `add` is called once per dead letter on the main thread (dead letters are rare next to records, and the ring's
 * slots are reused: one small object per dead letter at most, none per record). `list()` is for the status builder.
 */
export class DeadLetterSamples {
  private readonly topics: string[];
  private readonly partitions: Int32Array;
  private readonly offsets: Float64Array;
  private readonly reasons: string[];
  private readonly times: Float64Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number = STATUS_DEFAULTS.deadLetterExamples) {
    this.topics = new Array<string>(capacity).fill('');
    this.reasons = new Array<string>(capacity).fill('');
    this.partitions = new Int32Array(capacity);
    this.offsets = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  add(topic: string, partition: number, offset: number, reason: string, atMs: number = Date.now()): void {
    const i = this.next;
    this.topics[i] = topic;
    this.partitions[i] = partition;
    this.offsets[i] = offset;
    this.reasons[i] = reason;
    this.times[i] = atMs;
    this.next = (i + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Most recent first. */
  list(): DeadLetterExample[] {
    const out: DeadLetterExample[] = [];
    for (let k = 1; k <= this.size; k++) {
      const i = (this.next - k + this.capacity) % this.capacity;
      out.push({ at: new Date(this.times[i]!).toISOString(), topic: this.topics[i]!, partition: this.partitions[i]!, offset: this.offsets[i]!, reason: this.reasons[i]! });
    }
    return out;
  }
}
