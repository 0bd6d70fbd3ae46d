// The HTTP endpoints: /metrics scrapes the registry, /health is liveness, /ready reports why the process is not ready.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initLatency, LatencyMerger, LatencyRecorder, SlaChecker } from '../../src/metrics/latency.js';
import { LuxMetrics } from '../../src/metrics/registry.js';
import { Readiness, startHttp, type HttpService } from '../../src/service/http.js';

const metrics = new LuxMetrics({ rules: ['drops'], collectProcessMetrics: false });
const readiness = new Readiness();
let service: HttpService;

beforeAll(async () => {
  await initLatency();
  service = await startHttp({ host: '127.0.0.1', port: 0, metrics, readiness, stallMs: 60_000 });
});
afterAll(() => service.close());

async function get(path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${service.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('/metrics', () => {
  it('serves the Prometheus text format with the lux_ metric set', async () => {
    metrics.framesConsumed.inc(3);
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toMatch(/^# TYPE lux_frames_consumed_total counter$/m);
    expect(r.body).toMatch(/^lux_frames_consumed_total 3$/m);
    expect(r.body).toMatch(/^# TYPE lux_end_to_end_latency_seconds summary$/m);
  });
});

describe('/health', () => {
  it('answers 200 while the main loop beats, 503 once it has stalled', async () => {
    readiness.beat();
    expect((await get('/health')).status).toBe(200);
    readiness.beat(Date.now() - 120_000);
    const r = await get('/health');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({ status: 'stalled' });
    readiness.beat();
  });
});

describe('/ready', () => {
  it('is 503 with the reasons until partitions are assigned and the producer is ready', async () => {
    let r = await get('/ready');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toEqual({
      ready: false,
      reasons: ['no partitions of the raw topic assigned', 'transactional producer not ready'],
    });
    readiness.partitionsAssigned = true;
    readiness.producerReady = true;
    r = await get('/ready');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ready: true, reasons: [] });
  });

  it('degrades when the SLA checker sees old event times, and recovers', async () => {
    const merger = new LatencyMerger(10_000, 10_000);
    const sla = new SlaChecker({ seconds: 60, percentile: 99.9 });
    const recorder = new LatencyRecorder(['event_to_commit']);
    const now = Date.now();
    // Records whose event time is 5 minutes old were just committed.
    recorder.recordSince('event_to_commit', now, [now - 300_000, now - 299_000, now - 1_000]);
    merger.add(recorder.snapshot());
    const verdict = sla.check(merger);
    readiness.slaHeld = !verdict.breached;
    readiness.slaReason = verdict.reason;
    const r = await get('/ready');
    expect(r.status).toBe(503);
    const body = JSON.parse(r.body) as { reasons: string[] };
    expect(body.reasons).toHaveLength(1);
    expect(body.reasons[0]).toMatch(/^latency SLA breached: event_to_commit p99\.9 30\d\.\d s > 60 s$/);

    merger.rotate();
    recorder.record('event_to_commit', 800);
    merger.add(recorder.snapshot());
    expect(sla.check(merger).transition).toBe('ok');
    readiness.slaHeld = !sla.breached;
    expect((await get('/ready')).status).toBe(200);
    recorder.destroy();
    merger.destroy();
  });

  it('is 503 while draining', async () => {
    readiness.draining = true;
    const r = await get('/ready');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).reasons).toEqual(['draining for shutdown']);
    readiness.draining = false;
  });
});

describe('the server', () => {
  it('answers 404 naming the endpoints, and 405 to other methods', async () => {
    const r = await get('/nope');
    expect(r.status).toBe(404);
    expect(r.body).toContain('/metrics, /health or /ready');
    expect((await fetch(`${service.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('names host and port when it cannot listen', async () => {
    await expect(startHttp({ host: '127.0.0.1', port: service.port, metrics, readiness })).rejects.toThrow(
      `http.host/http.port: cannot listen on 127.0.0.1:${service.port}: EADDRINUSE`,
    );
  });
});
