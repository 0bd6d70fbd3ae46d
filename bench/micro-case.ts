// One group of micro benchmarks as each bench file hands it to bench/micro.ts, which runs them all.
import type { Bench } from 'tinybench';

/** One group of tinybench tasks, each op handling `perOp` units (records, lookups, values, updates). */
export interface MicroCase {
  group: string;
  bench: Bench;
  perOp: number;
  unit: string;
  note?: string;
}
