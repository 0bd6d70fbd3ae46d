// The daemon as operators see it: /metrics scraped and parsed, /ready degraded by an SLA breach, SIGHUP reloading reference data without losing records.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { consumeAll, produceFrames } from '../kafka-helpers.js';
import { encodeFrame } from '../../src/gen/frame-encoder.js';
import { REFDATA, daemonTopics, makeFrames, sleep, startDaemon, writeConfig, type RunningDaemon } from '../pipeline/daemon-harness.js';

/** The daemon logs its HTTP address at start (port 0 picks a free one). */
async function httpUrl(d: RunningDaemon): Promise<string> {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const m = /"url":"(http:\/\/[^"]+)"/.exec(d.output());
    if (m !== null) return m[1];
    await sleep(100);
  }
  throw new Error(`no http url in the daemon's log:\n${d.output()}`);
}

/** Prometheus text format → series name with labels → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)/.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe('the daemon as a service', () => {
  it('serves parseable /metrics, /health, and /ready that degrades (and an sla alarm) when old event times breach the SLA', async () => {
    const topics = await daemonTopics('svc-metrics', 2);
    // event times of now: the latency they give is the pipeline's (a fixed date would breach the SLA once it is past)
    const frames = makeFrames(500, { badEvery: 50, startMs: Date.now() });
    await produceFrames(topics.raw, frames);
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t`, extra: 'sla:\n  seconds: 30\n  alarm: true' });
    const d = startDaemon(config);
    try {
      const url = await httpUrl(d);
      const metrics = await until('records in /metrics', async () => {
        const m = parseMetrics(await (await fetch(`${url}/metrics`)).text());
        return (m.get('lux_records_produced_total') ?? 0) >= 980 && (m.get('lux_frames_consumed_total') ?? 0) >= 500 ? m : undefined;
      });
      expect(metrics.get('lux_records_produced_total')).toBe(980); // 490 good frames × 2 records
      expect(metrics.get('lux_frames_consumed_total')).toBe(500);
      expect(metrics.get('lux_frames_dead_lettered_total{reason="bad_magic"}')).toBe(10);
      expect(metrics.get('lux_workers')).toBe(1);
      for (const name of metrics.keys()) expect(name).toMatch(/^(lux_|process_|nodejs_)/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      await until('ready', async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined));

      // records an hour old: end-to-end latency far above the 30 s bound
      const hourAgo = Date.now() - 3600_000;
      await produceFrames(topics.raw, [{ key: '5', value: encodeFrame({ equipmentId: 5, frameSeq: 1, records: [{ eventTime: hourAgo }] }) }]);
      const body = await until('a degraded /ready', async () => {
        const r = await fetch(`${url}/ready`);
        return r.status === 503 ? ((await r.json()) as { reasons: string[] }) : undefined;
      });
      expect(body.reasons.join(' ')).toMatch(/SLA/);
      const after = await until('stage latencies in /metrics', async () => {
        const m = parseMetrics(await (await fetch(`${url}/metrics`)).text());
        return (m.get('lux_stage_latency_seconds_count{stage="decode_enrich"}') ?? 0) > 0 ? m : undefined;
      });
      expect(after.get('lux_sla_breach')).toBe(1);
      // sla.alarm: the breach is also an alarm on the alarm topic
      const [sla] = await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 1, timeoutMs: 30000 });
      expect(JSON.parse(sla.value?.toString() ?? '{}')).toMatchObject({ rule: 'sla', state: 'raised', equipment_id: 0, threshold: 30000, suppressed: false });
      // stage latency: decode+enrich recorded in the worker and merged here, consume→dispatch on the main thread
      expect(after.get('lux_stage_latency_seconds_count{stage="decode_enrich"}') ?? 0).toBeGreaterThan(0);
      expect(after.get('lux_stage_latency_seconds_count{stage="consume_to_dispatch"}') ?? 0).toBeGreaterThan(0);
      expect(after.get('lux_stage_latency_seconds_count{stage="produce_to_commit"}') ?? 0).toBeGreaterThan(0);
    } finally {
      d.child.kill('SIGTERM');
      expect(await d.exited, d.output()).toBe(0);
    }
  });

  it('reloads reference data on SIGHUP without losing a record: records after the reload see the new rows', async () => {
    const topics = await daemonTopics('svc-hup', 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-ref-'));
    for (const f of fs.readdirSync(REFDATA)) fs.copyFileSync(path.join(REFDATA, f), path.join(dir, f));
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t` });
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(`dir: ${REFDATA}`, `dir: ${dir}`));
    const d = startDaemon(config);
    try {
      const before = makeFrames(200, { equipment: 3 });
      await produceFrames(topics.raw, before);
      await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 400, timeoutMs: 60000 });

      // rename equipment 1, then SIGHUP
      const eq = fs.readFileSync(path.join(dir, 'equipment.csv'), 'utf8').split('\n');
      const i = eq.findIndex((l) => l.startsWith('1,'));
      const cols = eq[i].split(',');
      cols[1] = 'RENAMED-0001';
      eq[i] = cols.join(',');
      fs.writeFileSync(path.join(dir, 'equipment.csv'), eq.join('\n'));
      d.child.kill('SIGHUP');
      await until('the reload', async () => (d.output().includes('reference data reloaded') ? true : undefined));

      const after = makeFrames(200, { equipment: 3, seqBase: 1000 });
      await produceFrames(topics.raw, after);
      const out = await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 800, timeoutMs: 60000 });
      await sleep(1000);
      expect(await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 20000 })).toHaveLength(800);
      const names = out
        .map((m) => JSON.parse(m.value?.toString() ?? '{}') as { equipment_id: number; frame_seq: number; equipment: { name: string } })
        .filter((r) => r.equipment_id === 1);
      expect(names.filter((r) => r.frame_seq < 1000).every((r) => r.equipment.name !== 'RENAMED-0001')).toBe(true);
      expect(names.filter((r) => r.frame_seq >= 1000).every((r) => r.equipment.name === 'RENAMED-0001')).toBe(true);
    } finally {
      d.child.kill('SIGTERM');
      expect(await d.exited, d.output()).toBe(0);
    }
  });
});
