// KPI alarm rules: raise below / above, clear at the clear value, min_attempts guarding thin windows, null values, alarm ids, state values, the alarm JSON.
import { describe, expect, it } from 'vitest';
import { kpiAlarmJson, type KpiAlarmDecision } from '../../src/kpis/kpi-json.js';
import { KpiMergeCore, type KpiPrepared } from '../../src/kpis/merge-core.js';
import { CLEAR, decide, RAISE, type KpiRuleSpec } from '../../src/kpis/rules.js';
import { decodeStateValue } from '../../src/kpis/state-codec.js';
import { SynthInstance, type SynthRecord } from './harness.js';

const W = 10_000;
const T0 = Date.UTC(2025, 5, 1);
const end = (w: number): number => T0 + (w + 1) * W;

const ATTACH: KpiRuleSpec = { name: 'attach', kpi: 'attach_success_rate', dimension: 'cell', below: 0.8, clear: 0.9, min_attempts: 3 };
const LATENCY: KpiRuleSpec = { name: 'slow', kpi: 'setup_latency_p95_ms', dimension: 'equipment', above: 500, clear: 300, min_attempts: 2 };
const DROPS: KpiRuleSpec = { name: 'drops', kpi: 'drop_rate', dimension: 'region', above: 0.1, clear: 0.1, min_attempts: 5 };
const SESSIONS: KpiRuleSpec = { name: 'sessions', kpi: 'session_success_rate', dimension: 'vendor', below: 0.5, clear: 0.5, min_attempts: 1 };
const HANDOVER: KpiRuleSpec = { name: 'ho', kpi: 'handover_success_rate', dimension: 'cell', below: 0.5, clear: 0.6, min_attempts: 1 };

describe('decide', () => {
  const reading = (value: number | null, attempts: number) => ({ value, attempts });
  it('raises strictly below (above) the threshold, with enough attempts, when no alarm is open', () => {
    expect(decide(ATTACH, reading(0.79, 3), false)).toBe(RAISE);
    expect(decide(ATTACH, reading(0.8, 3), false)).toBe(0);
    expect(decide(ATTACH, reading(0.1, 2), false)).toBe(0); // thin window
    expect(decide(ATTACH, reading(0.1, 3), true)).toBe(0); // already open
    expect(decide(LATENCY, reading(501, 2), false)).toBe(RAISE);
    expect(decide(LATENCY, reading(500, 2), false)).toBe(0);
  });
  it('clears at or beyond the clear value, with enough attempts, only when open', () => {
    expect(decide(ATTACH, reading(0.9, 3), true)).toBe(CLEAR);
    expect(decide(ATTACH, reading(0.89, 3), true)).toBe(0);
    expect(decide(ATTACH, reading(1, 2), true)).toBe(0);
    expect(decide(ATTACH, reading(1, 3), false)).toBe(0);
    expect(decide(LATENCY, reading(300, 2), true)).toBe(CLEAR);
    expect(decide(LATENCY, reading(301, 2), true)).toBe(0);
  });
  it('never raises nor clears on a null value', () => {
    const anyway: KpiRuleSpec = { ...ATTACH, min_attempts: 0 };
    expect(decide(anyway, reading(null, 0), false)).toBe(0);
    expect(decide(anyway, reading(null, 0), true)).toBe(0);
  });
});

/** Window by window records for one core (1 shard, 1 raw partition, no lateness): returns each prepare's output. */
function runWindows(rules: KpiRuleSpec[], windows: SynthRecord[][], core = new KpiMergeCore({ windowMs: W, latenessMs: 0, rawPartitions: 1, rules })): { outs: KpiPrepared[]; core: KpiMergeCore } {
  if (core.owned().length === 0) core.assign(0, []);
  const inst = new SynthInstance(W, 1, [0]);
  const outs: KpiPrepared[] = [];
  let offset = 0;
  windows.forEach((records, w) => {
    // a record of another equipment at the next window's start moves the watermark past this window
    const tick: SynthRecord = { time: T0 + (w + 1) * W, equipment: 9, cell: 901 };
    for (const m of inst.batch([...records, tick], 0).commit()) core.receive(0, offset++, m.value);
    outs.push(core.prepare(0));
    core.settle(true);
  });
  return { outs, core };
}

const attach = (w: number, n: number, ok: number, cell = 101): SynthRecord[] =>
  Array.from({ length: n }, (_, i) => ({ time: T0 + w * W + i, equipment: Math.floor(cell / 100), cell, type: 1, result: i < ok ? 0 : 1 }));
const session = (w: number, latencies: number[], extra: Partial<SynthRecord> = {}): SynthRecord[] =>
  latencies.map((l, i) => ({ time: T0 + w * W + 100 + i, equipment: 1, cell: 101, type: 3, result: 0, latency: l, ...extra }));

describe('rules on closed windows', () => {
  it('attach rate below: raise, thin and silent windows change nothing, clear at the clear value with the raise\'s id, raise again', () => {
    const { outs } = runWindows(
      [ATTACH],
      [
        [...attach(0, 4, 2), ...attach(0, 2, 0, 102)], // 0.5 on 4 attempts: raise; cell 102 has 2 attempts only
        attach(1, 2, 0), // thin
        [], // no record of cell 101
        attach(3, 5, 4), // 0.8: not yet at clear (0.9)
        session(4, [100]), // records, no attach attempt: null
        attach(5, 10, 10), // 1.0: clear
        attach(6, 3, 0), // raise again
      ],
    );
    const alarms = outs.flatMap((o) => o.alarms);
    expect(alarms.map((a) => [a.state, a.alarmId])).toEqual([
      ['raised', `attach:cell:101:${end(0)}`],
      ['cleared', `attach:cell:101:${end(0)}`],
      ['raised', `attach:cell:101:${end(6)}`],
    ]);
    expect(outs[5].alarms[0]).toEqual({
      alarmId: `attach:cell:101:${end(0)}`,
      rule: 'attach',
      state: 'cleared',
      dimension: 'cell',
      key: '101',
      kpi: 'attach_success_rate',
      value: 1,
      threshold: 0.8,
      attempts: 10,
      windowStartMs: T0 + 5 * W,
      windowEndMs: end(5),
    } satisfies KpiAlarmDecision);
    expect(outs[0].alarms[0]).toMatchObject({ value: 0.5, attempts: 4, windowStartMs: T0, windowEndMs: end(0) });
    // the open alarm is state: written on raise, a tombstone on clear
    const value = outs[0].state.find((s) => s.key === 's0:a:attach:cell:101')!.value!;
    expect(decodeStateValue(value)).toEqual({ kind: 'alarm', shard: 0, rule: 'attach', dimension: 'cell', key: '101', raiseEndMs: end(0) });
    expect(outs[5].state.find((s) => s.key === 's0:a:attach:cell:101')).toEqual({ key: 's0:a:attach:cell:101', value: null });
    expect(outs[1].state.some((s) => s.key.includes(':a:'))).toBe(false);
  });

  it('setup latency p95 above, with the count of latencies as its min_attempts', () => {
    const { outs } = runWindows(
      [LATENCY],
      [session(0, [100, 900]), session(1, [400]), [], session(3, [350, 360]), session(4, [100, 200, 250]), session(5, [200, 600, 700])],
    );
    expect(outs.flatMap((o) => o.alarms).map((a) => [a.state, a.alarmId, a.value, a.attempts])).toEqual([
      ['raised', `slow:equipment:1:${end(0)}`, 900, 2],
      ['cleared', `slow:equipment:1:${end(0)}`, 250, 3],
      ['raised', `slow:equipment:1:${end(5)}`, 700, 3],
    ]);
  });

  it('drop rate over session successes (not attempts), session and handover rates on their own attempts', () => {
    const drop = (w: number, n: number): SynthRecord[] => Array.from({ length: n }, (_, i) => ({ time: T0 + w * W + 500 + i, equipment: 1, type: 7, result: 1 }));
    const failedSessions = (w: number, n: number): SynthRecord[] => session(w, new Array<number>(n).fill(100), { result: 1 });
    const ho = (w: number, n: number, ok: number): SynthRecord[] => Array.from({ length: n }, (_, i) => ({ time: T0 + w * W + 700 + i, equipment: 1, cell: 101, type: 5, result: i < ok ? 0 : 2 }));
    const { outs } = runWindows(
      [DROPS, SESSIONS, HANDOVER],
      [
        // 4 successes, 3 failures, 1 drop: 0.25 over 4 successes < min_attempts 5 (7 attempts would have raised)
        [...session(0, [100, 100, 100, 100]), ...failedSessions(0, 3), ...drop(0, 1), ...ho(0, 4, 1)],
        // 5 successes and 1 drop: 0.2 raises; 5 of 6 sessions succeed
        [...session(1, [100, 100, 100, 100, 100]), ...failedSessions(1, 1), ...drop(1, 1), ...ho(1, 2, 2)],
        // 10 successes, no drop: 0 clears; 10 of 30 sessions: 0.33 raises the vendor's session rule
        [...session(2, new Array<number>(10).fill(100)), ...failedSessions(2, 20)],
      ],
    );
    // per window, in rule order (the order of keys within a window is the store's)
    const byWindow = outs.map((o) => o.alarms.map((a) => [a.rule, a.state, a.key, a.value, a.attempts]).sort((x, y) => String(x[0]).localeCompare(String(y[0]))));
    expect(byWindow).toEqual([
      [['ho', 'raised', '101', 0.25, 4]],
      [
        ['drops', 'raised', 'R1', 0.2, 5],
        ['ho', 'cleared', '101', 1, 2],
      ],
      [
        ['drops', 'cleared', 'R1', 0, 10],
        ['sessions', 'raised', 'Nokia', 10 / 30, 30],
      ],
    ]);
  });

  it('an alarm open when the merger restarts stays open and clears with the same id', () => {
    const first = runWindows([ATTACH], [attach(0, 4, 0)]);
    const values = first.outs.flatMap((o) => o.state).filter((s) => s.value !== null).map((s) => s.value!);
    const core = new KpiMergeCore({ windowMs: W, latenessMs: 0, rawPartitions: 1, rules: [ATTACH] });
    core.assign(0, values);
    expect(core.counters().openAlarms).toBe(1);
    const inst = new SynthInstance(W, 1, [0]);
    for (const m of inst.batch([...attach(3, 5, 5), { time: T0 + 4 * W, equipment: 9 }], 0).commit()) core.receive(0, 1, m.value);
    const p = core.prepare(0);
    expect(p.alarms.map((a) => [a.state, a.alarmId])).toEqual([['cleared', `attach:cell:101:${end(0)}`]]);
    expect(p.state.find((s) => s.key === 's0:a:attach:cell:101')!.value).toBeNull();
  });
});

describe('the KPI alarm JSON', () => {
  const decision: KpiAlarmDecision = {
    alarmId: `slow:equipment:7:${end(0)}`,
    rule: 'slow',
    state: 'raised',
    dimension: 'equipment',
    key: '7',
    kpi: 'setup_latency_p95_ms',
    value: 812,
    threshold: 500,
    attempts: 40,
    windowStartMs: T0,
    windowEndMs: end(0),
  };
  const eq = { name: 'ENB-7', model: 'm', vendor: 'Nokia', site: 's', region: 'R1' };

  it('has the SPEC\'s fields in the SPEC\'s order, the equipment object and suppression for the equipment dimension', () => {
    const a = kpiAlarmJson(decision, eq, true, T0 + 99_000);
    expect(Object.keys(a)).toEqual([
      'alarm_id', 'rule', 'state', 'dimension', 'key', 'kpi', 'value', 'threshold', 'attempts', 'window_start', 'window_end', 'suppressed', 'equipment', 'emitted_at',
    ]);
    expect(a).toMatchObject({ window_start: new Date(T0).toISOString(), window_end: new Date(end(0)).toISOString(), suppressed: true, equipment: eq, emitted_at: new Date(T0 + 99_000).toISOString() });
  });

  it('has no equipment and is never suppressed for the other dimensions', () => {
    const a = kpiAlarmJson({ ...decision, dimension: 'region', key: 'R1' }, eq, true, T0);
    expect(a.equipment).toBeNull();
    expect(a.suppressed).toBe(false);
  });
});
