// The Alertmanager webhook: retried on 500 until delivered, suppressed alarms never sent, bounded queue drops the oldest.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { alarmJson, type AlarmJson } from '../../src/alarms/alarm-json.js';
import { RuleSet } from '../../src/alarms/rules.js';
import { AlertmanagerWebhook, type Alert } from '../../src/alarms/webhook.js';

function alarm(state: 'raised' | 'cleared', suppressed = false, eq = 42): AlarmJson {
  return {
    alarm_id: `rlf:${eq}:1704067210000`,
    rule: 'rlf',
    state,
    equipment_id: eq,
    count: state === 'raised' ? 5 : 0,
    threshold: 5,
    window_start: '2023-12-31T23:59:10.000Z',
    window_end: state === 'raised' ? '2024-01-01T00:00:10.000Z' : '2024-01-01T00:01:10.000Z',
    suppressed,
    equipment: { name: 'eNB-42', model: 'X', vendor: 'Acme', site: 'S1', region: 'north' },
    emitted_at: '2024-01-01T00:00:21.000Z',
  };
}

interface Receiver {
  url: string;
  bodies: Alert[][];
  paths: string[];
  close(): Promise<void>;
}

async function receiver(statuses: number[]): Promise<Receiver> {
  const bodies: Alert[][] = [];
  const paths: string[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url}`);
      const status = statuses[Math.min(n++, statuses.length - 1)];
      if (status === 200) bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Alert[]);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, bodies, paths, close: () => new Promise((r) => server.close(() => r())) };
}

let open: Receiver | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

describe('webhook', () => {
  it('retries a 500 and delivers the alert on the next attempt', async () => {
    open = await receiver([500, 200]);
    const hook = new AlertmanagerWebhook({ url: open.url, baseDelayMs: 10 });
    hook.send([alarm('raised')]);
    await hook.flush();
    expect(open.paths).toEqual(['POST /api/v2/alerts', 'POST /api/v2/alerts']);
    expect(hook.retries).toBe(1);
    expect(hook.sent).toBe(1);
    const [alert] = open.bodies[0];
    expect(alert.labels).toMatchObject({ alertname: 'rlf', rule: 'rlf', equipment_id: '42', alarm_id: 'rlf:42:1704067210000' });
    expect(alert.startsAt).toBe('2024-01-01T00:00:10.000Z');
    expect(alert.endsAt).toBeUndefined();
  });

  it('sends a cleared alarm with the same labels and endsAt set', async () => {
    open = await receiver([200]);
    const hook = new AlertmanagerWebhook({ url: open.url });
    hook.send([alarm('raised')]);
    await hook.flush();
    hook.send([alarm('cleared')]);
    await hook.flush();
    const [[raised], [cleared]] = open.bodies;
    expect(cleared.labels).toEqual(raised.labels);
    expect(cleared.startsAt).toBe(raised.startsAt);
    expect(cleared.endsAt).toBe('2024-01-01T00:01:10.000Z');
  });

  it('never sends suppressed alarms', async () => {
    open = await receiver([200]);
    const hook = new AlertmanagerWebhook({ url: open.url });
    hook.send([alarm('raised', true), alarm('cleared', true)]);
    await hook.flush();
    expect(open.paths).toEqual([]);
    expect(hook.skipped).toBe(2);
  });

  it('gives up after maxAttempts and does not retry a 4xx', async () => {
    open = await receiver([503]);
    const hook = new AlertmanagerWebhook({ url: open.url, baseDelayMs: 1, maxAttempts: 3 });
    hook.send([alarm('raised')]);
    await hook.flush();
    expect(open.paths.length).toBe(3);
    expect(hook.failed).toBe(1);
    await open.close();
    open = await receiver([400]);
    const hook2 = new AlertmanagerWebhook({ url: open.url, baseDelayMs: 1 });
    hook2.send([alarm('raised')]);
    await hook2.flush();
    expect(open.paths.length).toBe(1);
    expect(hook2.failed).toBe(1);
  });

  it('drops the oldest alerts when the queue is full', async () => {
    open = await receiver([200]);
    const hook = new AlertmanagerWebhook({ url: open.url, maxQueue: 2, batchSize: 10 });
    // the first send starts a request for eq 1 at once; the rest queue behind it
    hook.send([alarm('raised', false, 1)]);
    hook.send([alarm('raised', false, 2), alarm('raised', false, 3), alarm('raised', false, 4)]);
    await hook.flush();
    const sentEq = open.bodies.flat().map((a) => a.labels.equipment_id);
    expect(hook.dropped).toBe(1);
    expect(sentEq).toEqual(['1', '3', '4']);
  });

  it('an equipment under maintenance gets suppressed alarms and no webhook call', async () => {
    open = await receiver([200]);
    const t0 = Date.UTC(2024, 0, 1);
    const rules = new RuleSet(
      [{ name: 'rlf', window_ms: 60_000, slide_ms: 10_000, threshold: 3, clear_below: 1, lateness_ms: 0 }],
      (eq, t) => eq === 9 && t >= t0 && t < t0 + 86_400_000,
    );
    for (let i = 0; i < 3; i++) rules.addFailure(9, t0 + i);
    const alarms = rules.advance(t0 + 600_000).map((e) => alarmJson(e));
    expect(alarms.map((a) => [a.state, a.suppressed])).toEqual([['raised', true], ['cleared', true]]);
    const hook = new AlertmanagerWebhook({ url: open.url });
    hook.send(alarms);
    await hook.flush();
    expect(open.paths).toEqual([]);
  });
});
