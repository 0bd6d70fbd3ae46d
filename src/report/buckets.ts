// The report's time buckets: a period cut into equal, epoch-aligned steps, each message placed by its time.

export class Buckets {
  readonly startMs: number;
  readonly count: number;

  constructor(
    fromMs: number,
    toMs: number,
    readonly seconds: number,
  ) {
    const step = seconds * 1000;
    this.startMs = Math.floor(fromMs / step) * step;
    this.count = Math.max(1, Math.ceil((toMs - this.startMs) / step));
  }

  /** The bucket holding `ms`, or -1 outside the period's buckets. */
  index(ms: number): number {
    const i = Math.floor((ms - this.startMs) / (this.seconds * 1000));
    return i >= 0 && i < this.count ? i : -1;
  }

  start(i: number): number {
    return this.startMs + i * this.seconds * 1000;
  }

  startIso(i: number): string {
    return new Date(this.start(i)).toISOString();
  }
}
