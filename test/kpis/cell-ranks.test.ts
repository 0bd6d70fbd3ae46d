// The merge ranks each closed window's worst cells (by drop rate, by session success rate, among cells with enough sessions): what the status page shows without parsing every cell's KPI object.
import { describe, expect, it } from 'vitest';
import { CELL_RANKS, KpiMergeCore } from '../../src/kpis/merge-core.js';
import { SynthInstance, type SynthRecord } from './harness.js';

const W = 10_000;
const T0 = Date.UTC(2025, 5, 1);
const SESSION_START = 3;
const CALL_DROP = 7;

/** `n` session starts of a cell (`ok` of them successful) and `drops` call drops, in window 0. */
function cell(cellId: number, n: number, ok: number, drops: number): SynthRecord[] {
  const out: SynthRecord[] = [];
  for (let i = 0; i < n; i++) out.push({ time: T0 + i, equipment: 1, cell: cellId, type: SESSION_START, result: i < ok ? 0 : 1 });
  for (let i = 0; i < drops; i++) out.push({ time: T0 + n + i, equipment: 1, cell: cellId, type: CALL_DROP });
  return out;
}

describe('worst cells of a window', () => {
  it('keeps the top cells by drop rate and by lowest session success rate, leaving out thin cells', () => {
    const core = new KpiMergeCore({ windowMs: W, latenessMs: 0, rawPartitions: 1 });
    core.assign(0, []);
    const records: SynthRecord[] = [];
    // 30 ordinary cells: 40 sessions, 39 successful, 1 drop
    for (let c = 0; c < 30; c++) records.push(...cell(1000 + c, 40, 39, 1));
    records.push(...cell(2001, 40, 40, 12)); // the worst by drops: 12 / 40
    records.push(...cell(2002, 40, 10, 0)); // the worst by session success: 10 / 40
    records.push(...cell(2003, 3, 0, 3)); // thin: below the minimum, ranks nowhere
    // a record at the next window's start moves the watermark past window 0
    records.push({ time: T0 + W, equipment: 9, cell: 901 });
    const inst = new SynthInstance(W, 1, [0]);
    let offset = 0;
    for (const m of inst.batch(records, 0).commit()) core.receive(0, offset++, m.value);
    const out = core.prepare(0);
    core.settle(true);
    const keys = out.worstCells.map((c) => c.key);
    expect(keys).toContain('2001');
    expect(keys).toContain('2002');
    expect(keys).not.toContain('2003');
    expect(keys.length).toBeLessThanOrEqual(2 * CELL_RANKS.top);
    expect(new Set(keys).size).toBe(keys.length);
    expect(out.worstCells.find((c) => c.key === '2001')).toMatchObject({ windowStartMs: T0, sessionSuccesses: 40, callDrops: 12 });
    // every cell's KPI object is still written; the ranking only adds a short list
    expect(out.kpis.filter((k) => k.key.startsWith('cell:')).length).toBe(33);
  });
});
