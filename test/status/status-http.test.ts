// The HTTP endpoint's status routes: / serves the built page (gzip, ETag, no outside sources), /status.json the builder's text; without a builder both are 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuxMetrics } from '../../src/metrics/registry.js';
import { Readiness, startHttp, type HttpService } from '../../src/service/http.js';
import { StatusBuilder } from '../../src/status/status-builder.js';
import { statusPage } from '../../src/status/status-page.js';
import { ScriptedSource } from './scripted-source.js';

let withStatus: HttpService;
let without: HttpService;
const metrics = new LuxMetrics({ collectProcessMetrics: false });

beforeAll(async () => {
  withStatus = await startHttp({ host: '127.0.0.1', port: 0, metrics, readiness: new Readiness(), status: new StatusBuilder(new ScriptedSource()) });
  without = await startHttp({ host: '127.0.0.1', port: 0, metrics, readiness: new Readiness() });
});
afterAll(async () => {
  await withStatus.close();
  await without.close();
});

describe('/ and /status.json', () => {
  it('serves the self-contained page, gzipped on request, and answers 304 to its ETag', async () => {
    const page = statusPage();
    expect(page, 'the page is built by npm run build (dist/web/status/index.html)').not.toBeNull();
    const res = await fetch(`${withStatus.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-encoding')).toBe('gzip'); // fetch asks for gzip
    const html = await res.text();
    expect(html).toContain('<title>LUX status</title>');
    // nothing from elsewhere: no external script, style or font
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="(https?:)?\/\//);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const again = await fetch(`${withStatus.url}/`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('serves /status.json from the builder', async () => {
    const res = await fetch(`${withStatus.url}/status.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const doc = (await res.json()) as { version: number; service: { instance: string } };
    expect(doc.version).toBe(1);
    expect(doc.service.instance).toBe('lux-scripted-1');
  });

  it('answers 404 for both when the daemon gives no status source', async () => {
    expect((await fetch(`${without.url}/`)).status).toBe(404);
    expect((await fetch(`${without.url}/status.json`)).status).toBe(404);
    expect((await fetch(`${without.url}/metrics`)).status).toBe(200);
  });
});
