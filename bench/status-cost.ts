// The status page's cost to the daemon: the max-throughput run of `lux bench`, alternately without and with pages polling /status.json, and the builder's own cost per call.
//
//   npm run build && node dist/bench/status-cost.js [--frames N] [--rounds N]
//
// Each round runs `lux run` over the same preloaded raw topic three times, in turn: no page; one page open (one
// /status.json a second, as the page polls); ten pages (ten a second). The daemon listens on a fixed port
// (LUX_HTTP_PORT, which `lux run` reads as http.port) so the poller can find it.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { createRunTopics, preload, runLuxMax, runTopics, type BenchSettings } from './e2e/runs.js';
import { createTopics, deleteTopics } from './e2e/kafka.js';
import { StatusBuilder } from '../src/status/status-builder.js';
import type { StatusSource } from '../src/status/status-source.js';
import { topologyGraph } from '../src/status/topology-graph.js';
import { parseConfig } from '../src/config/load.js';
import { OpenAlarms } from '../src/status/open-alarms.js';
import { DeadLetterSamples } from '../src/status/dead-letter-samples.js';

const { values } = parseArgs({ options: { frames: { type: 'string' }, rounds: { type: 'string' }, port: { type: 'string' } } });
const frames = Number(values.frames ?? 300_000);
const rounds = Number(values.rounds ?? 2);
const port = Number(values.port ?? 19_464);
const brokers = process.env.LUX_KAFKA_BROKERS ?? '127.0.0.1:9092';

/** Polls /status.json `perSecond` times a second until stopped; counts the answers. */
function poller(perSecond: number): { stop(): number } {
  let answered = 0;
  const timer = setInterval(() => {
    const req = http.get({ host: '127.0.0.1', port, path: '/status.json', agent: false }, (res) => {
      res.resume();
      res.on('end', () => (answered += res.statusCode === 200 ? 1 : 0));
    });
    req.on('error', () => {}); // not listening yet, or gone
  }, 1000 / perSecond);
  return {
    stop: () => {
      clearInterval(timer);
      return answered;
    },
  };
}

/** A StatusSource of a busy daemon: 12 partitions, 50 open alarms, 8 dead-letter examples, 2 000 KPI messages. */
function busySource(): StatusSource {
  const config = parseConfig('kafka: { brokers: "127.0.0.1:9092" }\nrefdata: { dir: /x }\nalarms: { rules: [{ name: r, window_ms: 60000, slide_ms: 10000, threshold: 20 }] }', 'bench.yaml', {});
  const topology = topologyGraph(config);
  const open = new OpenAlarms();
  for (let i = 0; i < 50; i++) {
    open.apply([{ alarm_id: `r:${i}:0`, rule: 'r', state: 'raised', equipment_id: i, count: 30, threshold: 20, window_start: '2026-11-26T10:00:00.000Z', window_end: '2026-11-26T10:01:00.000Z', suppressed: false, equipment: { name: `E${i}`, model: 'm', vendor: 'v', site: 's', region: 'r' }, emitted_at: '2026-11-26T10:01:00.000Z' }]);
  }
  const dead = new DeadLetterSamples();
  for (let i = 0; i < 8; i++) dead.add('lux.raw', i, i * 1000, 'crc_mismatch');
  const kpi = (dimension: 'cell' | 'region' | 'vendor', key: string) => ({
    window_start: '2026-11-26T10:00:00.000Z', window_end: '2026-11-26T10:01:00.000Z', dimension, key, records: 1000, failures: 10,
    attach: { attempts: 10, successes: 9, success_rate: 0.9 }, session: { attempts: 100, successes: 90 + (Number(key) % 10 || 0), success_rate: 0.9, setup_latency_ms: null },
    handover: { attempts: 10, successes: 9, success_rate: 0.9 }, drops: { call_drops: Number(key) % 7 || 1, radio_link_failures: 0, drop_rate: 0.02 }, rsrp_dbm: null, bytes_up: 0, bytes_down: 0,
  });
  const kpis = [...Array.from({ length: 2000 }, (_, i) => kpi('cell', String(i))), ...['a', 'b', 'c'].map((r) => kpi('region', r)), ...['x', 'y'].map((v) => kpi('vendor', v))];
  let n = 0;
  return {
    identity: () => ({ topology, groupId: 'g', instance: 'i', startedAtMs: Date.now() - 60_000, httpUrl: null }),
    counters: () => ({ framesIn: (n += 40_000), recordsOut: n * 5, deadLetters: n / 1000, deadLettersByReason: new Map([['crc_mismatch', 5], ['truncated', 3]]), transactions: n / 100, aborts: 0, alarms: 50, lastTransactionMs: 20 }),
    lag: () => new Map(Array.from({ length: 12 }, (_, p) => [p, 100 + p])),
    readiness: () => ({ ready: true, reasons: [] }),
    sla: () => ({ seconds: 60, percentile: 99.9, breached: false, reason: 'ok' }),
    latency: () => ({ p50_ms: 120, p99_ms: 400, max_ms: 900, count: 200_000 }),
    refdata: () => ({ version: 3, tables: ['equipment', 'vendors', 'error_codes', 'interventions'].map((name) => ({ name, rows: 1000, lastUpdateMs: Date.now() - 1000 })) }),
    alarms: () => ({ open: open.list(), raised: 50, cleared: 0, suppressed: 0, failuresCounted: 1000 }),
    recentDeadLetters: () => dead.list(),
    kpis: () => kpis,
  };
}

async function builderCost(): Promise<void> {
  const builder = new StatusBuilder(busySource(), { cacheMs: 0 });
  for (let i = 0; i < 301; i++) builder.sample(Date.now() - (301 - i) * 1000);
  let t = Date.now();
  const bench = new Bench({ time: 1000 });
  bench.add('sample() (once a second, always)', () => builder.sample((t += 1000)));
  bench.add('json() with 300 history points (once a second while a page is open)', () => builder.json((t += 1000)));
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result;
    const ms = r.state === 'completed' ? r.period : Number.NaN;
    console.log(`  ${task.name}: ${(ms * 1000).toFixed(0)} µs per call = ${(ms / 10).toFixed(4)} % of one core at once a second`);
  }
  console.log(`  /status.json size: ${(builder.json(t + 1000).length / 1024).toFixed(1)} KiB`);
}

async function main(): Promise<void> {
  console.log('status builder, per call (tinybench):');
  await builderCost();
  process.env.LUX_HTTP_PORT = String(port);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-status-cost-'));
  const s: BenchSettings = {
    brokers, frames, recordsPerFrame: 1, partitions: 3, badShare: 0.001, seed: 1, workers: undefined, batchMaxMessages: 1000, commitIntervalMs: 100,
    alarms: false, kpis: true, nativeProduce: true, nativeConsume: true, nativeJson: true, nativeKpis: true, rate: 1000, durationS: 1, progress: false, workDir, brokerPid: undefined, rateBaseline: false, phaseTimeoutMs: 300_000, log: (l) => console.log(`  ${l}`),
  };
  const t = runTopics('status-cost');
  await createRunTopics(s, t);
  const pre = await preload(s, t);
  const variants = [['no page', 0], ['one page (1 poll/s)', 1], ['ten pages (10 polls/s)', 10]] as const;
  const results = new Map<string, { perS: number[]; cpuUsPerRecord: number[] }>(variants.map(([n]) => [n, { perS: [], cpuUsPerRecord: [] }]));
  const created: string[] = [...Object.values(t)];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [name, perSecond] of variants) {
        // the same raw topic, fresh output topics: each run's exactly-once check reads only its own output
        const out = runTopics('status-cost-out');
        const topics = { ...pre.topics, enriched: out.enriched, dlq: out.dlq, alarms: out.alarms, kpis: out.kpis, kpiState: out.kpiState, kpiPartials: out.kpiPartials };
        await createTopics(brokers, [topics.enriched, topics.dlq, topics.alarms], s.partitions);
        created.push(topics.enriched, topics.dlq, topics.alarms, topics.kpis, topics.kpiState, topics.kpiPartials);
        const p = perSecond > 0 ? poller(perSecond) : undefined;
        const run = await runLuxMax(s, { ...pre, topics });
        const answered = p?.stop() ?? 0;
        const cpu = run.usage === undefined ? Number.NaN : (run.usage.cpuS * 1e6) / run.records;
        results.get(name)!.perS.push(run.recordsPerS);
        results.get(name)!.cpuUsPerRecord.push(cpu);
        console.log(`round ${r + 1}, ${name}: ${Math.round(run.recordsPerS).toLocaleString('en-US')} records/s over ${run.seconds.toFixed(2)} s, ${cpu.toFixed(2)} µs CPU per record${perSecond > 0 ? `, ${answered} /status.json answered` : ''}, ${run.verified ? 'exactly once verified' : `NOT VERIFIED: ${run.verification}`}`);
      }
    }
  } finally {
    await deleteTopics(brokers, created).catch(() => {});
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const base = results.get('no page')!;
  console.log(`\nmedians over ${rounds} rounds (${frames.toLocaleString('en-US')} frames each; the daemon's CPU per record is the steadier figure on a shared machine):`);
  for (const [name, v] of results) {
    const perS = median(v.perS);
    const cpu = median(v.cpuUsPerRecord);
    const vs = (a: number, b: number) => (name === 'no page' ? '' : ` (${(((a - b) / b) * 100).toFixed(1)} %)`);
    console.log(`  ${name.padEnd(24)} ${Math.round(perS).toLocaleString('en-US').padStart(9)} records/s${vs(perS, median(base.perS))}   ${cpu.toFixed(2)} µs CPU/record${vs(cpu, median(base.cpuUsPerRecord))}`);
  }
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
