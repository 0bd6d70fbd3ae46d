// Resource use of a child process from /proc: peak resident memory (VmHWM) and CPU time (utime + stime), sampled while it runs.
import fs from 'node:fs';

/** Linux reports utime and stime in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const CLOCK_TICKS = 100;

export interface ProcUsage {
  /** peak resident set, MB (VmHWM: the kernel's own high-water mark, so no sampling gap misses a peak) */
  rssMbMax: number;
  /** user + system CPU seconds, all threads (workers included) */
  cpuS: number;
}

/** Reads the process's usage now; undefined once it is gone. */
export function readProcUsage(pid: number): ProcUsage | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    // Fields after the command name (which may hold spaces) start after the last ')': state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssMbMax: hwm === null ? 0 : Number(hwm[1]) / 1024, cpuS: ticks / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/** Samples a process every `intervalMs` and keeps the last reading, so the figures survive its exit. */
export class ProcSampler {
  last: ProcUsage = { rssMbMax: 0, cpuS: 0 };
  /** [seconds since start, CPU seconds] */
  readonly cpuSeries: Array<[number, number]> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = Date.now();

  constructor(private readonly pid: number, intervalMs = 250) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    const u = readProcUsage(this.pid);
    if (u === undefined) return;
    this.last = { rssMbMax: Math.max(this.last.rssMbMax, u.rssMbMax), cpuS: Math.max(this.last.cpuS, u.cpuS) };
    this.cpuSeries.push([(Date.now() - this.t0) / 1000, u.cpuS]);
  }

  stop(): ProcUsage {
    this.sample();
    clearInterval(this.timer);
    return this.last;
  }
}
