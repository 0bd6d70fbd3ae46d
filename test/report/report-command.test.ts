// `lux report` against the real broker: SPEC-shaped KPI, alarm, dead-letter and enriched messages on fresh topics, the JSON summary's numbers, the HTML's SVG charts, POSTs with retries, clear errors.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokers, createTopics, produceFrames, uniqueTopic } from '../kafka-helpers.js';
import type { ReportSummary } from '../../src/report/report-summary.js';
import { clearedOf, kpiMessage, failureAlarm, kpiAlarm } from '../status/scripted-source.js';

const LUX = path.resolve(import.meta.dirname, '../../bin/lux.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LUX, 'report', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A local receiver that answers with the statuses given, in turn (the last one repeats). */
async function receiver(statuses: number[]): Promise<{ url: string; bodies: Array<{ type: string; body: string }>; close(): Promise<void> }> {
  const bodies: Array<{ type: string; body: string }> = [];
  let i = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push({ type: String(req.headers['content-type']), body });
      const status = statuses[Math.min(i++, statuses.length - 1)]!;
      res.writeHead(status).end(status >= 400 ? 'try later' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reports`;
  return { url, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const topics = { kpis: uniqueTopic('report-kpis'), alarms: uniqueTopic('report-alarms'), dlq: uniqueTopic('report-dlq'), enriched: uniqueTopic('report-enriched') };
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-report-'));
const w0 = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000;
const baseArgs = () => ['--brokers', brokers(), '--kpis-topic', topics.kpis, '--alarms-topic', topics.alarms, '--dlq-topic', topics.dlq, '--since', '1h'];

beforeAll(async () => {
  await createTopics(Object.values(topics), 2);
  const kpis = [];
  for (let w = 0; w < 3; w++) {
    const start = w0 + w * 60_000;
    kpis.push(
      kpiMessage('region', 'Bretagne', start, { sessions: 100, sessionOk: 90, drops: 9, records: 600 }),
      kpiMessage('region', 'Occitanie', start, { sessions: 100, sessionOk: 80, drops: 4, records: 400 }),
      kpiMessage('vendor', 'Nokia', start, { sessions: 200, sessionOk: 170, drops: 13, records: 1000 }),
      kpiMessage('equipment', '1', start, { sessions: 120, sessionOk: 110, drops: 2, records: 700 }),
      kpiMessage('equipment', '2', start, { sessions: 80, sessionOk: 60, drops: 11, records: 300 }),
      kpiMessage('cell', '1001', start, { sessions: 50, sessionOk: 49, drops: 0, records: 250 }),
      kpiMessage('cell', '1002', start, { sessions: 50, sessionOk: 25, drops: 10, records: 250 }),
      kpiMessage('cell', '1003', start, { sessions: 50, sessionOk: 45, drops: 5, records: 250 }),
      kpiMessage('cell', '1004', start, { sessions: 50, sessionOk: 48, drops: 1, records: 250 }),
    );
  }
  await produceFrames(topics.kpis, kpis.map((k) => ({ key: `${k.dimension}:${k.key}`, value: JSON.stringify(k) })));
  const raised1 = failureAlarm(1);
  const alarms = [raised1, failureAlarm(2, { suppressed: true }), clearedOf(raised1), kpiAlarm('1002')];
  await produceFrames(topics.alarms, alarms.map((a) => ({ key: 'k', value: JSON.stringify(a) })));
  const dead = ['crc_mismatch', 'crc_mismatch', 'truncated'].map((reason, i) => ({
    key: '7',
    value: Buffer.from([0x4c, 0x58, 0x45, 0x32, i]),
    headers: [
      { key: 'lux.error', value: reason },
      { key: 'lux.source.topic', value: 'lux.raw' },
      { key: 'lux.source.partition', value: String(i % 2) },
      { key: 'lux.source.offset', value: String(100 + i) },
    ],
  }));
  await produceFrames(topics.dlq, dead);
  // enriched records whose event time is 2 s before they are written: latency ≈ 2 s
  const enriched = Array.from({ length: 40 }, (_, i) => ({ key: String(i % 5), value: JSON.stringify({ event_time: new Date(Date.now() - 2_000).toISOString(), equipment_id: i % 5, frame_seq: i }) }));
  await produceFrames(topics.enriched, enriched);
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe('lux report', () => {
  it('writes a JSON summary with the period\'s numbers and an HTML report with SVG charts', async () => {
    const dir = path.join(out, 'plain');
    const r = await run([...baseArgs(), '--enriched-topic', topics.enriched, '--sla-seconds', '30', '--out', dir]);
    expect(r.stderr).toMatch(/27 KPI messages/);
    expect(r.code, r.stderr).toBe(0);
    const [htmlFile, jsonFile] = r.stdout.trim().split('\n');
    expect(htmlFile).toMatch(/lux-report-\d{8}T\d{6}Z\.html$/);
    const s = JSON.parse(fs.readFileSync(jsonFile!, 'utf8')) as ReportSummary;
    expect(s.report_version).toBe(1);
    expect(s.sources.messages).toEqual({ kpis: 27, alarms: 4, dead_letters: 3, latency_samples: 40 });
    expect(s.kpis.windows).toBe(3);
    // throughput: the equipment dimension's records, 1000 per window
    expect(s.throughput).toMatchObject({ dimension: 'equipment', records: 3000 });
    expect(s.throughput.buckets.reduce((a, b) => a + b.records, 0)).toBe(3000);
    const bretagne = s.kpis.by_region.find((x) => x.key === 'Bretagne')!;
    expect(bretagne).toMatchObject({ records: 1800, session_attempts: 300, session_success_rate: 0.9, drop_rate: 0.1 });
    expect(bretagne.trend).toHaveLength(3);
    expect(s.kpis.by_vendor.map((v) => v.key)).toEqual(['Nokia']);
    expect(s.kpis.worst_cells.by_drop_rate.map((c) => c.key)).toEqual(['1002', '1003', '1004', '1001']);
    expect(s.kpis.worst_cells.by_session_success_rate[0]).toMatchObject({ key: '1002', session_success_rate: 0.5 });
    // equipment 2 (ENB-TEST-2 from its alarm) is the worst by drop rate
    expect(s.kpis.worst_equipment.by_drop_rate[0]).toMatchObject({ key: '2', name: 'ENB-TEST-2', drop_rate: 0.1833 });
    expect(s.alarms).toMatchObject({ raised: 3, cleared: 1, suppressed: 1 });
    expect(s.alarms.by_rule).toEqual([
      { rule: 'failures_1m', kind: 'failure', raised: 2, cleared: 1, suppressed: 1 },
      { rule: 'session_low', kind: 'kpi', raised: 1, cleared: 0, suppressed: 0 },
    ]);
    expect(s.alarms.open_at_end.map((a) => a.subject).sort()).toEqual(['cell:1002', 'equipment 2 (ENB-TEST-2)']);
    expect(s.dead_letters.by_reason).toEqual([{ reason: 'crc_mismatch', count: 2 }, { reason: 'truncated', count: 1 }]);
    expect(s.dead_letters.examples[0]).toMatchObject({ topic: 'lux.raw', partition: 0, offset: 100, reason: 'crc_mismatch' });
    expect(s.latency).toMatchObject({ sla_seconds: 30, samples: 40, over_sla: 0 });
    expect(s.latency!.p50_ms).toBeGreaterThanOrEqual(2_000);
    expect(s.latency!.p50_ms).toBeLessThan(20_000);

    const html = fs.readFileSync(htmlFile!, 'utf8');
    const svgs = html.match(/<svg [^>]*class="chart"/g) ?? [];
    expect(svgs.length).toBeGreaterThanOrEqual(9);
    expect(html).toMatch(/aria-label="Session success rate by region"/);
    expect(html).toMatch(/<path d="M[\d.,]+/); // lines drawn
    expect(html).toMatch(/SLA 30 s/);
    expect(html).not.toMatch(/<script|<link|src="http/); // self-contained, no script
  });

  it('POSTs the JSON summary and the HTML report to a URL', async () => {
    const rx = await receiver([200]);
    try {
      const r = await run([...baseArgs(), '--out', path.join(out, 'post'), '--post', rx.url, '--post-html', rx.url]);
      expect(r.code, r.stderr).toBe(0);
      expect(rx.bodies).toHaveLength(2);
      expect(rx.bodies[0]!.type).toBe('application/json');
      expect(JSON.parse(rx.bodies[0]!.body)).toMatchObject({ report_version: 1, alarms: { raised: 3 } });
      expect(rx.bodies[1]!.type).toMatch(/^text\/html/);
      expect(r.stderr).toMatch(/summary posted to .* \(HTTP 200, attempt 1\)/);
    } finally {
      await rx.close();
    }
  });

  it('retries a failing POST with backoff, then succeeds', async () => {
    const rx = await receiver([503, 502, 200]);
    try {
      const r = await run([...baseArgs(), '--out', path.join(out, 'retry'), '--post', rx.url, '--post-attempts', '3']);
      expect(r.code, r.stderr).toBe(0);
      expect(rx.bodies).toHaveLength(3);
      expect(r.stderr).toMatch(/attempt 1 of 3: HTTP 503 .*retrying in 1000 ms/);
      expect(r.stderr).toMatch(/attempt 2 of 3: HTTP 502 .*retrying in 2000 ms/);
      expect(r.stderr).toMatch(/HTTP 200, attempt 3/);
    } finally {
      await rx.close();
    }
  });

  it('fails with the URL, the status and the attempt when every POST fails; not retried on a 4xx', async () => {
    const rx = await receiver([503]);
    const r = await run([...baseArgs(), '--out', path.join(out, 'fail'), '--post', rx.url, '--post-attempts', '2']);
    await rx.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lux: POST ${rx.url}: attempt 2 of 2: HTTP 503 Service Unavailable: try later; giving up`);
    // the report was still written before the POST
    expect(fs.readdirSync(path.join(out, 'fail')).length).toBe(2);

    const refusing = await receiver([400]);
    const r2 = await run([...baseArgs(), '--out', path.join(out, 'fail2'), '--post', refusing.url]);
    await refusing.close();
    expect(r2.code).toBe(1);
    expect(refusing.bodies).toHaveLength(1);
    expect(r2.stderr).toMatch(/attempt 1 of 5: HTTP 400 Bad Request.*not retried/);
  });

  it('says which topic is missing, which broker is unreachable and what is wrong with the period', async () => {
    const missing = await run(['--brokers', brokers(), '--kpis-topic', 'no-such-kpis-topic', '--alarms-topic', topics.alarms, '--dlq-topic', topics.dlq, '--since', '1h', '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`lux: topic 'no-such-kpis-topic' (--kpis-topic) does not exist on ${brokers()}`);
    const unreachable = await run(['--brokers', '127.0.0.1:1', '--since', '1h', '--out', out]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/lux: cannot reach the Kafka brokers at 127\.0\.0\.1:1 within \d+ ms/);
    const reversed = await run([...baseArgs().slice(0, -2), '--from', '2026-11-26T10:00:00Z', '--to', '2026-11-26T09:00:00Z', '--out', out]);
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain('lux: report: the period is empty or reversed: --from 2026-11-26T10:00:00.000Z is not before --to 2026-11-26T09:00:00.000Z');
    const both = await run([...baseArgs(), '--from', '2026-11-26T10:00:00Z', '--out', out]);
    expect(both.stderr).toContain('give either --since or --from/--to, not both');
  });
});
