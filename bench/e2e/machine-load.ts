// The CPU of every process of a run (daemon or baseline, generator, probe, broker, this program) and of the whole machine, over the run's window, so a saturated box can be told from a slow daemon.
import fs from 'node:fs';
import { readProcUsage } from './proc-sample.js';

/** Linux reports /proc times in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const CLOCK_TICKS = 100;

export interface ProcessLoad {
  name: string;
  /** the pids measured (a kcat pipe has two); empty when the process was not found (a remote broker) */
  pids: number[];
  /** user + system CPU seconds over the window, all threads */
  cpu_s: number | null;
  /** cpu_s / the window: average cores used */
  cores: number | null;
}

export interface MachineLoad {
  /** CPUs the kernel schedules on */
  cores: number;
  /** average cores busy (user, nice, system, irq, softirq) over the window */
  busy_cores: number;
  /** average cores idle (idle + iowait) */
  idle_cores: number;
  /** average cores taken by the hypervisor for other guests (steal) */
  steal_cores: number;
  /** busy cores not accounted to the processes listed: other users' work on this shared machine */
  other_cores: number;
}

export interface RunLoad {
  /** the window, wall seconds */
  seconds: number;
  processes: ProcessLoad[];
  machine: MachineLoad;
}

/** A process to measure: a pid, or a function giving the pids now (children that appear during the run). */
export interface MeteredProcess {
  name: string;
  pids: number | undefined | (() => number[]);
}

interface MachineTicks {
  busy: number;
  idle: number;
  steal: number;
  cores: number;
}

function machineTicks(): MachineTicks {
  const text = fs.readFileSync('/proc/stat', 'utf8');
  const lines = text.split('\n');
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
  const f = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return {
    busy: user + nice + system + irq + softirq,
    idle: idle + iowait,
    steal,
    cores: lines.filter((l) => /^cpu\d+ /.test(l)).length,
  };
}

/**
 * Reads every process's CPU time at start, every `intervalMs` (the last reading survives a process that exits) and at
 * stop; a pid first seen after the start began during the window, so all its CPU counts.
 */
export class LoadMeter {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  /** per listed process, the pids measured for it */
  private readonly owned: Array<Set<number>>;
  private readonly t0 = Date.now();
  private readonly m0 = machineTicks();
  private readonly timer: NodeJS.Timeout;
  private result: RunLoad | undefined;

  constructor(private readonly processes: readonly MeteredProcess[], intervalMs = 250) {
    this.owned = processes.map(() => new Set<number>());
    this.read(true);
    this.timer = setInterval(() => this.read(false), intervalMs);
    this.timer.unref();
  }

  private read(atStart: boolean): void {
    this.processes.forEach((p, i) => {
      const pids = p.pids === undefined ? [] : typeof p.pids === 'number' ? (p.pids > 0 ? [p.pids] : []) : p.pids();
      for (const pid of pids) {
        const u = readProcUsage(pid);
        if (u === undefined) continue;
        this.owned[i]!.add(pid);
        if (!this.first.has(pid)) this.first.set(pid, atStart ? u.cpuS : 0);
        this.last.set(pid, Math.max(this.last.get(pid) ?? 0, u.cpuS));
      }
    });
  }

  /** Ends the window (idempotent: the first call's figures stay). */
  stop(): RunLoad {
    if (this.result !== undefined) return this.result;
    this.read(false);
    clearInterval(this.timer);
    const m1 = machineTicks();
    const seconds = Math.max(0.001, (Date.now() - this.t0) / 1000);
    const processes = this.processes.map((p, i): ProcessLoad => {
      const pids = [...this.owned[i]!];
      if (pids.length === 0) return { name: p.name, pids: [], cpu_s: null, cores: null };
      const cpu = pids.reduce((s, pid) => s + (this.last.get(pid)! - this.first.get(pid)!), 0);
      return { name: p.name, pids, cpu_s: round(cpu, 2), cores: round(cpu / seconds, 3) };
    });
    const busy = (m1.busy - this.m0.busy) / CLOCK_TICKS / seconds;
    const known = processes.reduce((s, p) => s + (p.cores ?? 0), 0);
    this.result = {
      seconds: round(seconds, 2),
      processes,
      machine: {
        cores: m1.cores,
        busy_cores: round(busy, 3),
        idle_cores: round((m1.idle - this.m0.idle) / CLOCK_TICKS / seconds, 3),
        steal_cores: round((m1.steal - this.m0.steal) / CLOCK_TICKS / seconds, 3),
        other_cores: round(Math.max(0, busy - known), 3),
      },
    };
    return this.result;
  }
}

function round(n: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(n * k) / k;
}
