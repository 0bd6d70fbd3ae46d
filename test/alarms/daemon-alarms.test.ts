// Alarms through the whole daemon and the real broker: one raise and one clear per episode on the alarm topic, suppressed under maintenance, and the webhook told of the rest (after a 500).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeAll, produceFrames } from '../kafka-helpers.js';
import { encodeFrame, type RecordInput } from '../../src/gen/frame-encoder.js';
import { daemonTopics, sleep, startDaemon, writeConfig } from '../pipeline/daemon-harness.js';

const BASE = Date.parse('2026-11-26T10:00:00.000Z');

function frame(equipmentId: number, frameSeq: number, times: number[], failure: boolean, partition?: number): { key: string; value: Buffer; partition?: number } {
  const records: RecordInput[] = times.map((t) => ({ eventTime: BASE + t, type: 7, result: failure ? 1 : 0, causeCode: failure ? 3 : 0 }));
  return { key: String(equipmentId), value: encodeFrame({ equipmentId, frameSeq, records }), partition };
}

/** Waits until the daemon's log has a line matching `pattern`. */
async function logged(d: { output(): string }, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(d.output())) {
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${d.output()}`);
    await sleep(100);
  }
}

/** The rule of the restart, crash and rebalance tests: 20 s windows sliding by 5 s, raise at 5, clear below 2. */
const EPISODE_RULE = [
  'alarms:',
  '  idle_partition_ms: 1000',
  '  rules:',
  '    - { name: r, window_ms: 20000, slide_ms: 5000, threshold: 5, clear_below: 2, lateness_ms: 0 }',
].join('\n');

interface Received {
  status: number;
  alerts: { labels: Record<string, string>; endsAt?: string; startsAt?: string }[];
}

describe('alarms in the daemon', () => {
  const received: Received[] = [];
  let server: http.Server;
  let port = 0;
  let calls = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        calls++;
        // the first delivery fails: the sender must retry
        const status = calls === 1 ? 500 : 200;
        received.push({ status, alerts: req.url === '/api/v2/alerts' ? JSON.parse(body) : [] });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('raises once and clears once per episode, ignores bursts below the threshold, suppresses under maintenance', async () => {
    const topics = await daemonTopics('alarms', 1);
    const frames = [
      frame(7, 1, [0, 100, 200, 300, 400, 500, 600, 700], true), // 8 failures ≥ threshold 5
      frame(8, 1, [100, 200, 300], true), // 3 failures: below
      frame(25, 1, [0, 100, 200, 300, 400, 500], true), // equipment 25 is under maintenance all century (examples/refdata)
      frame(7, 2, [2000], false),
      // successes later on move the watermark past the windows
      frame(1, 1, [20_000], false),
      frame(1, 2, [40_000], false),
      frame(1, 3, [60_000], false),
    ];
    await produceFrames(topics.raw, frames);
    const config = writeConfig(topics, {
      group: `${topics.raw}-g`,
      transactionalId: `${topics.raw}-t`,
      extra: [
        'alarms:',
        '  idle_partition_ms: 1000',
        '  rules:',
        '    - { name: fail10s, window_ms: 10000, slide_ms: 5000, threshold: 5, clear_below: 2, lateness_ms: 0 }',
        '  webhook:',
        `    url: http://127.0.0.1:${port}`,
        '    timeout_ms: 2000',
      ].join('\n'),
    });
    const d = startDaemon(config);
    try {
      const alarms = await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 4, timeoutMs: 60000 });
      await sleep(2000);
      const all = (await consumeAll(topics.alarms, { isolation: 'read_committed', timeoutMs: 20000 })).map((m): Record<string, any> => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
        key: m.key?.toString(),
        ...(JSON.parse(m.value?.toString() ?? '{}') as Record<string, unknown>),
      }));
      expect(alarms.length).toBe(4);
      expect(all, d.output()).toHaveLength(4);
      const of = (eq: number) => all.filter((a) => a.equipment_id === eq);
      expect(of(8)).toHaveLength(0);

      const seven = of(7);
      expect(seven.map((a) => a.state)).toEqual(['raised', 'cleared']);
      expect(seven[0]).toMatchObject({
        key: '7',
        rule: 'fail10s',
        alarm_id: `fail10s:7:${BASE + 5000}`,
        count: 8,
        threshold: 5,
        window_start: new Date(BASE - 5000).toISOString(),
        window_end: new Date(BASE + 5000).toISOString(),
        suppressed: false,
      });
      expect((seven[0].equipment as { name: string }).name).toBeTypeOf('string');
      expect(seven[1]).toMatchObject({ alarm_id: `fail10s:7:${BASE + 5000}`, state: 'cleared', suppressed: false });
      expect(seven[1].count as number).toBeLessThan(2);

      const maint = of(25);
      expect(maint.map((a) => [a.state, a.suppressed])).toEqual([
        ['raised', true],
        ['cleared', true],
      ]);

      // the webhook: a 500 first, then the alerts of equipment 7 only (never the suppressed ones)
      const deadline = Date.now() + 20000;
      const delivered = () => received.filter((r) => r.status === 200).flatMap((r) => r.alerts);
      while (delivered().length < 2 && Date.now() < deadline) await sleep(200);
      expect(received[0]?.status).toBe(500);
      const alerts = delivered();
      expect(alerts.every((a) => a.labels.equipment_id === '7')).toBe(true);
      expect(alerts.some((a) => a.endsAt !== undefined)).toBe(true);

      // Prometheus: the 17 failures counted once each, both episodes closed, nothing late (the counters arrive with
      // the daemon's once-a-second update)
      const url = /"url":"(http:\/\/[^"]+)"/.exec(d.output())?.[1];
      expect(url, d.output()).toBeDefined();
      const want = [
        'lux_alarm_failures_counted_total{rule="fail10s"} 17',
        'lux_alarms_raised_total{rule="fail10s"} 2',
        'lux_alarms_cleared_total{rule="fail10s"} 2',
        'lux_alarms_suppressed_total{rule="fail10s"} 2',
        'lux_alarms_open{rule="fail10s"} 0',
        'lux_alarm_late_records_total 0',
      ];
      let text = '';
      const metricsBy = Date.now() + 10000;
      do {
        text = await (await fetch(`${url}/metrics`)).text();
        if (want.every((line) => text.split('\n').includes(line))) break;
        await sleep(250);
      } while (Date.now() < metricsBy);
      const lines = text.split('\n').filter((l) => /^lux_alarm/.test(l));
      for (const line of want) expect(lines, line).toContain(line);
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });

  it('a restart in the middle of an episode raises nothing twice and still clears', async () => {
    const topics = await daemonTopics('alarms-restart', 1);
    const config = writeConfig(topics, {
      group: `${topics.raw}-g`,
      transactionalId: `${topics.raw}-t`,
      extra: EPISODE_RULE,
    });
    // the episode starts: 6 failures, then time moves on past the first window end, so the raise is decided
    await produceFrames(topics.raw, [frame(9, 1, [0, 100, 200, 300, 400, 500], true), frame(1, 1, [6000], false)]);
    const first = startDaemon(config);
    await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 1, timeoutMs: 60000 }).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output()}`);
    });
    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toBe(0);

    // the episode goes on after the restart (more failures within the 20 s windows), then ends
    await produceFrames(topics.raw, [
      frame(9, 2, [7000, 7100, 7200], true),
      frame(1, 2, [30_000], false),
      frame(1, 3, [60_000], false),
    ]);
    const second = startDaemon(config);
    try {
      await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 2, timeoutMs: 60000 });
      await sleep(2000);
      const all = (await consumeAll(topics.alarms, { isolation: 'read_committed', timeoutMs: 20000 })).map(
        (m) => JSON.parse(m.value?.toString() ?? '{}') as { state: string; alarm_id: string; equipment_id: number },
      );
      expect(all.map((a) => [a.equipment_id, a.state]), second.output()).toEqual([
        [9, 'raised'],
        [9, 'cleared'],
      ]);
      expect(all[1].alarm_id).toBe(all[0].alarm_id);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('a crash (SIGKILL) loses no counted failure and repeats no raise', async () => {
    const topics = await daemonTopics('alarms-crash', 1);
    const config = writeConfig(topics, {
      group: `${topics.raw}-g`,
      transactionalId: `${topics.raw}-t`,
      extra: EPISODE_RULE,
    });
    // equipment 10 raises; equipment 9 gets 4 failures, one short of the threshold; time moves past the first window
    await produceFrames(topics.raw, [
      frame(10, 1, [0, 100, 200, 300, 400, 500], true),
      frame(9, 1, [0, 100, 200, 300], true),
      frame(1, 1, [6000], false),
    ]);
    const first = startDaemon(config);
    await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 1, timeoutMs: 60000 });
    // every record committed (the 4 failures of equipment 9 with them), then the process dies without a word
    await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 11, timeoutMs: 60000 });
    first.child.kill('SIGKILL');
    await first.exited;

    // one more failure of equipment 9 in the same windows: with the 4 before the crash, it reaches the threshold
    await produceFrames(topics.raw, [frame(9, 2, [1000], true), frame(1, 2, [30_000], false), frame(1, 3, [60_000], false)]);
    const second = startDaemon(config);
    try {
      await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 4, timeoutMs: 90000 }).catch(async (err: Error) => {
        const got = (await consumeAll(topics.alarms, { isolation: 'read_committed', timeoutMs: 20000 })).map((m) => m.value?.toString());
        throw new Error(`${err.message}: ${got.join('\n')}\n${first.output()}\n${second.output()}`);
      });
      await sleep(2000);
      const all = (await consumeAll(topics.alarms, { isolation: 'read_committed', timeoutMs: 20000 })).map(
        (m) => JSON.parse(m.value?.toString() ?? '{}') as { state: string; alarm_id: string; equipment_id: number; count: number },
      );
      const of = (eq: number) => all.filter((a) => a.equipment_id === eq).map((a) => [a.state, a.alarm_id, a.state === 'raised' ? a.count : 0]);
      expect(of(10), second.output()).toEqual([
        ['raised', `r:10:${BASE + 5000}`, 6],
        ['cleared', `r:10:${BASE + 5000}`, 0],
      ]);
      expect(of(9), second.output()).toEqual([
        ['raised', `r:9:${BASE + 10000}`, 5],
        ['cleared', `r:9:${BASE + 10000}`, 0],
      ]);
      expect(second.output()).toMatch(/"equipment":2,[^\n]*alarm windows restored from the state changelog/);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('a partition moving to another instance of the group keeps its window state: one raise and one clear overall', async () => {
    const topics = await daemonTopics('alarms-rebalance', 2);
    const group = `${topics.raw}-g`;
    const extra = EPISODE_RULE;
    const configA = writeConfig(topics, { group, transactionalId: `${topics.raw}-a`, extra });
    const configB = writeConfig(topics, { group, transactionalId: `${topics.raw}-b`, extra });
    // The episode of equipment 9 is all on partition 0; partition 1 holds one success. A owns both and raises.
    await produceFrames(topics.raw, [
      frame(9, 1, [0, 100, 200, 300, 400, 500], true, 0),
      frame(1, 1, [6000], false, 0),
      frame(2, 1, [6000], false, 1),
    ]);
    const a = startDaemon(configA);
    let b: ReturnType<typeof startDaemon> | undefined;
    const logs = () => `A:\n${a.output()}\nB:\n${b?.output()}`;
    try {
      // A starts (broker connection, reference data, its KPI and alarm state read back) and raises: on a loaded
      // machine the start alone has taken over a minute
      await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 1, timeoutMs: 150_000 }).catch((err: Error) => {
        throw new Error(`${err.message}\n${logs()}`);
      });

      // B joins (the cooperative assignor moves one partition to it, after A's last transaction for it), then A stops
      // gracefully (its last transaction covers what it still owns, which B takes up after A's session ends).
      b = startDaemon(configB);
      await logged(b, /"msg":"partitions assigned"/, 60000);
      await sleep(2000);
      a.child.kill('SIGTERM');
      // bounded, so that a stop that hangs shows both daemons' logs instead of the test's timeout
      const stopped = await Promise.race([a.exited, sleep(90_000).then(() => 'still running 90 s after SIGTERM')]);
      expect(stopped, logs()).toBe(0);

      // the episode goes on (within the 20 s windows of its raise), then ends; only B is left to see it
      await produceFrames(topics.raw, [
        frame(9, 2, [7000, 7100, 7200], true, 0),
        frame(1, 2, [30_000], false, 0),
        frame(1, 3, [60_000], false, 0),
      ]);
      await consumeAll(topics.alarms, { isolation: 'read_committed', expected: 2, timeoutMs: 60000 }).catch(async (err: Error) => {
        const got = (await consumeAll(topics.alarms, { isolation: 'read_committed', timeoutMs: 20000 })).map((m) => m.value?.toString());
        throw new Error(`${err.message}: ${got.join('\n')}\n${logs()}`);
      });
      await sleep(3000);
      const all = (await consumeAll(topics.alarms, { isolation: 'read_committed', timeoutMs: 20000 })).map(
        (m) => JSON.parse(m.value?.toString() ?? '{}') as { state: string; alarm_id: string; equipment_id: number },
      );
      expect(all.map((x) => [x.equipment_id, x.state]), logs()).toEqual([
        [9, 'raised'],
        [9, 'cleared'],
      ]);
      expect(all[1].alarm_id).toBe(all[0].alarm_id);
      expect(b.output(), logs()).toMatch(/alarm windows restored from the state changelog/);
    } finally {
      a.child.kill('SIGTERM');
      await a.exited;
      b?.child.kill('SIGTERM');
      await b?.exited;
    }
    // its waits are bounded one by one (150 s, 60 s, 60 s...): the whole needs more than the default 120 s
  }, 420_000);
});
