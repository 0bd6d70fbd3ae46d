// The torture run's options (`npm run torture -- --records N --kills K ...`): every default in one typed place, the small preset `npm test` runs, and the command line.
import { parseArgs } from 'node:util';

export interface TortureOptions {
  /** decoded records in the input (bad frames come on top) */
  records: number;
  /** raw topic partitions (every output topic gets as many) */
  partitions: number;
  /** daemon instances in the consumer group */
  instances: number;
  /** SIGKILLs of instances, each restarted after */
  kills: number;
  /** stops and starts of the broker (the first one lasts `longOutageMs`, the rest `shortOutageMs`) */
  brokerRestarts: number;
  seed: number;
  /** the run's own broker: PLAINTEXT port (its KRaft controller takes the next one) */
  port: number;
  /** kafka.transaction_timeout_ms of the instances */
  transactionTimeoutMs: number;
  /** the long broker outage: longer than the transaction timeout, so open transactions are aborted by the broker */
  longOutageMs: number;
  shortOutageMs: number;
  /** kpis.window_ms of the instances: short, so that many windows close */
  kpiWindowMs: number;
  /** decode workers per instance */
  workers: number;
  /** give up waiting for the outputs after this long without progress */
  stallTimeoutMs: number;
  /** where the input, the reference files and the instances' logs go */
  dir: string | undefined;
  /** keep the topics and the work directory (default: kept only when the run fails) */
  keep: boolean;
  /** progress lines on stderr */
  verbose: boolean;
}

/** The full run of issue 16: 5 million records, 20 SIGKILLs, 3 broker restarts, 3 instances. */
export const TORTURE_DEFAULTS: TortureOptions = {
  records: 5_000_000,
  partitions: 6,
  instances: 3,
  kills: 20,
  brokerRestarts: 3,
  seed: 16,
  port: 19610,
  transactionTimeoutMs: 20_000,
  longOutageMs: 30_000,
  shortOutageMs: 5_000,
  kpiWindowMs: 10_000,
  workers: 1,
  stallTimeoutMs: 180_000,
  dir: undefined,
  keep: false,
  verbose: true,
};

/** The version `npm test` runs (test/torture/torture.test.ts): a few minutes on a busy 2-core machine. */
export const TORTURE_SMALL: Partial<TortureOptions> = {
  records: 300_000,
  partitions: 4,
  instances: 2,
  kills: 5,
  brokerRestarts: 1,
  // the single restart is a short one: the long outage (past the transaction timeout) is the full run's, and the
  // broker-restart test's
  longOutageMs: 6_000,
  stallTimeoutMs: 120_000,
};

export class TortureUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TortureUsageError';
  }
}

const INTEGER_OPTIONS = {
  records: 'records',
  partitions: 'partitions',
  instances: 'instances',
  kills: 'kills',
  'broker-restarts': 'brokerRestarts',
  seed: 'seed',
  port: 'port',
  'transaction-timeout-ms': 'transactionTimeoutMs',
  'long-outage-ms': 'longOutageMs',
  'short-outage-ms': 'shortOutageMs',
  'kpi-window-ms': 'kpiWindowMs',
  workers: 'workers',
  'stall-timeout-ms': 'stallTimeoutMs',
} as const satisfies Record<string, keyof TortureOptions>;

/** `--records 5000000 --kills 20 ...` over the defaults; `--small` starts from the npm test preset. */
export function parseTortureArgs(argv: readonly string[]): TortureOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(Object.keys(INTEGER_OPTIONS).map((k) => [k, { type: 'string' as const }])),
      small: { type: 'boolean' },
      dir: { type: 'string' },
      keep: { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  const o: TortureOptions = { ...TORTURE_DEFAULTS, ...(values.small === true ? TORTURE_SMALL : {}) };
  for (const [flag, key] of Object.entries(INTEGER_OPTIONS)) {
    const raw = (values as Record<string, string | boolean | undefined>)[flag] as string | undefined;
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) throw new TortureUsageError(`--${flag} ${raw}: expected a whole number of 0 or more`);
    (o as unknown as Record<string, number>)[key] = n;
  }
  if (values.dir !== undefined) o.dir = values.dir as string;
  if (values.keep === true) o.keep = true;
  if (values.quiet === true) o.verbose = false;
  return checkTortureOptions(o);
}

/** Refuses options the run cannot mean. */
export function checkTortureOptions(o: TortureOptions): TortureOptions {
  if (o.records < 1000) throw new TortureUsageError(`--records ${o.records}: at least 1000`);
  if (o.partitions < 1 || o.partitions > 64) throw new TortureUsageError(`--partitions ${o.partitions}: between 1 and 64`);
  if (o.instances < 1 || o.instances > 8) throw new TortureUsageError(`--instances ${o.instances}: between 1 and 8`);
  if (o.port < 1024 || o.port > 65534) throw new TortureUsageError(`--port ${o.port}: between 1024 and 65534 (the controller takes the next port)`);
  if (o.kpiWindowMs < 1000) throw new TortureUsageError(`--kpi-window-ms ${o.kpiWindowMs}: at least 1000`);
  return o;
}

/** The overload run's options (`npm run overload -- --seconds 180 --factor 3 ...`). */
export interface OverloadOptions {
  /** how long the producer runs */
  seconds: number;
  /** the producer's rate as a multiple of the capacity measured first */
  factor: number;
  /** the backlog the capacity is measured on */
  calibrationRecords: number;
  partitions: number;
  workers: number;
  /** pipeline.memory_budget_mb of the instance: its RSS must stay within it */
  memoryBudgetMb: number;
  seed: number;
  port: number;
  transactionTimeoutMs: number;
  kpiWindowMs: number;
  /** one sample of RSS, lag, /ready and the SLA metrics this often */
  sampleMs: number;
  stallTimeoutMs: number;
  dir: string | undefined;
  keep: boolean;
  verbose: boolean;
}

export const OVERLOAD_DEFAULTS: OverloadOptions = {
  seconds: 180,
  factor: 3,
  calibrationRecords: 400_000,
  partitions: 4,
  workers: 1,
  memoryBudgetMb: 512,
  seed: 3,
  port: 19620,
  transactionTimeoutMs: 20_000,
  kpiWindowMs: 10_000,
  sampleMs: 5_000,
  stallTimeoutMs: 300_000,
  dir: undefined,
  keep: false,
  verbose: true,
};

const OVERLOAD_INTEGERS = {
  seconds: 'seconds',
  'calibration-records': 'calibrationRecords',
  partitions: 'partitions',
  workers: 'workers',
  'memory-budget-mb': 'memoryBudgetMb',
  seed: 'seed',
  port: 'port',
  'kpi-window-ms': 'kpiWindowMs',
  'sample-ms': 'sampleMs',
} as const satisfies Record<string, keyof OverloadOptions>;

export function parseOverloadArgs(argv: readonly string[]): OverloadOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(Object.keys(OVERLOAD_INTEGERS).map((k) => [k, { type: 'string' as const }])),
      factor: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  const o: OverloadOptions = { ...OVERLOAD_DEFAULTS };
  const all = values as Record<string, string | boolean | undefined>;
  for (const [flag, key] of Object.entries(OVERLOAD_INTEGERS)) {
    const raw = all[flag] as string | undefined;
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1) throw new TortureUsageError(`--${flag} ${raw}: expected a whole number of 1 or more`);
    (o as unknown as Record<string, number>)[key] = n;
  }
  if (all.factor !== undefined) {
    const f = Number(all.factor);
    if (!(f > 1) || f > 20) throw new TortureUsageError(`--factor ${String(all.factor)}: a number above 1 (and at most 20)`);
    o.factor = f;
  }
  if (all.dir !== undefined) o.dir = all.dir as string;
  if (all.keep === true) o.keep = true;
  if (all.quiet === true) o.verbose = false;
  return o;
}
