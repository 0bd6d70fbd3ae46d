// Resource use of a child process from /proc: peak resident memory (VmHWM) and CPU time (utime + stime), sampled while it runs.
import fs from 'node:fs';
import { THREAD_NAMES } from '../../src/service/thread-name.js';

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

/** The groups a daemon's threads are counted in, in report order (src/service/thread-name.ts names LUX's own). */
export const THREAD_GROUPS = ['main', 'decode', 'kpi', 'alarm', 'refdata', 'librdkafka', 'v8+libuv'] as const;

/** The group of one thread: the main thread (id = pid), LUX's named threads, librdkafka's (rdk:*), else V8's and libuv's helpers. */
export function threadGroup(pid: number, tid: number, comm: string): (typeof THREAD_GROUPS)[number] {
  if (tid === pid) return 'main';
  if (comm === THREAD_NAMES.decode) return 'decode';
  if (comm === THREAD_NAMES.kpi) return 'kpi';
  if (comm === THREAD_NAMES.alarm) return 'alarm';
  if (comm === THREAD_NAMES.refdata) return 'refdata';
  if (comm.startsWith('rdk:')) return 'librdkafka';
  return 'v8+libuv';
}

/** CPU seconds of each live thread of a process, keyed by thread id, with its group; empty once it is gone. */
export function readThreadCpu(pid: number): Map<number, { group: string; cpuS: number }> {
  const out = new Map<number, { group: string; cpuS: number }>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const comm = fs.readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
      const stat = fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(t), { group: threadGroup(pid, Number(t), comm), cpuS: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** A process's CPU by thread group over a window: the threads' CPU at `stop` minus at construction (a thread born meanwhile counts from 0). */
export class ThreadMeter {
  private readonly before: Map<number, { group: string; cpuS: number }>;

  constructor(private readonly pid: number) {
    this.before = readThreadCpu(pid);
  }

  /** CPU seconds per group over the window (threads that ended inside it are not seen). */
  stop(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [tid, t] of readThreadCpu(this.pid)) out[t.group] = (out[t.group] ?? 0) + t.cpuS - (this.before.get(tid)?.cpuS ?? 0);
    return out;
  }
}

/** µs of CPU a record per thread group (to 0.1), in report order; groups under 0.05 µs left out. */
export function perRecordByThread(cpuS: Record<string, number>, records: number): Record<string, number> | undefined {
  if (records <= 0) return undefined;
  const out: Record<string, number> = {};
  for (const g of THREAD_GROUPS) {
    const us = Math.round(((cpuS[g] ?? 0) / records) * 1e7) / 10;
    if (us > 0) out[g] = us;
  }
  return out;
}
