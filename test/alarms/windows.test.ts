// The window store alone: failures counted into per-slide buckets, windows summed over k of them, late and early events, the journal's rollback, forgetting partitions.
import { describe, expect, it } from 'vitest';
import { ADD_COUNTED, ADD_DEFERRED, ADD_LATE, WindowConfigError, WindowStore } from '../../src/alarms/windows.js';

const SLIDE = 10_000;
/** 60 s windows sliding by 10 s: k = 6 buckets, and 2 buckets of room ahead of the frontier. */
function store(): WindowStore {
  return new WindowStore({ windowMs: 60_000, slideMs: SLIDE, aheadSlides: 2, initialEquipment: 16 });
}
const T0 = Date.UTC(2024, 0, 1); // a multiple of the slide

describe('WindowStore', () => {
  it('names the setting of a bad geometry', () => {
    expect(() => new WindowStore({ windowMs: 65_000, slideMs: SLIDE, aheadSlides: 1 }, 'alarms.rules[3]')).toThrow(WindowConfigError);
    expect(() => new WindowStore({ windowMs: 65_000, slideMs: SLIDE, aheadSlides: 1 }, 'alarms.rules[3]')).toThrow(/alarms\.rules\[3\]\.window_ms/);
    expect(() => new WindowStore({ windowMs: 60_000, slideMs: 0, aheadSlides: 1 })).toThrow(/slide_ms/);
  });

  it('defers events until the first watermark fixes the frontier, then counts them into the windows that cover them', () => {
    const s = store();
    expect(s.add(7, T0 + 1_000)).toBe(ADD_DEFERRED);
    expect(s.add(7, T0 + 12_000)).toBe(ADD_DEFERRED);
    expect(s.deferredCount).toBe(2);
    s.initFrontier(T0 + 30_000);
    expect(s.deferredCount).toBe(0);
    const slot = s.find(7);
    expect(slot).toBeGreaterThanOrEqual(0);
    const b0 = s.bucketOf(T0);
    // the window ending at bucket e covers e-6 … e-1
    expect(s.windowCount(slot, b0 + 1)).toBe(1);
    expect(s.windowCount(slot, b0 + 2)).toBe(2);
    expect(s.windowCount(slot, b0 + 6)).toBe(2);
    expect(s.windowCount(slot, b0 + 7)).toBe(1);
    expect(s.windowCount(slot, b0 + 8)).toBe(0);
    expect(s.counted).toBe(2);
  });

  it('drops (and counts) events only evaluated windows hold, and parks events too far ahead until the frontier moves', () => {
    const s = store();
    const b0 = s.bucketOf(T0);
    s.initFrontier(T0);
    // lowB = b0 - 5: an event in bucket b0 - 6 belongs only to windows already evaluated
    expect(s.add(1, T0 - 6 * SLIDE)).toBe(ADD_LATE);
    expect(s.lateDropped).toBe(1);
    // b0 - 1 is older than the frontier but a pending window still covers it: counted, and counted as late
    expect(s.add(1, T0 - SLIDE)).toBe(ADD_COUNTED);
    expect(s.lateCounted).toBe(1);
    // the ring holds lowB … lowB + 7: bucket b0 + 3 is beyond it
    expect(s.add(2, T0 + 3 * SLIDE)).toBe(ADD_DEFERRED);
    expect(s.find(2)).toBe(-1);
    s.completeThrough(b0 + 2);
    expect(s.deferredCount).toBe(0);
    expect(s.windowCount(s.find(2), b0 + 4)).toBe(1);
  });

  it('rolls a transaction back exactly: counts, new slots, the frontier, the deferred list and the metrics', () => {
    const s = store();
    s.initFrontier(T0);
    const b0 = s.bucketOf(T0);
    s.add(1, T0 + 1);
    s.add(2, T0 + 2);
    // what a slot in use holds (a freed slot's counts are zeroed when it is taken again)
    const held = (eq: number) => {
      const slot = s.find(eq);
      return slot < 0 ? null : Array.from(s.counts.subarray(slot * s.ring, (slot + 1) * s.ring)).concat(s.head[slot]);
    };
    const before = { held: [1, 2, 3, 4].map(held), active: s.active, frontier: s.lastBucket, metrics: s.metrics(), slot1: s.find(1) };
    s.begin();
    s.add(1, T0 + 3); // changes a slot
    s.add(3, T0 + 4); // takes a new slot
    s.add(4, T0 + 10 * SLIDE); // deferred
    s.completeThrough(b0 + 1); // moves the frontier
    expect(s.journalCount).toBeGreaterThanOrEqual(2);
    const journaled = new Set(Array.from({ length: s.journalCount }, (_, i) => s.journalKey(i)));
    expect(journaled).toEqual(new Set([1, 3]));
    s.rollback();
    expect(s.find(3)).toBe(-1);
    expect(s.lastBucket).toBe(before.frontier);
    expect(s.deferredCount).toBe(0);
    expect(s.metrics()).toEqual(before.metrics);
    expect(s.find(1)).toBe(before.slot1);
    expect([1, 2, 3, 4].map(held)).toEqual(before.held);
    expect(s.active).toBe(before.active);
    // committed changes stay
    s.begin();
    s.add(1, T0 + 5);
    s.end();
    expect(s.windowCount(s.find(1), b0 + 1)).toBe(2);
  });

  it('forgets the slots and deferred events of the partitions given, and keeps the others', () => {
    const s = store();
    s.initFrontier(T0);
    s.add(1, T0, 0);
    s.add(2, T0, 1);
    s.add(3, T0 + 20 * SLIDE, 1); // deferred, partition 1
    s.add(4, T0 + 20 * SLIDE, 2); // deferred, partition 2
    const partitions = new Uint8Array(3);
    partitions[1] = 1;
    expect(s.forget(partitions)).toBe(1);
    expect(s.find(1)).toBeGreaterThanOrEqual(0);
    expect(s.find(2)).toBe(-1);
    expect(s.deferredCount).toBe(1);
    expect(s.exportDeferred().eq[0]).toBe(4);
  });
});
