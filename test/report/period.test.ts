// The report's period and buckets: --since durations, --from/--to times (UTC unless zoned), mistakes named by option; epoch-aligned chart buckets.
import { describe, expect, it } from 'vitest';
import { bucketSeconds, parseDuration, parsePeriod } from '../../src/report/period.js';
import { Buckets } from '../../src/report/buckets.js';
import { REPORT_DEFAULTS } from '../../src/report/report-defaults.js';
import { nearestRank } from '../../src/report/latency-sample.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');

describe('parsePeriod', () => {
  it('reads --since as the period ending now', () => {
    expect(parsePeriod({ since: '24h' }, NOW)).toEqual({ fromMs: NOW - 86_400_000, toMs: NOW });
    expect(parseDuration('90m', 'since')).toBe(5_400_000);
    expect(parseDuration('7d', 'since')).toBe(7 * 86_400_000);
  });

  it('reads --from/--to as UTC unless a zone is given, --to defaulting to now', () => {
    expect(parsePeriod({ from: '2026-11-26T09:00', to: '2026-11-26T11:30:00+01:00' }, NOW)).toEqual({ fromMs: Date.parse('2026-11-26T09:00:00Z'), toMs: Date.parse('2026-11-26T10:30:00Z') });
    expect(parsePeriod({ from: '2026-11-25' }, NOW)).toEqual({ fromMs: Date.parse('2026-11-25T00:00:00Z'), toMs: NOW });
  });

  it('names the option and the value of each mistake', () => {
    expect(() => parsePeriod({}, NOW)).toThrow('report: missing the period: --since DURATION (e.g. 24h) or --from ISO [--to ISO]');
    expect(() => parsePeriod({ since: '1x' }, NOW)).toThrow("report: --since expects a duration such as 90m, 24h or 7d, got '1x'");
    expect(() => parsePeriod({ since: '0h' }, NOW)).toThrow("report: --since must be longer than 0, got '0h'");
    expect(() => parsePeriod({ from: 'yesterday' }, NOW)).toThrow("report: --from expects an ISO-8601 time such as 2026-11-26T00:00:00Z, got 'yesterday'");
    expect(() => parsePeriod({ to: '2026-11-26' }, NOW)).toThrow('report: --to needs --from');
    expect(() => parsePeriod({ from: '2026-11-27T00:00:00Z' }, NOW)).toThrow('is in the future');
    expect(() => parsePeriod({ since: '1h', to: '2026-11-26' }, NOW)).toThrow('not both');
  });
});

describe('buckets', () => {
  it('picks the smallest step giving at most maxBuckets, aligned on the epoch', () => {
    const choose = (ms: number) => bucketSeconds({ fromMs: NOW - ms, toMs: NOW }, REPORT_DEFAULTS.bucketSeconds, REPORT_DEFAULTS.maxBuckets);
    expect(choose(3_600_000)).toBe(60);
    expect(choose(86_400_000)).toBe(1_800);
    expect(choose(7 * 86_400_000)).toBe(21_600);
    const b = new Buckets(NOW - 3_600_000 + 30_000, NOW, 60);
    expect(b.startMs).toBe(NOW - 3_600_000);
    expect(b.count).toBe(60);
    expect(b.index(NOW - 1)).toBe(59);
    expect(b.index(NOW)).toBe(-1);
  });

  it('takes nearest-rank percentiles', () => {
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(nearestRank([], 0.5)).toBeNull();
  });
});
