// `lux bench` end to end on a tiny load: every JSON field of the contract is there and the run is verified exactly once (no timing asserted).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokers } from '../kafka-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LUX = path.join(ROOT, 'bin', 'lux.js');

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
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('99.9%');
  }, 240_000);

  it('rejects an unknown mode with a one-line usage error', async () => {
    const r = await lux(['bench', '--mode', 'fast']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--mode');
  });
});
