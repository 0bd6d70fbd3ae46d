// The torture run's faults: a seeded schedule of SIGKILLs (each instance started again after a short, medium or long absence, so partitions stay or move) and broker restarts (the first one longer than the transaction timeout), each triggered by the group's progress or right after the fault before it (mid-recovery, mid-rebalance).
import { Mulberry32 } from '../../src/gen/traffic.js';

export type FaultKind = 'kill' | 'broker';

export interface Fault {
  kind: FaultKind;
  /**
   * When: once the group has committed this share of the input (0–1); or, when `afterPreviousMs` is set, that long
   * after the fault before it ended (a kill during the recovery of a broker restart, or during the rebalance a kill
   * started).
   */
  atProgress: number;
  afterPreviousMs?: number;
  /** kill: which instance (index modulo the instances running then), and how long it stays down */
  victim?: number;
  downMs?: number;
  /** broker: how long it stays down, and whether it is SIGKILLed (else stopped gracefully) */
  outageMs?: number;
  crash?: boolean;
}

/** Absences of a killed instance: back within a rebalance, before its session times out, or long after (its partitions move). */
const DOWN_MS = [
  [200, 2_000],
  [4_000, 8_000],
  [12_000, 20_000],
] as const;

/** The progress range faults fall in: not before the group has started, not after the last of the input. */
const PROGRESS_RANGE = [0.03, 0.9] as const;
/** Share of kills chained right after the fault before them. */
const CHAINED_SHARE = 0.3;

/** The seeded schedule, in the order the faults happen. */
export function faultSchedule(opts: { kills: number; brokerRestarts: number; longOutageMs: number; shortOutageMs: number; seed: number }): Fault[] {
  const rnd = new Mulberry32(opts.seed ^ 0xfa017);
  const [lo, hi] = PROGRESS_RANGE;
  const faults: Fault[] = [];
  // broker restarts spread over the run, with some jitter; the first one long
  for (let b = 0; b < opts.brokerRestarts; b++) {
    const slot = (b + 0.5) / opts.brokerRestarts;
    const at = lo + (hi - lo) * Math.min(0.98, Math.max(0.02, slot + (rnd.next() - 0.5) / (2 * opts.brokerRestarts)));
    faults.push({ kind: 'broker', atProgress: at, outageMs: b === 0 ? opts.longOutageMs : opts.shortOutageMs, crash: b % 2 === 0 });
  }
  for (let k = 0; k < opts.kills; k++) {
    const [dmin, dmax] = rnd.pick(DOWN_MS);
    faults.push({ kind: 'kill', atProgress: lo + (hi - lo) * rnd.next(), victim: rnd.int(0, 1 << 16), downMs: rnd.int(dmin, dmax) });
  }
  faults.sort((a, b) => a.atProgress - b.atProgress);
  // some kills come right after the fault before them instead: during its recovery or rebalance
  for (let i = 1; i < faults.length; i++) {
    if (faults[i].kind === 'kill' && rnd.chance(CHAINED_SHARE)) {
      faults[i].afterPreviousMs = rnd.int(300, 4_000);
      faults[i].atProgress = faults[i - 1].atProgress;
    }
  }
  return faults;
}

/** One line per fault, for the run's log. */
export function describeFault(f: Fault): string {
  const when = f.afterPreviousMs === undefined ? `at ${(f.atProgress * 100).toFixed(1)} %` : `${f.afterPreviousMs} ms after the previous fault`;
  return f.kind === 'kill'
    ? `SIGKILL an instance ${when}, back after ${f.downMs} ms`
    : `${f.crash === true ? 'SIGKILL' : 'stop'} the broker ${when}, back after ${f.outageMs} ms`;
}
