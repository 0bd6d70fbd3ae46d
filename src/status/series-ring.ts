// A fixed-size ring of numbers (one time series of the status page's history): pushes overwrite the oldest, nothing grows.

export class SeriesRing {
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
  }

  push(v: number): void {
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get length(): number {
    return this.count;
  }

  /** The value `back` pushes ago: 0 is the newest. */
  back(back: number): number {
    if (back < 0 || back >= this.count) throw new RangeError(`series holds ${this.count} values, asked for ${back} back`);
    return this.values[(this.next - 1 - back + 2 * this.capacity) % this.capacity]!;
  }

  /** Oldest first. */
  toArray(): number[] {
    const out = new Array<number>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.back(this.count - 1 - i);
    return out;
  }
}
