// The KPI thread through KpiEngine: messages in one Kafka message at a time, transactions prepared, committed and discarded, state carried to a new thread, due raised, failures surfaced.
import { describe, expect, it } from 'vitest';
import { kpiAlarmJson } from '../../src/kpis/kpi-json.js';
import { KpiEngine } from '../../src/kpis/kpi-thread.js';
import type { KpiRuleSpec } from '../../src/kpis/rules.js';
import { SynthInstance } from './harness.js';

const W = 10_000;
const T0 = Date.UTC(2025, 2, 1);
const RULE: KpiRuleSpec = { name: 'attach', kpi: 'attach_success_rate', dimension: 'equipment', below: 0.5, clear: 0.5, min_attempts: 2 };


const until = async (cond: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('KPI thread', () => {
  it('merges the messages of its shards with each transaction, keeps what committed, rebuilds what a discard dropped', async () => {
    const engine = new KpiEngine({ windowMs: W, latenessMs: 0, rawPartitions: 1, shards: 1, rules: [RULE], countersMs: 20 });
    await engine.start();
    await engine.assign(0, []);
    const inst = new SynthInstance(W, 1, [0]);
    const failing = [0, 1, 2].map((i) => ({ time: T0 + i, equipment: 1, type: 1, result: 1 }));
    const m0 = inst.batch([...failing, { time: T0 + W, equipment: 2 }], 0).commit()[0].value;
    const kept = Buffer.from(m0);
    engine.receive(0, 0, m0);
    m0.fill(0); // the engine has its own copy
    await until(() => engine.due);
    const p = await engine.prepare(T0 + 60_000);
    expect(p.kpis.map((k) => k.key).sort()).toEqual(['cell:101', 'equipment:1', 'region:R1', 'vendor:Nokia']);
    expect(JSON.parse(p.kpis.find((k) => k.key === 'equipment:1')!.value.toString())).toMatchObject({ records: 3, failures: 3, attach: { attempts: 3, successes: 0, success_rate: 0 } });
    expect(p.alarms).toHaveLength(1);
    const alarm = kpiAlarmJson(p.alarms[0], { name: 'e1', model: null, vendor: 'Nokia', site: null, region: 'R1' }, false, T0 + 60_000);
    expect(alarm).toMatchObject({ alarm_id: `attach:equipment:1:${T0 + W}`, state: 'raised', value: 0, attempts: 3, equipment: { name: 'e1' } });
    expect(p.offsets).toEqual([{ shard: 0, offset: 0 }]); // window 1 (equipment 2) still needs message 0
    expect(p.state.map((s) => s.key).sort()).toEqual(['s0', 's0:a:attach:equipment:1']);
    expect(engine.due).toBe(false);
    await engine.settle(true);
    expect(engine.counters()).toMatchObject({ kpisEmitted: 4, windowsClosed: 1, openAlarms: 1, shards: 1 });

    // a transaction aborted: back to the commit; the messages read again from offset 0 give the same result
    const m1 = inst.batch([{ time: T0 + 2 * W, equipment: 2 }], 0).commit()[0].value;
    engine.receive(0, 1, m1);
    const aborted = await engine.prepare();
    expect(aborted.kpis.map((k) => k.key).sort()).toEqual(['cell:201', 'equipment:2', 'region:R2', 'vendor:Nokia']);
    await engine.discard();
    engine.receive(0, 0, kept);
    engine.receive(0, 1, m1);
    const replayed = await engine.prepare();
    await engine.settle(true);
    const text = (q: typeof p) => q.kpis.map((k) => `${k.key} ${k.value.toString()}`).sort();
    expect(text(replayed)).toEqual(text(aborted));
    expect(replayed.alarms).toEqual([]); // the alarm raised before the abort is still open, not raised again
    expect(engine.counters()).toMatchObject({ kpisEmitted: 8, windowsClosed: 2, openAlarms: 1 });
    await engine.stop();
  }, 60_000);

  it('carries its committed state to a new thread, which reads on from the committed offsets', async () => {
    const inst = new SynthInstance(W, 1, [0]);
    const msgs = [
      inst.batch([0, 1, 2].map((i) => ({ time: T0 + i, equipment: 1, type: 1, result: 1 })), 0).commit()[0].value,
      inst.batch([{ time: T0 + W + 1, equipment: 1 }], 0).commit()[0].value,
      inst.batch([0, 1].map((i) => ({ time: T0 + 2 * W + i, equipment: 1, type: 1, result: 0 })), 0).commit()[0].value,
      inst.batch([{ time: T0 + 3 * W, equipment: 2 }], 0).commit()[0].value,
    ];
    const a = new KpiEngine({ windowMs: W, latenessMs: 0, rawPartitions: 1, rules: [RULE] });
    await a.start();
    await a.assign(0, []);
    a.receive(0, 0, msgs[0]);
    a.receive(0, 1, msgs[1]);
    const p = await a.prepare();
    await a.settle(true);
    expect(p.alarms.map((x) => x.state)).toEqual(['raised']);
    await a.stop();
    // a new thread from the committed state and offsets
    const b = new KpiEngine({ windowMs: W, latenessMs: 0, rawPartitions: 1, rules: [RULE] });
    await b.start();
    await b.assign(0, p.state.filter((s) => s.value !== null).map((s) => s.value!));
    expect(b.counters()).toMatchObject({ openAlarms: 1, shards: 1 });
    const from = p.offsets[0].offset;
    expect(from).toBe(1);
    for (let o = from; o < msgs.length; o++) b.receive(0, o, msgs[o]);
    const q = await b.prepare();
    await b.settle(true);
    const windows = q.kpis.filter((k) => k.key === 'equipment:1').map((k) => JSON.parse(k.value.toString()).window_start);
    expect(windows).toEqual([new Date(T0 + W).toISOString(), new Date(T0 + 2 * W).toISOString()]); // window 0 not again
    expect(q.alarms.map((x) => [x.state, x.alarmId])).toEqual([['cleared', `attach:equipment:1:${T0 + W}`]]);
    expect(b.counters()).toMatchObject({ openAlarms: 0, kpisEmitted: q.kpis.length });
    await b.stop();
  }, 60_000);

  it('fails the next prepare with a message that does not read, naming its shard and offset', async () => {
    const engine = new KpiEngine({ windowMs: W, rawPartitions: 1 });
    await engine.start();
    await engine.assign(0, []);
    engine.receive(0, 17, Buffer.from('not partials'));
    await expect(engine.prepare()).rejects.toMatchObject({ name: 'KpiFormatError', reason: 'bad_magic', message: expect.stringMatching(/shard 0, offset 17/) });
    await engine.stop();
  }, 60_000);

  it('a dead KPI thread fails every later request fatally', async () => {
    const engine = new KpiEngine({ windowMs: W, rawPartitions: 1 });
    await engine.start();
    await (engine as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread.worker.terminate();
    await expect(engine.prepare()).rejects.toMatchObject({ isFatal: true, message: expect.stringMatching(/KPI thread exited/) });
    await expect(engine.discard()).rejects.toMatchObject({ isFatal: true });
    await expect(engine.assign(1, [])).rejects.toMatchObject({ isFatal: true });
    expect(() => engine.receive(0, 0, Buffer.alloc(1))).toThrow(/KPI thread exited/);
    await engine.stop();
  }, 30_000);
});
