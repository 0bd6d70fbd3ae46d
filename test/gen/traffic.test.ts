// The traffic model: reproducible from a seed, realistic records that the real decoder accepts, broken frames that it dead-letters, and alarm bursts.
import { describe, expect, it } from 'vitest';
import { TrafficModel, type GeneratedFrame, type TrafficOptions } from '../../src/gen/traffic.js';
import { M_COUNT, M_FIRST, M_REASON, MSG_WORDS, R_CAUSE_SETUP, R_CELL, R_CODES, R_EQUIPMENT, R_FRAME_SEQ, R_RSRP, REC_WORDS, F_RSRP, F_SETUP_LATENCY, F_TARGET_CELL, F_IMSI, R_IMSI_DIGITS, memoryPages, slotGeometry } from '../../src/decode/layout.js';
import { REASON_NAMES } from '../../src/decode/reasons.js';
import { createDecoderMemory, fillSlot, Lxe1Decoder } from '../../src/decode/wasm-decoder.js';

// ── The real LXE1 WASM decoder, read back just enough to check each frame's reason and records.
const MAX_MESSAGES = 2048;
const FRAME_BYTES = 1 << 20;
const slot = slotGeometry(0, MAX_MESSAGES, FRAME_BYTES);
const decoder = new Lxe1Decoder(createDecoderMemory(memoryPages(1, MAX_MESSAGES, FRAME_BYTES)));
decoder.initCrc();

interface DecodedSummary {
  equipmentId: number;
  frameSeq: number;
  type: number;
  result: number;
  causeCode: number;
  rsrpDbm: number | undefined;
  setupLatencyMs: number | undefined;
  cellId: number;
  hasTargetCell: boolean;
  imsiDigits: number | null;
}

interface FrameVerdict {
  reason: string;
  records: DecodedSummary[];
}

/** Decodes every frame (in as many batches as needed) and returns each one's reason ('ok' when decoded) and records. */
function decodeAll(frames: readonly Uint8Array[]): FrameVerdict[] {
  const out: FrameVerdict[] = [];
  const { u32, i32 } = decoder;
  for (let start = 0; start < frames.length; ) {
    const n = fillSlot(decoder, slot, frames, start);
    if (n === 0) throw new Error(`frame ${start} does not fit the test slot`);
    decoder.decode(slot, n);
    for (let m = 0; m < n; m++) {
      const row = (slot.msgPtr >>> 2) + m * MSG_WORDS;
      const first = u32[row + M_FIRST]!;
      const count = u32[row + M_COUNT]!;
      const records: DecodedSummary[] = [];
      for (let i = 0; i < count; i++) {
        const w = (slot.recPtr >>> 2) + (first + i) * REC_WORDS;
        const codes = u32[w + R_CODES]!;
        const flags = codes >>> 24;
        records.push({
          equipmentId: u32[w + R_EQUIPMENT]!,
          frameSeq: u32[w + R_FRAME_SEQ]!,
          type: codes & 0xff,
          result: (codes >>> 8) & 0xff,
          causeCode: u32[w + R_CAUSE_SETUP]! & 0xffff,
          rsrpDbm: flags & F_RSRP ? i32[w + R_RSRP]! : undefined,
          setupLatencyMs: flags & F_SETUP_LATENCY ? u32[w + R_CAUSE_SETUP]! >>> 16 : undefined,
          cellId: u32[w + R_CELL]!,
          hasTargetCell: (flags & F_TARGET_CELL) !== 0,
          imsiDigits: flags & F_IMSI ? u32[w + R_IMSI_DIGITS]! : null,
        });
      }
      out.push({ reason: REASON_NAMES[u32[row + M_REASON]!]!, records });
    }
    start += n;
  }
  return out;
}

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

/** `count` frames, the clock advancing 1 ms per frame. */
function frames(options: Partial<TrafficOptions>, count: number, stepMs = 1): GeneratedFrame[] {
  const model = new TrafficModel(options);
  const out: GeneratedFrame[] = [];
  for (let i = 0; i < count; i++) out.push(model.next(T0 + i * stepMs));
  return out;
}

describe('traffic model', () => {
  it('gives the same bytes for the same seed and clock, and different bytes for another seed', () => {
    const a = frames({ seed: 42, badShare: 0.05 }, 500);
    const b = frames({ seed: 42, badShare: 0.05 }, 500);
    const c = frames({ seed: 43, badShare: 0.05 }, 500);
    expect(a.map((f) => f.value.toString('hex'))).toEqual(b.map((f) => f.value.toString('hex')));
    expect(a.map((f) => f.key)).toEqual(b.map((f) => f.key));
    expect(a.map((f) => f.value.toString('hex'))).not.toEqual(c.map((f) => f.value.toString('hex')));
  });

  it('respects the share of bad frames roughly', () => {
    const fs = frames({ seed: 7, badShare: 0.01, burstEveryMs: 0 }, 20_000);
    const bad = fs.filter((f) => f.bad !== null).length;
    expect(bad).toBeGreaterThan(140);
    expect(bad).toBeLessThan(260);
    expect(frames({ seed: 7, badShare: 0 }, 5000).every((f) => f.bad === null)).toBe(true);
  });

  it('makes frames that the WASM decoder decodes whole, and dead-letters every broken frame with the intended reason', () => {
    const fs = frames({ seed: 3, badShare: 0.15, burstEveryMs: 1000 }, 6000);
    const verdicts = decodeAll(fs.map((f) => f.value));
    const kinds = new Set<string>();
    fs.forEach((f, i) => {
      const v = verdicts[i]!;
      if (f.bad === null) {
        expect(v.reason, `frame ${i}`).toBe('ok');
        expect(v.records.length).toBe(f.records);
        for (const r of v.records) {
          expect(r.equipmentId).toBe(f.equipmentId);
          expect(r.frameSeq).toBe(f.frameSeq);
        }
      } else {
        kinds.add(f.bad);
        expect(v.reason, `frame ${i} (${f.bad})`).toBe(f.bad);
        expect(v.records.length).toBe(0);
      }
    });
    expect(kinds.size).toBe(12);
  });

  it('keys frames by equipment id and counts frame_seq per equipment from 0', () => {
    const fs = frames({ seed: 5, equipment: 10, badShare: 0 }, 2000);
    const next = new Map<number, number>();
    for (const f of fs) {
      expect(f.key).toBe(String(f.equipmentId));
      expect(f.equipmentId).toBeGreaterThanOrEqual(1);
      expect(f.equipmentId).toBeLessThanOrEqual(10);
      expect(f.frameSeq).toBe(next.get(f.equipmentId) ?? 0);
      next.set(f.equipmentId, f.frameSeq + 1);
    }
    expect(next.size).toBe(10);
  });

  it('writes realistic records: cause 0 on success and 1..40 on failure, rsrp in range, 15-digit imsi, target cell on handovers', () => {
    const fs = frames({ seed: 11, badShare: 0, burstEveryMs: 0, failureShare: 0.05 }, 10_000);
    const records = decodeAll(fs.map((f) => f.value)).flatMap((v) => v.records);
    // Violations are collected rather than asserted one by one: tens of thousands of expect calls are slow.
    const wrong: string[] = [];
    let failed = 0;
    let noImsi = 0;
    records.forEach((r, i) => {
      if (r.result === 0 && r.causeCode !== 0) wrong.push(`${i}: success with cause ${r.causeCode}`);
      if (r.result !== 0) {
        failed++;
        if (r.causeCode < 1 || r.causeCode > 40) wrong.push(`${i}: failure with cause ${r.causeCode}`);
      }
      if (r.rsrpDbm !== undefined && (r.rsrpDbm < -140 || r.rsrpDbm > -44)) wrong.push(`${i}: rsrp ${r.rsrpDbm}`);
      if (r.imsiDigits === null) noImsi++;
      else if (r.imsiDigits !== 15) wrong.push(`${i}: imsi of ${r.imsiDigits} digits`);
      if (r.hasTargetCell !== (r.type === 5)) wrong.push(`${i}: type ${r.type} with target cell ${r.hasTargetCell}`);
      if (r.type < 1 || r.type > 8 || r.result > 2) wrong.push(`${i}: type ${r.type} result ${r.result}`);
    });
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(failed / records.length).toBeGreaterThan(0.04);
    expect(failed / records.length).toBeLessThan(0.06);
    expect(noImsi).toBeGreaterThan(0);
    expect(records.length).toBeGreaterThanOrEqual(fs.length);
    expect(records.length).toBeLessThanOrEqual(fs.length * 3);
  });

  it('gives the KPIs something to show: a live type mix, log-normal setup latencies on session_start, per-cell signal, and a few cells far worse than the rest', () => {
    const fs = frames({ seed: 13, badShare: 0, burstEveryMs: 0 }, 20_000);
    const records = decodeAll(fs.map((f) => f.value)).flatMap((v) => v.records);
    const share = (pred: (r: DecodedSummary) => boolean): number => records.filter(pred).length / records.length;
    // the mix: sessions dominate, drops and radio link failures are rare
    expect(share((r) => r.type === 3 || r.type === 4)).toBeGreaterThan(0.4);
    expect(share((r) => r.type === 1)).toBeGreaterThan(0.08);
    expect(share((r) => r.type === 5)).toBeGreaterThan(0.1);
    expect(share((r) => r.type === 6 || r.type === 7)).toBeLessThan(0.03);
    expect(share((r) => r.type === 6 || r.type === 7)).toBeGreaterThan(0.002);
    // setup latency: on nearly every session_start, 100-300 ms median, a tail, failures slower
    const starts = records.filter((r) => r.type === 3);
    const withLatency = starts.filter((r) => r.setupLatencyMs !== undefined);
    expect(withLatency.length / starts.length).toBeGreaterThan(0.9);
    expect(withLatency.length).toBeLessThan(starts.length);
    const sorted = (xs: number[]): number[] => xs.sort((a, b) => a - b);
    const ok = sorted(withLatency.filter((r) => r.result === 0).map((r) => r.setupLatencyMs!));
    const failed = sorted(withLatency.filter((r) => r.result !== 0).map((r) => r.setupLatencyMs!));
    const at = (xs: number[], q: number): number => xs[Math.ceil(q * xs.length) - 1]!;
    expect(at(ok, 0.5)).toBeGreaterThanOrEqual(100);
    expect(at(ok, 0.5)).toBeLessThanOrEqual(300);
    expect(at(ok, 0.95)).toBeGreaterThan(at(ok, 0.5) * 1.4);
    expect(at(failed, 0.5)).toBeGreaterThan(at(ok, 0.5) * 2);
    // rsrp on most records, in -120..-70, each cell around its own level
    const rsrp = records.filter((r) => r.type !== 2 && r.rsrpDbm !== undefined);
    expect(rsrp.length / records.filter((r) => r.type !== 2).length).toBeGreaterThan(0.9);
    expect(rsrp.every((r) => r.rsrpDbm! >= -120 && r.rsrpDbm! <= -70)).toBe(true);
    // a cell's quality persists: the cells worst on even records are still far worse on odd ones (not noise)
    const byCell = new Map<number, { n: [number, number]; failed: [number, number]; rsrp: number; rsrpN: number }>();
    records.forEach((r, i) => {
      const c = byCell.get(r.cellId) ?? { n: [0, 0], failed: [0, 0], rsrp: 0, rsrpN: 0 };
      c.n[i & 1]++;
      if (r.result !== 0) c.failed[i & 1]++;
      if (r.rsrpDbm !== undefined) {
        c.rsrp += r.rsrpDbm;
        c.rsrpN++;
      }
      byCell.set(r.cellId, c);
    });
    const busy = [...byCell.values()].filter((c) => c.n[0] >= 20 && c.n[1] >= 20);
    expect(busy.length).toBeGreaterThan(100);
    busy.sort((a, b) => b.failed[0] / b.n[0] - a.failed[0] / a.n[0]);
    const worst = busy.slice(0, Math.ceil(busy.length / 10));
    const rest = busy.slice(worst.length);
    const oddRate = (cs: typeof busy): number => cs.reduce((s, c) => s + c.failed[1], 0) / cs.reduce((s, c) => s + c.n[1], 0);
    expect(oddRate(worst)).toBeGreaterThan(oddRate(rest) * 2);
    const levels = sorted(busy.map((c) => c.rsrp / c.rsrpN));
    expect(levels[levels.length - 1]! - levels[0]!).toBeGreaterThan(15);
  });

  it('emits a burst of 50 failures from one equipment within the burst span every burstEvery', () => {
    // One frame every 10 ms of clock for 25 s, no other failures: bursts start at 10 s and 20 s.
    const model = new TrafficModel({ seed: 9, burstEveryMs: 10_000, burstFailures: 50, burstSpanMs: 3000, badShare: 0, failureShare: 0 });
    const bursts: Array<{ start: number; frames: GeneratedFrame[] }> = [];
    for (let t = 0; t < 25_000; t += 10) {
      const f = model.next(T0 + t);
      if (!f.burst) continue;
      const last = bursts.at(-1);
      if (last !== undefined && t - last.start < 5000) {
        expect(t - last.start).toBeLessThan(3000);
        last.frames.push(f);
      } else bursts.push({ start: t, frames: [f] });
    }
    expect(bursts.length).toBe(2);
    expect(bursts.map((b) => b.start)).toEqual([10_000, 20_000]);
    for (const b of bursts) {
      expect(b.frames.reduce((s, f) => s + f.failures, 0)).toBe(50);
      expect(new Set(b.frames.map((f) => f.equipmentId)).size).toBe(1);
    }
  });

  it('stops exactly on a record count', () => {
    const model = new TrafficModel({ seed: 2, recordsPerFrameMin: 3, recordsPerFrameMax: 7 });
    const out: GeneratedFrame[] = [];
    expect(model.fill(out, 1001, T0)).toBe(1001);
    expect(out.reduce((s, f) => s + f.records, 0)).toBe(1001);
  });

  it('rejects a nonsensical option with a message naming it', () => {
    expect(() => new TrafficModel({ failureShare: 2 })).toThrow(/failureShare/);
    expect(() => new TrafficModel({ recordsPerFrameMin: 4, recordsPerFrameMax: 2 })).toThrow(/recordsPerFrameMax/);
  });
});
