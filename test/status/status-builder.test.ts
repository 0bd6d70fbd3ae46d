// The status builder: rates and history from sampled counters, fixed-size rings, the cached JSON, the last KPI window's tables and worst cells.
import { describe, expect, it } from 'vitest';
import { StatusBuilder, kpiTables } from '../../src/status/status-builder.js';
import { STATUS_VERSION, type StatusDocument } from '../../src/status/status-document.js';
import { DeadLetterSamples } from '../../src/status/dead-letter-samples.js';
import { OpenAlarms } from '../../src/status/open-alarms.js';
import { LastKpiWindow } from '../../src/status/last-kpi-window.js';
import { SeriesRing } from '../../src/status/series-ring.js';
import { ScriptedSource, clearedOf, failureAlarm, kpiMessage } from './scripted-source.js';

/** A source whose counters the test sets. */
function manual() {
  const source = new ScriptedSource();
  const c = { framesIn: 0, recordsOut: 0, deadLetters: 0, transactions: 0, aborts: 0, alarms: 0, deadLettersByReason: new Map([['bad_magic', 0]]), lastTransactionMs: 7 };
  source.counters = () => ({ ...c });
  return { source, c };
}

describe('StatusBuilder', () => {
  it('takes rates over the last samples and a per-sample history, oldest first', () => {
    const { source, c } = manual();
    const b = new StatusBuilder(source, { rateSeconds: 2, historyPoints: 4 });
    const t0 = 1_800_000_000_000;
    for (let i = 0; i <= 6; i++) {
      c.framesIn = i * 1000;
      c.recordsOut = i * 5000;
      c.transactions = i * 10;
      b.sample(t0 + i * 1000);
    }
    const doc = b.document(t0 + 6000);
    expect(doc.version).toBe(STATUS_VERSION);
    expect(doc.throughput.frames_in_per_s).toBe(1000);
    expect(doc.throughput.records_out_per_s).toBe(5000);
    expect(doc.throughput.interval_s).toBe(2);
    expect(doc.transactions).toMatchObject({ committed: 60, committed_per_s: 10, last_ms: 7 });
    // 4 history points kept (5 samples: the oldest anchors the first rate)
    expect(doc.throughput.history.t).toEqual([3, 4, 5, 6].map((i) => (t0 + i * 1000) / 1000));
    expect(doc.throughput.history.records_out_per_s).toEqual([5000, 5000, 5000, 5000]);
    expect(doc.latency.history.p99_ms).toHaveLength(4);
    const decode = doc.topology.nodes.find((n) => n.id === 'decode')!;
    expect(decode.records_per_s).toBe(5000);
  });

  it('gives a rate of 0, not a negative one, when counters go back (a restart)', () => {
    const { source, c } = manual();
    const b = new StatusBuilder(source);
    c.recordsOut = 1000;
    b.sample(1000);
    c.recordsOut = 10;
    b.sample(2000);
    const doc = b.document(2000);
    expect(doc.throughput.records_out_per_s).toBe(0);
    expect(doc.throughput.history.records_out_per_s).toEqual([0]);
  });

  it('builds the JSON at most once per cacheMs', () => {
    const { source, c } = manual();
    const b = new StatusBuilder(source, { cacheMs: 500 });
    b.sample(1000);
    const first = b.json(1000);
    c.framesIn = 99;
    expect(b.json(1400)).toBe(first);
    expect(JSON.parse(b.json(1500)).throughput.totals.frames_in).toBe(99);
  });

  it('holds every section of the documented shape, with nulls rather than missing fields', () => {
    const source = new ScriptedSource();
    source.latency = () => null;
    const b = new StatusBuilder(source);
    b.sample();
    const doc = JSON.parse(b.json()) as StatusDocument;
    expect(Object.keys(doc)).toEqual(['version', 'generated_at', 'service', 'topology', 'throughput', 'lag', 'transactions', 'latency', 'dead_letters', 'refdata', 'alarms', 'kpis']);
    expect(doc.latency.now).toBeNull();
    expect(doc.latency.history.p50_ms).toEqual([]);
    expect(doc.lag.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(doc.refdata.tables[0]).toMatchObject({ name: 'equipment', rows: 200 });
    expect(doc.refdata.tables[0]!.age_seconds).toBeGreaterThanOrEqual(90);
    // KPIs are on by default: the KPI partials, the merge thread and the KPI topic follow the alarm side
    expect(doc.topology.nodes.map((n) => n.id)).toEqual(['raw', 'decode', 'refdata', 'refdata_topic', 'enriched', 'dlq', 'alarm_thread', 'alarms', 'sla', 'kpi_partials', 'kpi_thread', 'kpis']);
    expect(doc.topology.nodes.find((n) => n.id === 'raw')!.kind).toBe('topic');
  });
});

describe('kpiTables', () => {
  it('ranks the worst cells by drop rate and by session success rate, over cells with enough attempts', () => {
    const w = Date.parse('2026-11-26T10:00:00Z');
    const msgs = [
      kpiMessage('region', 'Bretagne', w),
      kpiMessage('vendor', 'Nokia', w),
      kpiMessage('cell', 'a', w, { sessions: 100, sessionOk: 50, drops: 1 }),
      kpiMessage('cell', 'b', w, { sessions: 100, sessionOk: 90, drops: 30 }),
      kpiMessage('cell', 'c', w, { sessions: 5, sessionOk: 0, drops: 0 }), // too few attempts, no successes
      kpiMessage('cell', 'd', w, { sessions: 100, sessionOk: 99, drops: 0 }),
    ];
    const t = kpiTables(msgs, { worstCells: 2, worstCellMinAttempts: 10 });
    expect(t.window_start).toBe('2026-11-26T10:00:00.000Z');
    expect(t.by_region.map((r) => r.key)).toEqual(['Bretagne']);
    expect(t.by_vendor.map((r) => r.key)).toEqual(['Nokia']);
    expect(t.worst_cells.by_drop_rate.map((r) => r.key)).toEqual(['b', 'a']);
    expect(t.worst_cells.by_session_success_rate.map((r) => r.key)).toEqual(['a', 'b']);
  });
});

describe('the daemon-side keepers', () => {
  it('DeadLetterSamples keeps the last N, most recent first', () => {
    const s = new DeadLetterSamples(3);
    for (let i = 0; i < 5; i++) s.add('raw', i % 2, 100 + i, i % 2 === 0 ? 'truncated' : 'bad_magic', 1000 * i);
    expect(s.list().map((d) => d.offset)).toEqual([104, 103, 102]);
    expect(s.list()[0]).toEqual({ at: new Date(4000).toISOString(), topic: 'raw', partition: 0, offset: 104, reason: 'truncated' });
  });

  it('OpenAlarms opens on raised and closes on the cleared of the same alarm_id, counting suppressed ones', () => {
    const o = new OpenAlarms();
    const raised1 = failureAlarm(1);
    o.apply([raised1, failureAlarm(2, { suppressed: true })]);
    expect(o.list().map((a) => a.alarm_id.split(':')[1])).toEqual(['2', '1']);
    o.apply([clearedOf(raised1)]);
    expect(o.list().map((a) => a.alarm_id.split(':')[1])).toEqual(['2']);
    expect([o.raised, o.cleared, o.suppressed]).toEqual([2, 1, 1]);
  });

  it('LastKpiWindow keeps the newest window only, gathered over several commits', () => {
    const k = new LastKpiWindow();
    const w = 1_800_000_000_000;
    const emit = (...ms: ReturnType<typeof kpiMessage>[]) => ms.map((m) => ({ key: `${m.dimension}:${m.key}`, value: Buffer.from(JSON.stringify(m)) }));
    k.apply(emit(kpiMessage('region', '1', w)));
    k.apply(emit(kpiMessage('region', '2', w), kpiMessage('vendor', '3', w + 60_000)));
    k.apply(emit(kpiMessage('region', '4', w + 60_000), kpiMessage('region', '5', w)));
    expect(k.messages().map((m) => m.key)).toEqual(['3', '4']);
  });

  it('LastKpiWindow parses only the cells the merge ranked among the worst, never every cell', () => {
    const k = new LastKpiWindow();
    const w = 1_800_000_000_000;
    const cells = Array.from({ length: 50 }, (_, i) => kpiMessage('cell', String(i), w));
    const emitted = cells.map((m) => ({ key: `cell:${m.key}`, value: Buffer.from(JSON.stringify(m)) }));
    // a value that is not JSON would throw if it were parsed: only the ranked cells may be
    emitted.push({ key: 'cell:999', value: Buffer.from('not json') });
    const rank = (key: string) => ({ windowStartMs: w, key, records: 1, sessionAttempts: 20, sessionSuccesses: 18, callDrops: 2 });
    k.apply(emitted, [rank('7'), rank('42')]);
    expect(k.messages().map((m) => m.key).sort()).toEqual(['42', '7']);
  });

  it('SeriesRing overwrites its oldest values', () => {
    const r = new SeriesRing(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.back(0)).toBe(5);
  });
});
