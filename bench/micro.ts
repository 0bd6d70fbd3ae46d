// `npm run bench`: every micro benchmark (tinybench) in one run — decode, reference lookups, serialization, the ring transfer, histogram recording, alarm windows — as one table and one JSON file.
//
// Run: npm run bench [-- --json FILE] [--only decode,ring,...] [--time MS] [--equipment N]
//   (= npm run build && node dist/bench/micro.js). Each bench/*.bench.ts still runs alone with its own printout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { MicroCase } from './micro-case.js';

/** One row of the table and of the JSON file. */
export interface MicroRow {
  group: string;
  task: string;
  unit: string;
  per_op: number;
  /** units per second, from the mean time per op */
  per_s: number;
  /** nanoseconds per unit, mean */
  ns_per_unit: number;
  /** relative margin of error of the mean, % (95% confidence) */
  rme_pct: number;
  /** 99th percentile of the op time, per unit */
  p99_ns_per_unit: number;
  samples: number;
  note?: string;
}

export const MICRO_DEFAULTS = Object.freeze({
  json: path.join('bench-results', 'micro.json'),
  /** equipment in the lookup snapshot and the alarm windows (as the standalone benches) */
  equipment: 1_000_000,
  groups: ['decode', 'lookups', 'serialize', 'ring', 'histogram', 'alarms', 'kpis'] as const,
});

type Group = (typeof MICRO_DEFAULTS.groups)[number];

/** Builds the cases of one group (setup happens here, outside any timing). */
async function casesOf(group: Group, equipment: number, time: number | undefined): Promise<MicroCase[]> {
  switch (group) {
    case 'decode':
      return (await import('./decode.bench.js')).decodeCases(time);
    case 'lookups': {
      const { snapshotCases, snapshotTables } = await import('./snapshot.bench.js');
      const { buildSnapshot } = await import('../src/enrich/snapshot.js');
      return snapshotCases(buildSnapshot(snapshotTables(equipment)), equipment, time);
    }
    case 'serialize':
      return (await import('./enrich.bench.js')).enrichCases(undefined, time).cases;
    case 'ring':
      return (await import('./ring.bench.js')).ringCases(time);
    case 'histogram':
      return (await import('./histogram.bench.js')).histogramCases(time);
    case 'alarms': {
      const { alarmCases, alarmEvaluate, alarmPopulate } = await import('./alarms.bench.js');
      const set = alarmPopulate(equipment);
      alarmEvaluate(set);
      return alarmCases(set, equipment, time);
    }
    case 'kpis':
      return (await import('./kpis.bench.js')).kpiCases(time);
  }
}

export type { MicroCase } from './micro-case.js';

export function rowsOf(c: MicroCase): MicroRow[] {
  const rows: MicroRow[] = [];
  for (const task of c.bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') {
      rows.push({ group: c.group, task: `${task.name} (${r.state})`, unit: c.unit, per_op: c.perOp, per_s: NaN, ns_per_unit: NaN, rme_pct: NaN, p99_ns_per_unit: NaN, samples: 0, note: c.note });
      continue;
    }
    const ns = (r.period * 1e6) / c.perOp;
    rows.push({
      group: c.group,
      task: task.name,
      unit: c.unit,
      per_op: c.perOp,
      per_s: Math.round(1e9 / ns),
      ns_per_unit: +ns.toFixed(2),
      rme_pct: +r.latency.rme.toFixed(2),
      p99_ns_per_unit: +((r.latency.p99 * 1e6) / c.perOp).toFixed(2),
      samples: r.latency.samplesCount,
      note: c.note,
    });
  }
  return rows;
}

export function formatTable(rows: MicroRow[]): string {
  const head = ['group', 'task', 'per second', 'ns/unit', '± rme', 'p99 ns/unit', 'samples'];
  const body = rows.map((r) => [
    r.group,
    r.task,
    Number.isFinite(r.per_s) ? `${r.per_s.toLocaleString('en-US')} ${r.unit}/s` : '—',
    Number.isFinite(r.ns_per_unit) ? r.ns_per_unit.toFixed(1) : '—',
    Number.isFinite(r.rme_pct) ? `${r.rme_pct.toFixed(1)}%` : '—',
    Number.isFinite(r.p99_ns_per_unit) ? r.p99_ns_per_unit.toFixed(1) : '—',
    String(r.samples),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const line = (cells: string[]): string => cells.map((c, i) => (right.has(i) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n') + '\n';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'string' },
      only: { type: 'string' },
      time: { type: 'string' },
      equipment: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(
      `usage: node dist/bench/micro.js [--json FILE] [--only ${MICRO_DEFAULTS.groups.join(',')}] [--time MS] [--equipment N]\n` +
        `  --json FILE     results as JSON (default ${MICRO_DEFAULTS.json})\n` +
        '  --time MS       sampling time per task (default: each benchmark\'s own, 1-2 s)\n' +
        `  --equipment N   equipment in the lookup snapshot and alarm windows (default ${MICRO_DEFAULTS.equipment})\n`,
    );
    return;
  }
  const groups = (values.only?.split(',').map((g) => g.trim()) ?? [...MICRO_DEFAULTS.groups]) as Group[];
  for (const g of groups) if (!MICRO_DEFAULTS.groups.includes(g)) throw new Error(`--only: unknown group '${g}' (one of ${MICRO_DEFAULTS.groups.join(', ')})`);
  const time = values.time === undefined ? undefined : Number(values.time);
  const equipment = Number(values.equipment ?? MICRO_DEFAULTS.equipment);
  const rows: MicroRow[] = [];
  const t0 = Date.now();
  for (const g of groups) {
    process.stderr.write(`bench: ${g} ...\n`);
    for (const c of await casesOf(g, equipment, time)) {
      await c.bench.run();
      rows.push(...rowsOf(c));
    }
  }
  process.stdout.write(formatTable(rows));
  const file = values.json ?? MICRO_DEFAULTS.json;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        started_at: new Date(t0).toISOString(),
        seconds: (Date.now() - t0) / 1000,
        machine: { cores: os.availableParallelism(), memory_gb: +(os.totalmem() / 2 ** 30).toFixed(1), cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
        results: rows,
      },
      null,
      2,
    ) + '\n',
  );
  process.stderr.write(`bench: ${rows.length} results in ${((Date.now() - t0) / 1000).toFixed(0)} s, written to ${file}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
