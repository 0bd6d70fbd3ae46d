// The alarm state codec alone: a snapshot and the changelog values of a partition say the same thing, and a damaged value is refused with what is wrong.
import { describe, expect, it } from 'vitest';
import { AlarmCore } from '../../src/alarms/core.js';
import { createChannel, createSignal, FeedWriter } from '../../src/alarms/feed.js';
import type { AlarmEvent, RuleSpec } from '../../src/alarms/rules.js';
import {
  AlarmStateError,
  assembleSnapshot,
  encodeEquipmentValue,
  encodePartitionValue,
  indexDeferred,
  parseSnapshot,
  snapshotPartitions,
  snapshotState,
} from '../../src/alarms/state-codec.js';

const RULE: RuleSpec = { name: 'r', window_ms: 20_000, slide_ms: 5_000, threshold: 3, clear_below: 1, lateness_ms: 0 };
const T0 = Date.UTC(2024, 0, 1);

/** A core holding failures of equipment 1..6 over partitions 0 and 1, windows evaluated through T0 + 30 s. */
function populated(): AlarmCore {
  const core = new AlarmCore([RULE], 60_000);
  const ch = createChannel(0, createSignal(), 1 << 12);
  core.attach(ch);
  core.assign([0, 1], 0);
  const w = new FeedWriter(ch);
  for (let i = 0; i < 60; i++) {
    const eq = 1 + (i % 6);
    expect(w.add(eq, T0 + i * 500, eq % 2, true, false)).toBe(true);
  }
  // one event far ahead: deferred
  expect(w.add(3, T0 + 600_000, 1, true, false)).toBe(true);
  expect(w.flush()).toBe(true);
  core.drain(0);
  core.advance(0, [] as AlarmEvent[]);
  return core;
}

describe('alarm state codec', () => {
  it('a snapshot names its partitions, rule, frontier, slots and deferred events', () => {
    const core = populated();
    const p = parseSnapshot(snapshotState(core));
    expect(p.watermarks.map(([partition]) => partition).sort()).toEqual([0, 1]);
    expect(p.rules).toHaveLength(1);
    expect(p.rules[0]).toMatchObject({ name: 'r', windowMs: 20_000, slideMs: 5_000, slots: 6, deferred: 1 });
  });

  it("a partition's changelog values reassemble into the bytes of its snapshot", () => {
    const core = populated();
    const deferred = indexDeferred(core);
    for (const { partition, state } of snapshotPartitions(core, [0, 1])) {
      const equipment = [1, 2, 3, 4, 5, 6]
        .filter((eq) => eq % 2 === partition)
        .map((eq) => encodeEquipmentValue(core, partition, eq, deferred))
        .filter((v): v is Buffer => v !== null);
      const assembled = assembleSnapshot(partition, encodePartitionValue(core, partition), equipment);
      expect(assembled.equals(state), `partition ${partition}`).toBe(true);
    }
  });

  it('refuses a value that is not one, or is cut short, with a typed error saying so', () => {
    expect(() => parseSnapshot(Buffer.from('nonsense, not a snapshot'))).toThrow(AlarmStateError);
    expect(() => parseSnapshot(Buffer.from('nonsense, not a snapshot'))).toThrow(/bad magic/);
    const whole = snapshotState(populated());
    expect(() => parseSnapshot(whole.subarray(0, whole.length - 7))).toThrow(/truncated/);
    expect(() => assembleSnapshot(0, Buffer.from('garbage!'), [])).toThrow(AlarmStateError);
  });
});
