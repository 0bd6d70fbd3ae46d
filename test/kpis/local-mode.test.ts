// `lux decode --kpis` (SPEC section 6) as a child process: every window of the input against the model of its own enriched output, the records and dead letters unchanged, one-line errors for bad arguments.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../src/paths.js';
import { lengthPrefixed, makeRefDir, trafficFrames } from './harness.js';
import { kpiDifferences, kpiId, modelKpis, type EnrichedRecord } from './model.js';

const LUX = path.join(ROOT, 'bin', 'lux.js');
const dir = mkdtempSync(path.join(tmpdir(), 'lux-kpi-local-'));
const refDir = makeRefDir();
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(refDir, { recursive: true, force: true });
});


const T0 = Date.UTC(2025, 6, 14, 23, 59, 0);

function lux(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [LUX, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe('lux decode --kpis', () => {
  const input = path.join(dir, 'frames.bin');
  writeFileSync(input, lengthPrefixed(trafficFrames(21, 9_000, T0, 7)));

  it('writes the KPI object of every window, dimension and key of its input, as the model computes them from the records it writes', () => {
    const kpis = path.join(dir, 'kpis.ndjson');
    const r = lux(['decode', '--ref', refDir, '--in', input, '--dlq', path.join(dir, 'dlq.txt'), '--kpis', kpis, '--kpi-window-ms', '10000']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const records = lines(r.stdout).map((l) => JSON.parse(l) as EnrichedRecord);
    expect(records.length).toBeGreaterThan(15_000);
    const engine = new Map<string, unknown>();
    for (const l of lines(readFileSync(kpis, 'utf8'))) {
      const k = JSON.parse(l) as { window_start: string; dimension: string; key: string };
      expect(engine.has(kpiId(k))).toBe(false);
      engine.set(kpiId(k), k);
    }
    const model = modelKpis(records, 10_000);
    expect(new Set([...model.values()].map((k) => k.window_start)).size).toBeGreaterThanOrEqual(7); // the last one included
    expect(kpiDifferences(engine, model)).toEqual([]);
  });

  it('leaves the records and the dead letters as they are without --kpis, and uses 60 s windows by default', () => {
    const kpis = path.join(dir, 'default.ndjson');
    const withKpis = lux(['decode', '--ref', refDir, '--in', input, '--dlq', path.join(dir, 'a.txt'), '--kpis', kpis]);
    const without = lux(['decode', '--ref', refDir, '--in', input, '--dlq', path.join(dir, 'b.txt')]);
    expect(without.status).toBe(0);
    expect(withKpis.stdout).toBe(without.stdout);
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe(readFileSync(path.join(dir, 'b.txt'), 'utf8'));
    expect(lines(readFileSync(path.join(dir, 'a.txt'), 'utf8')).length).toBeGreaterThan(0);
    const k = lines(readFileSync(kpis, 'utf8')).map((l) => JSON.parse(l) as { window_start: string; window_end: string });
    expect(k.every((o) => Date.parse(o.window_end) - Date.parse(o.window_start) === 60_000)).toBe(true);
    expect(kpiDifferences(new Map(k.map((o) => [kpiId(o as never), o])), modelKpis(lines(without.stdout).map((l) => JSON.parse(l) as EnrichedRecord), 60_000))).toEqual([]);
  });

  it('refuses bad arguments with one line and a non-zero status', () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['--kpis', path.join(dir, 'x'), '--kpi-window-ms', 'abc'], 2, /^lux: decode: --kpi-window-ms expects a positive integer, got 'abc'\n$/],
      [['--kpis', path.join(dir, 'x'), '--kpi-window-ms', '1.5'], 2, /^lux: decode: --kpi-window-ms expects a positive integer, got '1.5'\n$/],
      [['--kpis', path.join(dir, 'x'), '--kpi-window-ms', '0'], 2, /^lux: decode: --kpi-window-ms expects a positive integer, got '0'\n$/],
      [['--kpis', path.join(dir, 'x'), '--kpi-window-ms', '604800001'], 2, /^lux: decode: --kpi-window-ms expects at most 604800000 \(7 days\), got '604800001'\n$/],
      [['--kpi-window-ms', '1000'], 2, /^lux: decode: --kpi-window-ms needs --kpis FILE\n$/],
      [['--kpis', dir], 1, /^lux: decode: cannot write --kpis .*: EISDIR.*\n$/],
      [['--kpis', path.join(dir, 'no', 'such', 'dir', 'k.ndjson')], 1, /^lux: decode: cannot write --kpis .*ENOENT.*\n$/],
    ];
    for (const [args, status, message] of cases) {
      const r = lux(['decode', '--ref', refDir, '--in', input, ...args]);
      expect(r.status, args.join(' ')).toBe(status);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
