// `lux bench` end to end on a tiny load: every JSON field of the contract is there and the run is verified exactly once (no timing asserted).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokers } from '../kafka-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LUX = path.join(ROOT, 'bin', 'lux.js');

interface Load {
  seconds: number;
  processes: Array<{ name: string; pids: number[]; cpu_s: number | null; cores: number | null }>;
  machine: { cores: number; busy_cores: number; idle_cores: number; steal_cores: number; other_cores: number };
}

interface Breakdown {
  quantiles_cover_run: boolean;
  event_to_commit: Record<string, number>;
  kafka_to_commit: Record<string, number>;
  commit_to_visible: Record<string, number> | null;
  stages: Record<string, { p50: number; p99: number; mean: number; count: number }>;
  transactions_committed: number;
  commit_every_ms: number | null;
  eventloop_lag_p99_ms: number | null;
  gc_pause_total_ms: number;
}

function lux(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LUX, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LUX_KAFKA_BROKERS: brokers() } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('lux bench', () => {
  it('writes every contract field to --json, an HTML report, and verifies exactly once on 2,000 frames', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-bench-test-'));
    const json = path.join(dir, 'bench.json');
    const report = path.join(dir, 'report.html');
    const r = await lux(['bench', '--frames', '2000', '--records-per-frame', '2', '--bad-share', '0.01', '--rate', '2000', '--duration', '2', '--json', json, '--report', report, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(fs.readFileSync(json, 'utf8')) as Record<string, unknown>;
    for (const key of ['records', 'records_per_s', 'baseline_records_per_s', 'ratio', 'latency_ms', 'rss_mb_max', 'cpu_s', 'exactly_once_verified']) {
      expect(out, key).toHaveProperty(key);
    }
    expect(out.exactly_once_verified).toBe(true);
    expect(out.records).toBeGreaterThan(0);
    expect(typeof out.records_per_s).toBe('number');
    expect(typeof out.baseline_records_per_s).toBe('number');
    expect(typeof out.rss_mb_max).toBe('number');
    expect(typeof out.cpu_s).toBe('number');
    expect(Object.keys(out.latency_ms as object).sort()).toEqual(['max', 'p50', 'p90', 'p99', 'p999']);

    // Issue 15: same-run baselines, CPU per process, the latency breakdown.
    expect(typeof out.cpu_per_record_us).toBe('number');
    expect(out.cpu_per_record_us as number).toBeGreaterThan(0);
    // by thread group: a short run may leave a group without one clock tick, so only the shape is held here
    const byThread = out.cpu_per_record_by_thread_us as Record<string, number> | null;
    expect(byThread).not.toBeNull();
    for (const [g, us] of Object.entries(byThread!)) {
      expect(['main', 'decode', 'kpi', 'alarm', 'refdata', 'librdkafka', 'v8+libuv'], g).toContain(g);
      expect(us, g).toBeGreaterThan(0);
    }
    expect(out.kcat_ratio === null || typeof out.kcat_ratio === 'number').toBe(true);
    expect(Object.keys(out.baseline_latency_ms as object).sort()).toEqual(['max', 'p50', 'p90', 'p99', 'p999']);
    expect(out.latency_p99_ratio === null || typeof out.latency_p99_ratio === 'number').toBe(true);
    // the steady state leaves out the first seconds: a 2-s run has none, and says so rather than print zeros
    expect(out.steady_after_ms).toBe(5000);
    expect(out.latency_steady_ms).toBeNull();
    expect(out.baseline_latency_steady_ms).toBeNull();
    const load = out.load as Record<string, Load>;
    expect(Object.keys(load)).toEqual(expect.arrayContaining(['lux', 'passthrough', 'rate', 'rate_passthrough']));
    for (const [run, l] of Object.entries(load)) {
      expect(l.seconds, run).toBeGreaterThan(0);
      expect(l.machine.cores, run).toBeGreaterThan(0);
      for (const k of ['busy_cores', 'idle_cores', 'steal_cores', 'other_cores'] as const) expect(typeof l.machine[k], `${run} ${k}`).toBe('number');
      expect(l.processes.map((p) => p.name), run).toEqual(expect.arrayContaining(['broker', 'lux bench']));
      for (const p of l.processes) expect(p.cpu_s === null || p.cpu_s >= 0, `${run} ${p.name}`).toBe(true);
    }
    const names = (run: string): string[] => load[run]!.processes.map((p) => p.name);
    expect(names('lux')).toContain('daemon');
    expect(names('rate')).toEqual(expect.arrayContaining(['daemon', 'generator', 'probe']));
    expect(names('rate_passthrough')).toEqual(expect.arrayContaining(['passthrough', 'generator', 'probe']));
    for (const run of ['lux', 'rate'] as const) {
      const daemon = load[run]!.processes.find((p) => p.name === 'daemon')!;
      expect(daemon.cpu_s, run).toBeGreaterThan(0);
      expect(daemon.pids).toHaveLength(1);
    }
    const b = out.latency_breakdown_ms as Breakdown;
    expect(typeof b.quantiles_cover_run).toBe('boolean');
    // commit → visible is given only when the daemon's quantiles cover the whole run (a 2-s run does, unless the machine crawls)
    const spans = b.quantiles_cover_run ? (['event_to_commit', 'kafka_to_commit', 'commit_to_visible'] as const) : (['event_to_commit', 'kafka_to_commit'] as const);
    for (const span of spans) {
      expect(Object.keys(b[span]!).filter((k) => k.startsWith('p')).sort(), span).toEqual(['p50', 'p90', 'p99', 'p999']);
    }
    for (const stage of ['consume_call', 'transaction_begin', 'transaction_offsets', 'transaction_commit', 'transaction_sides', 'commit_wait']) {
      expect(b.stages, stage).toHaveProperty(stage);
      expect(typeof b.stages[stage]!.p99, stage).toBe('number');
    }
    expect(b.stages.transaction_commit!.count).toBeGreaterThan(0);
    expect(b.transactions_committed).toBeGreaterThan(0);
    expect(typeof b.commit_every_ms).toBe('number');
    expect(typeof b.eventloop_lag_p99_ms).toBe('number');
    expect(typeof b.gc_pause_total_ms).toBe('number');
    const rate = (out.runs as { rate: { generator: { behind_max_ms: number; exhausted: boolean; good_records: number }; records: number } }).rate;
    expect(typeof rate.generator.behind_max_ms).toBe('number');
    expect(rate.generator.exhausted).toBe(false);
    expect(rate.records).toBeGreaterThanOrEqual(rate.generator.good_records);

    const html = fs.readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('99.9%');
    expect(html).toContain('CPU per process');
    expect(html).toContain('Latency breakdown');
  }, 240_000);

  it('rejects an unknown mode with a one-line usage error', async () => {
    const r = await lux(['bench', '--mode', 'fast']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--mode');
  });
});
