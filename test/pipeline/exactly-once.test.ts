// The daemon against the real broker: every frame's records exactly once in read_committed output, dead letters exactly for bad frames, through SIGTERM, SIGKILL, a second instance and a stop in the middle of a rebalance.
import { describe, expect, it } from 'vitest';
import { consumeAll, groupOffsets, produceFrames } from '../kafka-helpers.js';
import { daemonTopics, expectedRecords, makeFrames, sleep, startDaemon, writeConfig, type RunningDaemon } from './daemon-harness.js';

function sorted(a: string[]): string[] {
  return [...a].sort();
}

/** Records of one equipment appear in frame order (they come from one input partition and go to one output partition). */
function expectOrderPerEquipment(values: string[]): void {
  const last = new Map<number, number>();
  for (const v of values) {
    const r = JSON.parse(v) as { equipment_id: number; frame_seq: number; record_index: number };
    const pos = r.frame_seq * 1000 + r.record_index;
    const prev = last.get(r.equipment_id) ?? -1;
    expect(pos, `equipment ${r.equipment_id} out of order`).toBeGreaterThan(prev);
    last.set(r.equipment_id, pos);
  }
}

/** Records written more than once, with where each copy sits: what a failure must show to be traced. */
function duplicates(records: Array<{ partition: number; offset: number; value: Buffer | null }>, placed?: ReadonlyArray<{ partition: number; offset: number }>): string {
  const seen = new Map<string, string[]>();
  const frames = new Map<string, number>();
  for (const m of records) {
    const r = JSON.parse(m.value?.toString() ?? '{}') as { equipment_id: number; frame_seq: number; record_index: number };
    const k = `equipment ${r.equipment_id} frame ${r.frame_seq} record ${r.record_index}`;
    seen.set(k, [...(seen.get(k) ?? []), `${m.partition}@${m.offset}`]);
    frames.set(k, r.frame_seq);
  }
  const dups = [...seen.entries()].filter(([, at]) => at.length > 1);
  // where the frames written twice were read from: per raw partition, how many and their offset range
  const byRaw = new Map<number, { n: number; min: number; max: number }>();
  for (const [k] of dups) {
    const at = placed?.[frames.get(k) ?? -1];
    if (at === undefined) continue;
    const e = byRaw.get(at.partition) ?? { n: 0, min: Infinity, max: -Infinity };
    byRaw.set(at.partition, { n: e.n + 1, min: Math.min(e.min, at.offset), max: Math.max(e.max, at.offset) });
  }
  const raw = [...byRaw.entries()].map(([p, e]) => `raw ${p}: ${e.n} records of offsets ${e.min}..${e.max}`).join('; ');
  return `${dups.length} records written more than once (${raw}); the first: ${dups.slice(0, 20).map(([k, at]) => `${k} at ${at.join(', ')}`).join('; ')}`;
}

async function waitExit(d: RunningDaemon, ms: number): Promise<number | string> {
  const t = sleep(ms).then(() => 'timeout' as const);
  return Promise.race([d.exited, t]);
}

/** Four partitions for two instances of one group: 3,000 frames produced, `second` (3,000 more) to produce while they run. */
async function groupOfTwo(prefix: string) {
  const topics = await daemonTopics(prefix, 4);
  const first = makeFrames(3000);
  const second = makeFrames(3000, { seqBase: 3000 });
  await produceFrames(topics.raw, first);
  const group = `${topics.raw}-g`;
  return {
    topics,
    second,
    expected: expectedRecords([...first, ...second]),
    /** an instance of the group, with its own transactional id */
    instance: (name: string) => startDaemon(writeConfig(topics, { group, transactionalId: `${topics.raw}-${name}` })),
  };
}

/** The enriched topic holds exactly `expected` (read_committed), and still does a moment later; `diagnostics` on failure. */
async function expectExactlyOnce(topic: string, expected: string[], diagnostics: string): Promise<void> {
  const out = await consumeAll(topic, { isolation: 'read_committed', expected: expected.length, timeoutMs: 120000 });
  await sleep(1500);
  const all = await consumeAll(topic, { isolation: 'read_committed', timeoutMs: 30000 });
  expect(all.length, diagnostics).toBe(expected.length);
  expect(sorted(out.map((m) => m.value?.toString() ?? ''))).toEqual(sorted(expected));
}

describe('lux run', () => {
  it('writes every record of every good frame once, dead-letters every bad frame, and exits 0 on SIGTERM', async () => {
    const topics = await daemonTopics('eo-basic');
    const frames = makeFrames(3000, { badEvery: 100 });
    const placed = await produceFrames(topics.raw, frames);
    const expected = expectedRecords(frames);
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t1` });
    const d = startDaemon(config);
    try {
      const out = await consumeAll(topics.enriched, { isolation: 'read_committed', expected: expected.length, timeoutMs: 60000 });
      const values = out.map((m) => m.value?.toString() ?? '');
      expect(sorted(values)).toEqual(sorted(expected));
      for (const m of out) expect(m.key?.toString()).toBe(String(JSON.parse(m.value?.toString() ?? '{}').equipment_id));
      // one input partition maps to one output partition per key, so per-equipment order holds within each partition
      for (const p of new Set(out.map((m) => m.partition))) expectOrderPerEquipment(out.filter((m) => m.partition === p).map((m) => m.value?.toString() ?? ''));

      const bad = frames.map((f, i) => ({ f, i })).filter((x) => x.f.bad);
      const dlq = await consumeAll(topics.dlq, { isolation: 'read_committed', expected: bad.length, timeoutMs: 30000 });
      expect(dlq).toHaveLength(bad.length);
      const byOffset = new Map(dlq.map((m) => [`${m.headers.find((h) => h.key === 'lux.source.partition')?.value}:${m.headers.find((h) => h.key === 'lux.source.offset')?.value}`, m]));
      for (const { f, i } of bad) {
        const m = byOffset.get(`${placed[i].partition}:${placed[i].offset}`);
        expect(m, `dead letter for frame ${i}`).toBeDefined();
        expect(m?.value?.equals(f.value)).toBe(true);
        expect(m?.key?.toString()).toBe(f.key);
        expect(m?.headers.find((h) => h.key === 'lux.error')?.value.toString()).toBe('bad_magic');
        expect(m?.headers.find((h) => h.key === 'lux.source.topic')?.value.toString()).toBe(topics.raw);
      }
    } finally {
      d.child.kill('SIGTERM');
    }
    expect(await waitExit(d, 30000), d.output()).toBe(0);
    // nothing more after the drain: exactly the expected count
    const again = await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 30000 });
    expect(again).toHaveLength(expected.length);
  });

  it('after SIGKILL mid-run, a restart resumes from the last commit: nothing lost, nothing twice', async () => {
    const topics = await daemonTopics('eo-kill');
    const first = makeFrames(4000, { badEvery: 250 });
    const second = makeFrames(4000, { badEvery: 250, seqBase: 4000 });
    const placedFirst = await produceFrames(topics.raw, first);
    const expected = expectedRecords([...first, ...second]);
    // debug: each commit's offsets are logged, printed if the test fails
    const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t1`, logLevel: 'debug' });
    const d1 = startDaemon(config);
    // kill while the second half is still arriving and being processed
    const producing = produceFrames(topics.raw, second);
    await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 100, timeoutMs: 60000 });
    d1.child.kill('SIGKILL');
    await d1.exited;
    // read beside the restart (not awaited before it: the timing stays the test's), printed only on a failure
    const committedAfterKill = groupOffsets(`${topics.raw}-g`, topics.raw, 3, 10000);
    const placed = [...placedFirst, ...(await producing)];
    const d2 = startDaemon(config);
    try {
      const out = await consumeAll(topics.enriched, { isolation: 'read_committed', expected: expected.length, timeoutMs: 90000 });
      await sleep(1500);
      const all = await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 30000 });
      expect(all.length, `${duplicates(all, placed)}\ngroup offsets after the kill: ${await committedAfterKill}\n--- first daemon ---\n${d1.output()}\n--- second daemon ---\n${d2.output()}`).toBe(expected.length);
      expect(sorted(out.map((m) => m.value?.toString() ?? ''))).toEqual(sorted(expected));
      const bad = [...first, ...second].filter((f) => f.bad).length;
      const dlq = await consumeAll(topics.dlq, { isolation: 'read_committed', timeoutMs: 30000 });
      expect(dlq).toHaveLength(bad);
      // at debug, each commit says where its time went: every side's part and the two transactional calls
      const commits = d2
        .output()
        .split('\n')
        .filter((l) => l.includes('"msg":"transaction committed"'))
        .map((l) => JSON.parse(l) as { ms: number; sidesMs: Record<string, number>; sendOffsetsMs: number; commitMs: number });
      expect(commits.length).toBeGreaterThan(0);
      for (const c of commits) {
        expect(Object.keys(c.sidesMs).length).toBeGreaterThan(0);
        for (const ms of [...Object.values(c.sidesMs), c.sendOffsetsMs, c.commitMs, c.ms]) expect(ms).toBeGreaterThanOrEqual(0);
      }
    } finally {
      d2.child.kill('SIGTERM');
      await waitExit(d2, 30000);
    }
  });

  it('an instance stopped in the middle of a rebalance exits 0 at once, and the other takes over: nothing lost, nothing twice', async () => {
    // The CI hang: a stop while partitions were being revoked left librdkafka's consumer close waiting for good.
    const { topics, second, expected, instance } = await groupOfTwo('eo-stop-rebalance');
    const a = instance('a');
    let b: RunningDaemon | undefined;
    try {
      await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 200, timeoutMs: 60000 });
      b = instance('b');
      const producing = produceFrames(topics.raw, second);
      for (const end = Date.now() + 60000; !a.output().includes('partitions revoked') && Date.now() < end; ) await sleep(20);
      expect(a.output(), 'the first instance never had partitions revoked').toContain('partitions revoked');
      a.child.kill('SIGTERM');
      const code = await waitExit(a, 90000);
      expect(code, `first instance:\n${a.output()}`).toBe(0);
      expect(a.output()).not.toContain('stop did not finish in time');
      expect(a.output()).not.toContain("close never returned");
      await producing;
      await expectExactlyOnce(topics.enriched, expected, b.output());
    } finally {
      if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
      if (b !== undefined) {
        b.child.kill('SIGTERM');
        expect(await waitExit(b, 60000), `second instance:\n${b.output()}`).toBe(0);
      }
    }
  });

  it('two instances in one group share the partitions; killing one loses and repeats nothing', async () => {
    const { topics, second, expected, instance } = await groupOfTwo('eo-group');
    const a = instance('a');
    const b = instance('b');
    try {
      const producing = produceFrames(topics.raw, second);
      await consumeAll(topics.enriched, { isolation: 'read_committed', expected: 200, timeoutMs: 60000 });
      a.child.kill('SIGKILL');
      await a.exited;
      await producing;
      await expectExactlyOnce(topics.enriched, expected, b.output());
    } finally {
      b.child.kill('SIGTERM');
      await waitExit(b, 30000);
    }
  });
});
