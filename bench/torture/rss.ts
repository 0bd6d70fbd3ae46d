// Resident memory of the daemon instances over a run, from /proc: the current RSS of each live process sampled on a timer, and the kernel's own high-water mark (VmHWM) of each, so no peak falls between two samples.
import fs from 'node:fs';

export interface RssSample {
  /** seconds since the sampler started */
  atS: number;
  /** MB, per instance index (0 when not running) */
  rssMb: number[];
}

/** VmRSS and VmHWM of a process in MB; undefined once it is gone. */
export function readRss(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return { rssMb: Number(rss?.[1] ?? 0) / 1024, hwmMb: Number(hwm?.[1] ?? 0) / 1024 };
  } catch {
    return undefined;
  }
}

export class RssSampler {
  /** the largest VmHWM any process reached, MB */
  peakMb = 0;
  /** which instance reached it */
  peakInstance = -1;
  readonly samples: RssSample[] = [];
  private readonly t0 = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: () => (number | undefined)[], intervalMs = 500) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const rssMb: number[] = [];
    this.pids().forEach((pid, i) => {
      const r = pid === undefined ? undefined : readRss(pid);
      rssMb.push(r === undefined ? 0 : Math.round(r.rssMb));
      if (r !== undefined && r.hwmMb > this.peakMb) {
        this.peakMb = r.hwmMb;
        this.peakInstance = i;
      }
    });
    this.samples.push({ atS: (Date.now() - this.t0) / 1000, rssMb });
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}
