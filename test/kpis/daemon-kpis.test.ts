// KPIs through the whole daemon and the real broker: every (window, dimension, key) once with the values `lux decode --kpis` gives, across a SIGKILL; KPI alarms raise, clear and are suppressed under maintenance, the webhook told of the others.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeAll, createTopics, produceFrames, uniqueTopic } from '../kafka-helpers.js';
import { encodeFrame, encodeFrameStream, type RecordInput } from '../../src/gen/frame-encoder.js';
import { daemonTopics, LUX, makeFrames, REFDATA, sleep, startDaemon, writeConfig } from '../pipeline/daemon-harness.js';

const WINDOW_MS = 10_000;
const LATENESS_MS = 1_000;

/** `lux decode --kpis` over the frames: SPEC section 7 computed locally, every record counting. */
function localKpis(frames: { value: Buffer }[]): Map<string, Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-kpi-expected-'));
  const input = path.join(dir, 'frames.bin');
  fs.writeFileSync(input, encodeFrameStream(frames.map((f) => f.value)));
  const out = path.join(dir, 'kpis.ndjson');
  const r = spawnSync(process.execPath, [LUX, 'decode', '--ref', REFDATA, '--in', input, '--dlq', path.join(dir, 'dlq'), '--kpis', out, '--kpi-window-ms', String(WINDOW_MS)], {
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`lux decode --kpis failed: ${r.stderr.toString()}`);
  const byKey = new Map<string, Record<string, unknown>>();
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    if (line === '') continue;
    const k = JSON.parse(line) as Record<string, unknown>;
    byKey.set(`${k.window_start as string} ${k.dimension as string}:${k.key as string}`, k);
  }
  return byKey;
}

/** The KPI topic as (window, dimension:key) → objects, in the order written. */
async function kpiTopic(topic: string, expected?: number): Promise<Map<string, Record<string, unknown>[]>> {
  const records = await consumeAll(topic, { isolation: 'read_committed', expected, timeoutMs: 120_000 });
  const out = new Map<string, Record<string, unknown>[]>();
  for (const m of records) {
    const k = JSON.parse(m.value?.toString() ?? '{}') as Record<string, unknown>;
    expect(m.key?.toString()).toBe(`${k.dimension as string}:${k.key as string}`);
    const id = `${k.window_start as string} ${k.dimension as string}:${k.key as string}`;
    out.set(id, [...(out.get(id) ?? []), k]);
  }
  return out;
}

/** The config lines this file adds: the KPI windows, a KPI rule and the alarm webhook when given. */
function kpiConfig(opts: { rule?: string; webhookPort?: number } = {}): string {
  return [
    'alarms:',
    // partitions go idle soon after the input ends, so the last windows close on event time
    '  idle_partition_ms: 8000',
    ...(opts.webhookPort === undefined ? [] : [`  webhook: { url: "http://127.0.0.1:${opts.webhookPort}", timeout_ms: 2000 }`]),
    'kpis:',
    `  window_ms: ${WINDOW_MS}`,
    `  lateness_ms: ${LATENESS_MS}`,
    ...(opts.rule === undefined ? [] : ['  rules:', `    - ${opts.rule}`]),
  ].join('\n');
}

/** The harness's config with the KPI topic named. */
function withKpiTopic(config: string, alarmState: string, kpis: string): void {
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(`  alarm_state: ${alarmState}`, `  alarm_state: ${alarmState}\n  kpis: ${kpis}`));
}

describe('KPIs in the daemon', () => {
  it('writes every (window, dimension, key) once, with the values of lux decode --kpis, across a SIGKILL and a restart', async () => {
    const topics = await daemonTopics('kpi-eo', 3);
    const kpis = uniqueTopic('kpi-eo-kpis');
    await createTopics([kpis], 3);
    // 2 records a frame, a frame every 10 ms of event time: 1,000 frames a 10 s window, 5 windows and a half
    const first = makeFrames(3200, { badEvery: 200 });
    const second = makeFrames(2400, { badEvery: 200, seqBase: 3200, timeOffsetMs: 3200 * 10 });
    const all = [...first, ...second];
    const local = localKpis(all);
    // the windows the watermark passes once every partition has gone idle: those ending by the last event - lateness
    const lastEvent = Date.parse('2026-11-26T10:00:00.000Z') + (all.length - 1) * 10 + 1;
    const expected = [...local.entries()].filter(([, k]) => Date.parse(k.window_end as string) <= lastEvent - LATENESS_MS);
    expect(new Set(expected.map(([, k]) => k.window_start)).size).toBe(5);
    expect(new Set(expected.map(([, k]) => k.dimension))).toEqual(new Set(['cell', 'equipment', 'region', 'vendor']));

    await produceFrames(topics.raw, first);
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t`, extra: kpiConfig() });
    withKpiTopic(config, topics.alarmState, kpis);
    const d1 = startDaemon(config);
    let d2: ReturnType<typeof startDaemon> | undefined;
    try {
      // killed once some windows are out (the others are in open windows, partials and transactions in flight)
      await consumeAll(kpis, { isolation: 'read_committed', expected: 50, timeoutMs: 90_000 }).catch((err: Error) => {
        throw new Error(`${err.message}\n${d1.output()}`);
      });
      d1.child.kill('SIGKILL');
      await d1.exited;
      await produceFrames(topics.raw, second);
      d2 = startDaemon(config);
      const got = await kpiTopic(kpis, expected.length).catch((err: Error) => {
        throw new Error(`${err.message}\n${d2?.output()}`);
      });
      await sleep(3000);
      const settled = await kpiTopic(kpis);
      const twice = [...settled.entries()].filter(([, v]) => v.length > 1).map(([k]) => k);
      expect(twice, 'written more than once').toEqual([]);
      expect(got.size).toBe(expected.length);
      for (const [id, want] of expected) expect(settled.get(id)?.[0], id).toEqual(want);
      expect(d2.output()).toMatch(/KPI shards assigned: committed state read back/);
    } finally {
      d2?.child.kill('SIGTERM');
      await d2?.exited;
      if (d1.child.exitCode === null && d1.child.signalCode === null) d1.child.kill('SIGKILL');
    }
  }, 300_000);
});

const BASE = Date.parse('2026-11-26T12:00:00.000Z');

/** `n` session_start records of one equipment (cell 100 + equipment) in the window starting at `window` × 10 s. */
function sessions(equipmentId: number, seq: number, window: number, n: number, success: boolean): { key: string; value: Buffer } {
  const records: RecordInput[] = Array.from({ length: n }, (_, i) => ({
    eventTime: BASE + window * WINDOW_MS + 100 + i * 10,
    type: 3,
    result: success ? 0 : 1,
    cellId: 100 + equipmentId,
    setupLatencyMs: 120 + i,
  }));
  return { key: String(equipmentId), value: encodeFrame({ equipmentId, frameSeq: seq, records }) };
}

describe('KPI alarms in the daemon', () => {
  const received: Array<{ labels: Record<string, string>; endsAt?: string }> = [];
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (req.url === '/api/v2/alerts') received.push(...(JSON.parse(body) as typeof received));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('raise below the threshold, clear at or above clear, nothing on a thin window, suppressed under maintenance and never sent', async () => {
    const topics = await daemonTopics('kpi-alarms', 1);
    const kpis = uniqueTopic('kpi-alarms-kpis');
    await createTopics([kpis], 1);
    const frames = [
      sessions(7, 0, 0, 10, false), // window 0: 0 % of 10 → raised
      sessions(8, 0, 0, 2, false), // window 0: 0 % but only 2 attempts → nothing
      sessions(25, 0, 0, 10, false), // equipment 25 is under maintenance all century (examples/refdata) → suppressed
      sessions(7, 1, 1, 10, true), // window 1: 100 % → cleared
      sessions(25, 1, 1, 10, true),
      sessions(7, 2, 5, 1, true), // far ahead: the watermark passes windows 0 and 1
    ];
    await produceFrames(topics.raw, frames);
    const rule = '{ name: session_low, kpi: session_success_rate, dimension: equipment, below: 0.5, clear: 0.8, min_attempts: 5 }';
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t`, extra: kpiConfig({ rule, webhookPort: port }) });
    withKpiTopic(config, topics.alarmState, kpis);
    const d = startDaemon(config);
    try {
      const alarms = (await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 4, timeoutMs: 90_000 }).catch((err: Error) => {
        throw new Error(`${err.message}\n${d.output()}`);
      })).map((m): Record<string, any> => ({ ...(JSON.parse(m.value?.toString() ?? '{}') as Record<string, unknown>), kafkaKey: m.key?.toString() })); // eslint-disable-line @typescript-eslint/no-explicit-any
      await sleep(2000);
      const again = await consumeAll(topics.alarms, { isolation: 'read_committed', timeoutMs: 30_000 });
      expect(again, d.output()).toHaveLength(4);
      const w0 = new Date(BASE).toISOString();
      const w1 = new Date(BASE + WINDOW_MS).toISOString();
      const w2 = new Date(BASE + 2 * WINDOW_MS).toISOString();
      const raiseId = (eq: number) => `session_low:equipment:${eq}:${BASE + WINDOW_MS}`;
      // SPEC section 7: key `<dimension>:<key>` on the alarm topic
      const of = (eq: number) => alarms.filter((a) => a.kafkaKey === `equipment:${eq}`);
      expect(of(8), JSON.stringify(alarms)).toEqual([]);
      expect(of(7), JSON.stringify(alarms)).toEqual([
        expect.objectContaining({ alarm_id: raiseId(7), rule: 'session_low', state: 'raised', dimension: 'equipment', key: '7', kpi: 'session_success_rate', value: 0, threshold: 0.5, attempts: 10, window_start: w0, window_end: w1, suppressed: false }),
        expect.objectContaining({ alarm_id: raiseId(7), state: 'cleared', value: 1, attempts: 10, window_start: w1, window_end: w2, suppressed: false }),
      ]);
      expect(of(7)[0].equipment).toMatchObject({ name: expect.any(String) });
      expect(of(25).map((a) => [a.state, a.suppressed])).toEqual([
        ['raised', true],
        ['cleared', true],
      ]);
      // the webhook: equipment 7's raise and clear, never the suppressed ones
      const deadline = Date.now() + 20_000;
      while (received.length < 2 && Date.now() < deadline) await sleep(200);
      expect(received.map((a) => [a.labels.alertname, a.labels.key, a.endsAt === undefined ? 'open' : 'resolved'])).toEqual([
        ['session_low', '7', 'open'],
        ['session_low', '7', 'resolved'],
      ]);
      // the KPI objects of the two windows were written too
      const objects = await kpiTopic(kpis);
      expect(objects.get(`${w0} equipment:7`)?.[0]).toMatchObject({ session: { attempts: 10, successes: 0, success_rate: 0 } });
      expect(objects.get(`${w1} equipment:7`)?.[0]).toMatchObject({ session: { attempts: 10, successes: 10, success_rate: 1 } });
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  }, 180_000);
});
