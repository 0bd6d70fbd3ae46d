// The watermark: min over non-idle partitions, idle partitions released by wall clock, never moving back.
import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from '../../src/alarms/watermark.js';

describe('watermark', () => {
  it('is the smallest largest-event-time over partitions', () => {
    const w = new WatermarkTracker(1_000);
    w.observe(0, 500, 0);
    w.observe(0, 300, 0); // out of order: the max stays
    w.observe(1, 200, 0);
    expect(w.watermark(0)).toBe(200);
  });

  it('ignores a partition idle for the timeout, and all-idle input yields the largest time', () => {
    const w = new WatermarkTracker(1_000);
    w.observe(0, 5_000, 0);
    w.observe(1, 1_000, 0);
    expect(w.watermark(500)).toBe(1_000);
    w.observe(0, 9_000, 1_200); // partition 1 silent since wall 0: idle at 1_200
    expect(w.idlePartitions(1_200)).toEqual([1]);
    expect(w.watermark(1_200)).toBe(9_000);
    expect(w.watermark(5_000)).toBe(9_000); // all idle
    // partition 1 comes back with old events: it holds the watermark again, but the watermark never moves back
    w.observe(1, 2_000, 5_000);
    expect(w.watermark(5_000)).toBe(9_000);
    w.observe(1, 12_000, 5_100);
    w.observe(0, 11_000, 5_100);
    expect(w.watermark(5_100)).toBe(11_000);
  });

  it('holds the watermark at -Infinity for an assigned partition that has sent nothing, until it idles', () => {
    const w = new WatermarkTracker(1_000);
    w.assign([0, 1], 0);
    w.observe(0, 5_000, 10);
    expect(w.watermark(10)).toBe(-Infinity);
    expect(w.watermark(1_000)).toBe(5_000);
  });
});
