// Restoring alarm state: snapshots (or changelog values reassembled into one) merged into a running core, when partitions are assigned.
import type { AlarmCore } from './core.js';
import { ByteReader, parseSnapshot, type ParsedRule } from './state-codec.js';

/**
 * Merges snapshots into a core, fresh or running (the state of newly assigned partitions): their partitions'
 * event-time maxima, and per rule their equipment and deferred events. Rules are matched by name; a
 * rule whose window_ms or slide_ms changed since the snapshot is skipped (its old buckets would mean something else).
 *
 * The frontier: a rule that has none yet takes the oldest restored one, so nothing restored is late; its restored
 * slots remember the frontier of their own snapshot and are not decided again for windows it had already evaluated
 * (no second raise). A rule whose frontier is ahead of the oldest restored one moves it back there (the slots it
 * had are marked decided through the old frontier), so the windows the previous owner had not decided yet are
 * decided here, with the restored counts and the partition's records still to come; and the watermark may move back
 * with the restored event-time marks. Restored open alarms stay open and clear normally. Restore each partition once,
 * after `forget` (or at start): the counts add up, they are never replaced. Returns the rules restored.
 */
export function restoreState(core: AlarmCore, snapshots: Buffer | Uint8Array | readonly (Buffer | Uint8Array)[], nowMs: number = Date.now()): string[] {
  const list = Array.isArray(snapshots) ? (snapshots as readonly (Buffer | Uint8Array)[]) : [snapshots as Buffer | Uint8Array];
  const parsed = list.map(parseSnapshot);
  const stores = core.rules.rules.map((rule) => rule.store);
  const match = (pr: ParsedRule) => {
    const i = core.rules.rules.findIndex((x) => x.spec.name === pr.name);
    const st = i < 0 ? undefined : stores[i];
    return st !== undefined && st.windowMs === pr.windowMs && st.slideMs === pr.slideMs ? st : undefined;
  };
  // the frontier first: rules without one take the oldest restored frontier
  for (const st of stores) {
    let min = NaN;
    for (const p of parsed) {
      for (const pr of p.rules) {
        if (match(pr) === st && pr.lastBucket === pr.lastBucket && !(pr.lastBucket >= min)) min = pr.lastBucket;
      }
    }
    if (st.lastBucket !== st.lastBucket) st.adoptFrontier(min);
    else st.rewindFrontier(min);
  }
  // the restored partitions hold the watermark back from now on, as if they had been here all along
  if (parsed.some((p) => p.watermarks.length > 0)) core.watermark.resetFloor();
  const restored = new Set<string>();
  // failures restored were counted by the instance that wrote them: the metric stays as it is
  const counted = stores.map((st) => st.counted);
  for (const p of parsed) {
    core.admit(p.watermarks.map(([partition]) => partition));
    core.takeUp(p.watermarks.map(([partition]) => partition));
    core.watermark.importState({ partitions: p.watermarks, floor: -Infinity }, nowMs);
    const r = new ByteReader(p.buf);
    for (const pr of p.rules) {
      const st = match(pr);
      if (st === undefined) continue;
      restored.add(pr.name);
      const ring = pr.ring;
      const counts = new Uint32Array(ring);
      const lowSnap = pr.lastBucket - st.k + 1; // NaN before the snapshot's first evaluation: nothing is spent
      r.pos = pr.slotsAt;
      for (let a = 0; a < pr.slots; a++) {
        const eq = r.u32();
        const part = r.u32();
        const head = r.f64();
        const open = r.f64();
        const done = Math.max(r.f64(), pr.lastBucket === pr.lastBucket ? pr.lastBucket : -Infinity);
        for (let j = 0; j < ring; j++) counts[j] = r.u32();
        const existed = st.find(eq) >= 0;
        for (let b = head - ring + 1; b <= head; b++) {
          const n = counts[((b % ring) + ring) % ring];
          // buckets below the snapshot's own frontier window are spent; the rest count (or are late here)
          if (n > 0 && !(b < lowSnap)) st.addBucket(eq, b, n, part);
        }
        const last = st.lastBucket;
        if (last !== last || (open !== open && !(done > last))) continue;
        // the slot must exist to hold an open alarm, or the windows its snapshot had already decided
        let s = st.find(eq);
        if (s < 0) {
          s = st.slotFor(eq, head < last ? head : last);
          if (s < 0) continue;
          st.part[s] = part;
        }
        if (open === open && st.open[s] !== st.open[s]) st.open[s] = open;
        if (!existed && done > st.done[s]) st.done[s] = done;
      }
      r.pos = pr.deferredAt;
      for (let d = 0; d < pr.deferred; d++) {
        const eq = r.u32();
        const part = r.u32();
        const b = r.f64();
        st.addBucket(eq, b, r.u32(), part);
      }
    }
  }
  stores.forEach((st, i) => {
    st.counted = counted[i];
  });
  return [...restored];
}
