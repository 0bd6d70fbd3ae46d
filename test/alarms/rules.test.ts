// Alarm rule evaluation: raise/clear episodes, thresholds, suppression, lateness and config validation.
import { describe, expect, it } from 'vitest';
import { AlarmConfigError, parseRule, parseRules, RuleSet, type AlarmEvent, type RuleSpec } from '../../src/alarms/rules.js';
import { alarmJson } from '../../src/alarms/alarm-json.js';

const RULE: RuleSpec = { name: 'rlf', window_ms: 60_000, slide_ms: 10_000, threshold: 5, clear_below: 2, lateness_ms: 5_000 };
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

function run(events: Array<[eq: number, t: number]>, watermark: number, set = new RuleSet([RULE])): AlarmEvent[] {
  for (const [eq, t] of events) set.addFailure(eq, t);
  return set.advance(watermark);
}

describe('rules', () => {
  it('raises exactly once for a burst at the threshold, then clears once with the same alarm_id', () => {
    const set = new RuleSet([RULE]);
    const burst: Array<[number, number]> = [];
    for (let i = 0; i < 5; i++) burst.push([42, T0 + 1_000 + i * 100]);
    const out = run(burst, T0 + 200_000, set);
    expect(out.map((e) => e.state)).toEqual(['raised', 'cleared']);
    const [raised, cleared] = out;
    // the first window holding the burst ends at T0+10s
    expect(raised.windowEndMs).toBe(T0 + 10_000);
    expect(raised.windowStartMs).toBe(T0 - 50_000);
    expect(raised.alarmId).toBe(`rlf:42:${T0 + 10_000}`);
    expect(raised.count).toBe(5);
    expect(cleared.alarmId).toBe(raised.alarmId);
    // the burst leaves the window ending at T0+70s (covers T0+10s..T0+70s): count 0 < clear_below
    expect(cleared.windowEndMs).toBe(T0 + 70_000);
    expect(cleared.count).toBe(0);
    expect(set.openAlarms()).toBe(0);
    expect(set.rules[0].store.active).toBe(0);
    // nothing more, however far the watermark goes
    expect(set.advance(T0 + 10_000_000)).toEqual([]);
  });

  it('raises nothing below the threshold', () => {
    const out = run([[1, T0 + 1], [1, T0 + 2], [1, T0 + 3], [1, T0 + 4]], T0 + 500_000);
    expect(out).toEqual([]);
  });

  it('keeps one alarm open across windows while the count stays at or above clear_below', () => {
    const set = new RuleSet([RULE]);
    const ev: Array<[number, number]> = [];
    for (let i = 0; i < 5; i++) ev.push([7, T0 + i]);
    // two failures every 10 s for the next 2 minutes: count stays >= clear_below
    for (let s = 1; s < 12; s++) ev.push([7, T0 + s * 10_000], [7, T0 + s * 10_000 + 1]);
    const out = run(ev, T0 + 400_000, set);
    expect(out.map((e) => e.state)).toEqual(['raised', 'cleared']);
    expect(out[1].windowEndMs).toBe(T0 + 120_000 + 60_000 - 10_000 + 10_000);
  });

  it('does not evaluate a window before the watermark minus lateness has passed its end', () => {
    const set = new RuleSet([RULE]);
    for (let i = 0; i < 5; i++) set.addFailure(9, T0 + i);
    expect(set.advance(T0 + 10_000 + RULE.lateness_ms - 1)).toEqual([]);
    expect(set.advance(T0 + 10_000 + RULE.lateness_ms).map((e) => e.state)).toEqual(['raised']);
  });

  it('counts out-of-order events within lateness into still-open windows, drops those of evaluated windows', () => {
    const set = new RuleSet([RULE]);
    set.addFailure(3, T0 + 25_000);
    set.advance(T0 + 25_000); // watermark - lateness = T0+20s: windows ending <= T0+20s evaluated
    // within lateness: bucket T0+20s..30s is in windows not evaluated yet
    for (let i = 0; i < 3; i++) set.addFailure(3, T0 + 21_000 + i);
    // older than every open window? T0+15s belongs to windows ending T0+20s..T0+70s: the later ones are open
    set.addFailure(3, T0 + 15_000);
    const out = set.advance(T0 + 35_000);
    expect(out.map((e) => [e.state, e.count])).toEqual([['raised', 5]]);
    expect(set.rules[0].store.lateCounted).toBe(1);
    // an event whose every window was evaluated is dropped and counted
    set.addFailure(3, T0 - 60_000);
    expect(set.rules[0].store.lateDropped).toBe(1);
  });

  it('marks alarms of an equipment under maintenance at the window end as suppressed', () => {
    const inMaintenance = (eq: number, t: number) => eq === 5 && t >= T0 && t < T0 + 30_000;
    const set = new RuleSet([RULE], inMaintenance);
    for (let i = 0; i < 5; i++) {
      set.addFailure(5, T0 + i);
      set.addFailure(6, T0 + i);
    }
    const out = set.advance(T0 + 300_000);
    const byEq = (eq: number) => out.filter((e) => e.equipmentId === eq).map((e) => [e.state, e.suppressed]);
    expect(byEq(5)).toEqual([['raised', true], ['cleared', false]]);
    expect(byEq(6)).toEqual([['raised', false], ['cleared', false]]);
  });

  it('evaluates each rule with its own window, threshold and lateness', () => {
    const fast: RuleSpec = { name: 'fast', window_ms: 1_000, slide_ms: 1_000, threshold: 2, clear_below: 1, lateness_ms: 0 };
    const set = new RuleSet([RULE, fast]);
    for (let i = 0; i < 5; i++) set.addFailure(11, T0 + i);
    const out = set.advance(T0 + 100_000);
    expect(out.map((e) => `${e.rule}:${e.state}:${e.windowEndMs - T0}`)).toEqual([
      'rlf:raised:10000',
      'rlf:cleared:70000',
      'fast:raised:1000',
      'fast:cleared:2000',
    ]);
  });

  it('defers events far ahead of the watermark and counts them once their windows come up', () => {
    const set = new RuleSet([RULE]);
    set.addFailure(1, T0);
    set.advance(T0); // frontier fixed near T0
    for (let i = 0; i < 5; i++) set.addFailure(2, T0 + 3_600_000 + i); // an hour ahead
    expect(set.rules[0].store.deferredCount).toBe(5);
    const out = set.advance(T0 + 4_000_000);
    expect(out.map((e) => [e.equipmentId, e.state, e.windowEndMs - T0])).toEqual([
      [2, 'raised', 3_610_000],
      [2, 'cleared', 3_670_000],
    ]);
  });

  it('builds the SPEC alarm JSON', () => {
    const set = new RuleSet([RULE]);
    for (let i = 0; i < 5; i++) set.addFailure(42, T0 + i);
    const [ev] = set.advance(T0 + 20_000);
    const eq = { name: 'eNB-42', model: 'X1', vendor: 'Acme', site: null, region: 'north' };
    const json = alarmJson(ev, (id) => (id === 42 ? eq : null), T0 + 21_000);
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      alarm_id: `rlf:42:${T0 + 10_000}`,
      rule: 'rlf',
      state: 'raised',
      equipment_id: 42,
      count: 5,
      threshold: 5,
      window_start: '2023-12-31T23:59:10.000Z',
      window_end: '2024-01-01T00:00:10.000Z',
      suppressed: false,
      equipment: eq,
      emitted_at: '2024-01-01T00:00:21.000Z',
    });
    expect(Object.keys(json)).toEqual([
      'alarm_id', 'rule', 'state', 'equipment_id', 'count', 'threshold', 'window_start', 'window_end', 'suppressed', 'equipment', 'emitted_at',
    ]);
    expect(alarmJson(ev).equipment).toBeNull();
  });

  it('rejects bad rules with the key that is wrong', () => {
    expect(() => parseRule({ ...RULE, window_ms: 15_000 }, 2)).toThrow(/alarms\.rules\[2\]\.window_ms/);
    expect(() => parseRule({ ...RULE, clear_below: 6 }, 0)).toThrow(AlarmConfigError);
    expect(() => parseRule({ ...RULE, threshold: 0 }, 0)).toThrow(/threshold/);
    expect(() => parseRules([RULE, RULE])).toThrow(/duplicate/);
    expect(parseRules([RULE])).toEqual([RULE]);
  });
});
