// Headless Debian Chromium driven by playwright-core for the status page tests: launch with the machine's flags and a fresh profile, collect console errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** What the page callbacks below touch in the browser (the tests are type-checked without the DOM library). */
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

export const CHROMIUM = process.env.LUX_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser tests can run; in CI a missing browser is a failure, not a skip (.ci/run installs it). */
export function chromiumPresent(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium package (apt-get install -y chromium)`);
  }
  return false;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** console errors and uncaught page errors, as text */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<BrowserSession> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Non-blank pixels of a canvas under `selector` (the chart drew something). */
export async function canvasInk(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (c) => {
    const canvas = c as unknown as PageCanvas;
    const ctx = canvas.getContext('2d');
    if (ctx === null || canvas.width === 0) return 0;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) ink++;
    return ink;
  });
}

/** The page's JS heap after a forced garbage collection, bytes. */
export async function heapAfterGc(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}
