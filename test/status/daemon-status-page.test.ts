// The status page of a real `lux run` against the real broker, in headless Chromium: frames produced, the page's numbers move, a raised alarm appears.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { produceFrames } from '../kafka-helpers.js';
import { encodeFrame, type RecordInput } from '../../src/gen/frame-encoder.js';
import { daemonTopics, makeFrames, sleep, startDaemon, writeConfig, type RunningDaemon } from '../pipeline/daemon-harness.js';
import type { StatusDocument } from '../../src/status/status-document.js';
import { canvasInk, chromiumPresent, openBrowser, type BrowserSession } from './browser.js';

/** The page's document, as the callbacks run in the browser see it (the tests are type-checked without the DOM library). */
declare const document: { getElementById(id: string): { textContent: string | null } | null; querySelector(s: string): { textContent: string | null } | null; querySelectorAll(s: string): { length: number } };

const SCREENSHOT = path.resolve(import.meta.dirname, '../../.lux/status-page-daemon.png');
const present = chromiumPresent();

/** The daemon logs its HTTP address at start (port 0 picks a free one). */
async function httpUrl(d: RunningDaemon): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const m = /"url":"(http:\/\/[^"]+)"/.exec(d.output());
    if (m !== null) return m[1]!;
    await sleep(100);
  }
  throw new Error(`no http url in the daemon's log:\n${d.output()}`);
}

function failures(equipmentId: number, frameSeq: number, atMs: number, n: number, fail: boolean): { key: string; value: Buffer } {
  const records: RecordInput[] = Array.from({ length: n }, (_, i) => ({ eventTime: atMs + i * 100, type: 7, result: fail ? 1 : 0, causeCode: fail ? 3 : 0 }));
  return { key: String(equipmentId), value: encodeFrame({ equipmentId, frameSeq, records }) };
}

describe.skipIf(!present)('the status page of a running daemon', () => {
  let daemon: RunningDaemon | undefined;
  let browser: BrowserSession | undefined;
  afterAll(async () => {
    await browser?.close();
    if (daemon !== undefined) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
  });

  it('shows records flowing, dead letters, and an alarm once the daemon raises it', async () => {
    const topics = await daemonTopics('status-page', 1);
    const config = writeConfig(topics, {
      group: `${topics.raw}-g`,
      transactionalId: `${topics.raw}-t`,
      extra: ['alarms:', '  idle_partition_ms: 1000', '  rules:', '    - { name: burst, window_ms: 10000, slide_ms: 5000, threshold: 5, clear_below: 2, lateness_ms: 0 }'].join('\n'),
    });
    daemon = startDaemon(config);
    const url = await httpUrl(daemon);
    browser = await openBrowser();
    const { page, errors } = browser;
    await page.goto(`${url}/?poll=500`);
    await page.waitForSelector('#graph svg g.node');
    const doc = (await (await fetch(`${url}/status.json`)).json()) as StatusDocument;
    expect(doc.version).toBe(1);
    expect(await page.locator('#graph g.node').count()).toBe(doc.topology.nodes.length);
    const records = () => page.evaluate(() => document.querySelector('#graph g[data-node="enriched"] text.stats')?.textContent ?? '');

    // first wave: records (event times of now, so the SLA holds) with a broken frame every 20
    const now = Date.now();
    await produceFrames(topics.raw, makeFrames(400, { startMs: now, badEvery: 20 }));
    await expect.poll(async () => (await (await fetch(`${url}/status.json`)).json() as StatusDocument).throughput.totals.records_out, { timeout: 60_000 }).toBe(760);
    await expect.poll(() => page.locator('#t-dlq').innerText(), { timeout: 10_000 }).toBe('20');
    await expect.poll(() => page.locator('#dlq-recent tbody tr').count(), { timeout: 10_000 }).toBe(8);
    expect(await page.locator('#dlq-reasons tbody').innerText()).toMatch(/bad_magic\s+20/);
    await expect.poll(() => canvasInk(page, '#chart-throughput canvas'), { timeout: 10_000 }).toBeGreaterThan(500);
    const before = await records();

    // second wave: the numbers move again, and equipment 7 failing ten times a second raises an alarm once the
    // watermark passes its first windows (a later success moves it); it keeps failing, so the alarm stays open
    await produceFrames(topics.raw, [
      ...makeFrames(200, { startMs: now + 5_000, seqBase: 1000 }),
      failures(7, 5000, now + 6_000, 440, true),
      failures(1, 5001, now + 50_000, 1, false),
    ]);
    await expect.poll(records, { timeout: 30_000 }).not.toBe(before);
    try {
      await expect.poll(() => page.locator('#alarms tbody').innerText(), { timeout: 60_000 }).toMatch(/burst.*equipment 7/s);
    } catch (e) {
      const s = (await (await fetch(`${url}/status.json`)).json()) as StatusDocument;
      process.stdout.write(`alarms in /status.json: ${JSON.stringify(s.alarms)}\nmetrics: ${(await (await fetch(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('lux_alarm')).join('\n')}\ndaemon log:\n${daemon.output().slice(-3000)}\n`);
      throw e;
    }
    expect(await page.locator('#t-alarms').innerText()).not.toBe('0');
    expect(await page.locator('#refdata tbody tr').count()).toBe(4);
    await page.waitForTimeout(1_000);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    process.stdout.write(`status page screenshot (real daemon): ${SCREENSHOT}\n`);
    expect(errors).toEqual([]);
  });
});
