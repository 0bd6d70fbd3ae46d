// The status page in a real browser (headless Debian Chromium): it loads without errors, draws the graph and charts, its numbers move, a raised alarm appears; a screenshot goes to .lux/.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuxMetrics } from '../../src/metrics/registry.js';
import { Readiness, startHttp, type HttpService } from '../../src/service/http.js';
import { StatusBuilder } from '../../src/status/status-builder.js';
import type { StatusDocument } from '../../src/status/status-document.js';
import { ScriptedSource, clearedOf, failureAlarm, kpiAlarm } from './scripted-source.js';
import { canvasInk, chromiumPresent, heapAfterGc, openBrowser, type BrowserSession } from './browser.js';

/** The page's document, as the callbacks run in the browser see it (the tests are type-checked without the DOM library). */
declare const document: { getElementById(id: string): { textContent: string | null } | null; querySelector(s: string): { textContent: string | null } | null; querySelectorAll(s: string): { length: number } };

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCREENSHOT = path.join(ROOT, '.lux', 'status-page.png');
const present = chromiumPresent();

describe.skipIf(!present)('the status page in Chromium, fed by a scripted source', () => {
  const source = new ScriptedSource();
  const builder = new StatusBuilder(source, { sampleMs: 250, cacheMs: 100 });
  let http: HttpService;
  let browser: BrowserSession;

  beforeAll(async () => {
    builder.start();
    http = await startHttp({ host: '127.0.0.1', port: 0, metrics: new LuxMetrics({ collectProcessMetrics: false }), readiness: new Readiness(), status: builder });
    browser = await openBrowser();
  });
  afterAll(async () => {
    builder.stop();
    await browser?.close();
    await http?.close();
  });

  it('loads without console errors and draws the topology graph and both charts', async () => {
    const { page, errors } = browser;
    await page.goto(`${http.url}/?poll=250`);
    const doc = JSON.parse(builder.json()) as StatusDocument;
    await page.waitForSelector('#graph svg g.node');
    expect(await page.locator('#graph g.node').count()).toBe(doc.topology.nodes.length);
    expect(await page.locator('#graph g.edge').count()).toBe(doc.topology.edges.length);
    // laid out, not stacked: the nodes sit in several columns (ranks) and rows
    const boxes = await page.locator('#graph g.node').evaluateAll((gs) => gs.map((g) => (g as unknown as { getAttribute(n: string): string | null }).getAttribute('transform')));
    const xs = new Set(boxes.map((t) => /translate\(([-\d.]+)/.exec(t ?? '')?.[1]));
    expect(xs.size).toBeGreaterThanOrEqual(3);
    // the charts: uPlot canvases with ink once data arrived
    await page.waitForFunction(() => document.querySelectorAll('#chart-latency canvas, #chart-throughput canvas').length === 2);
    await expect.poll(() => canvasInk(page, '#chart-latency canvas'), { timeout: 10_000 }).toBeGreaterThan(500);
    await expect.poll(() => canvasInk(page, '#chart-throughput canvas'), { timeout: 10_000 }).toBeGreaterThan(500);
    // the SLA line is in the latency chart's legend
    expect(await page.locator('#chart-latency .u-legend').innerText()).toMatch(/SLA 60 s/);
    // tables filled
    await expect.poll(() => page.locator('#refdata tbody tr').count()).toBe(4);
    await expect.poll(() => page.locator('#kpi-region tbody tr').count()).toBe(3);
    await expect.poll(() => page.locator('#kpi-drop tbody tr').count()).toBe(5);
    await expect.poll(() => page.locator('#lag tbody tr').count()).toBe(3);
    expect(errors).toEqual([]);
  });

  it('shows numbers that move while data changes', async () => {
    const { page } = browser;
    const read = () => page.evaluate(() => ({ out: document.getElementById('t-out')!.textContent, decode: document.querySelector('#graph g[data-node="decode"] text.stats')!.textContent, tx: document.getElementById('t-tx')!.textContent }));
    await expect.poll(async () => (await read()).out, { timeout: 10_000 }).not.toBe('0.0');
    const first = await read();
    await expect.poll(async () => (await read()).tx, { timeout: 10_000 }).not.toBe(first.tx);
    await expect.poll(async () => (await read()).decode, { timeout: 10_000 }).not.toBe(first.decode);
    expect(first.decode).toMatch(/\/s · [\d,]+ errors/);
    await expect.poll(() => page.locator('#dlq-recent tbody tr').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(browser.errors).toEqual([]);
  });

  it('lists an alarm once it is raised, suppressed ones marked, KPI alarms too', async () => {
    const { page } = browser;
    expect(await page.locator('#alarms tbody tr td.muted').innerText()).toBe('none');
    const raised17 = failureAlarm(17);
    source.raise(raised17);
    await expect.poll(() => page.locator('#alarms tbody').innerText(), { timeout: 30_000 }).toContain('equipment 17 (ENB-TEST-17)');
    expect(await page.locator('#t-alarms').innerText()).toBe('1');
    source.raise(failureAlarm(23, { suppressed: true }));
    source.raise(kpiAlarm('4711'));
    await expect.poll(() => page.locator('#alarms tbody tr').count(), { timeout: 30_000 }).toBe(3);
    expect(await page.locator('#alarms tbody tr.suppressed').innerText()).toMatch(/equipment 23.*suppressed/s);
    expect(await page.locator('#alarms tbody').innerText()).toMatch(/cell:4711.*KPI session_success_rate/s);
    // a cleared alarm leaves the list
    source.raise(clearedOf(raised17));
    await expect.poll(() => page.locator('#alarms tbody tr').count(), { timeout: 30_000 }).toBe(2);
    source.raise(failureAlarm(17));
    await page.waitForTimeout(600);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    process.stdout.write(`status page screenshot: ${SCREENSHOT}\n`);
    expect(browser.errors).toEqual([]);
  });

  it('keeps its memory flat while it polls (left open all day)', async () => {
    const { page } = browser;
    // polls every 200 ms: 100 polls between the two readings, as many as 100 s of the default interval
    await page.goto(`${http.url}/?poll=200`);
    await page.waitForSelector('#graph svg g.node');
    await page.waitForTimeout(3_000);
    const before = await heapAfterGc(page);
    await page.waitForTimeout(20_000);
    const after = await heapAfterGc(page);
    process.stdout.write(`status page heap after GC: ${(before / 1024).toFixed(0)} KiB, 100 polls later ${(after / 1024).toFixed(0)} KiB\n`);
    expect(after - before).toBeLessThan(512 * 1024);
    expect(browser.errors).toEqual([]);
  });
});
