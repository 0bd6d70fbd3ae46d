// A progress bar on standard error for the long phases of `lux bench`: redrawn in place on a terminal, a line every few seconds otherwise.

export class ProgressBar {
  private lastDraw = 0;
  private readonly tty: boolean;
  private readonly t0 = Date.now();
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly enabled: boolean,
    /** false for a bar over time (seconds): a rate of seconds per second says nothing */
    private readonly showRate = true,
  ) {
    this.tty = process.stderr.isTTY === true;
  }

  update(done: number, extra = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? 200 : 5000) && done < this.total) return;
    this.lastDraw = now;
    const share = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 30;
    const filled = Math.round(share * width);
    const rate = done / Math.max(0.001, (now - this.t0) / 1000);
    const line =
      `${this.label.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ` +
      `${Math.round(done).toLocaleString('en-US')}/${Math.round(this.total).toLocaleString('en-US')} ${this.unit} ` +
      `${this.showRate ? `${Math.round(rate).toLocaleString('en-US')}/s` : ''}${extra === '' ? '' : ` ${extra}`}`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K`);
    else process.stderr.write(`${line}\n`);
    this.drawn = true;
  }

  done(summary: string): void {
    if (!this.enabled) return;
    if (this.tty && this.drawn) process.stderr.write('\r\x1b[K');
    process.stderr.write(`${this.label.padEnd(22)} ${summary}\n`);
  }
}
