// A StatusSource whose numbers move with the clock, for the status page's tests before (and beside) the real daemon.
import type { AlarmMessage } from '../../src/report/alarm-message.js';
import type { KpiMessage } from '../../src/report/kpi-message.js';
import type { StatusSource } from '../../src/status/status-source.js';
import type { LatencyPoint } from '../../src/status/status-document.js';
import { OpenAlarms } from '../../src/status/open-alarms.js';
import { DeadLetterSamples } from '../../src/status/dead-letter-samples.js';
import { topologyGraph } from '../../src/status/topology-graph.js';
import { parseConfig } from '../../src/config/load.js';

const CONFIG = `
kafka: { brokers: "127.0.0.1:9092", group_id: lux-scripted, transactional_id: lux-scripted-1 }
refdata: { dir: /nonexistent }
alarms:
  rules:
    - { name: failures_1m, window_ms: 60000, slide_ms: 10000, threshold: 20, clear_below: 5 }
`;

export const REGIONS = ['Bretagne', 'Occitanie', 'Île-de-France'];
export const VENDORS = ['Ericsson', 'Huawei', 'Nokia', 'Samsung'];

export function kpiMessage(dimension: KpiMessage['dimension'], key: string, windowStartMs: number, o: { sessions?: number; sessionOk?: number; drops?: number; records?: number } = {}): KpiMessage {
  const sessions = o.sessions ?? 100;
  const ok = o.sessionOk ?? 95;
  const drops = o.drops ?? 2;
  const rate = (s: number, a: number) => (a === 0 ? null : s / a);
  return {
    window_start: new Date(windowStartMs).toISOString(),
    window_end: new Date(windowStartMs + 60_000).toISOString(),
    dimension,
    key,
    records: o.records ?? 1000,
    failures: sessions - ok,
    attach: { attempts: 50, successes: 49, success_rate: 0.98 },
    session: { attempts: sessions, successes: ok, success_rate: rate(ok, sessions), setup_latency_ms: { count: ok, p50: 80, p95: 210, max: 900 } },
    handover: { attempts: 20, successes: 19, success_rate: 0.95 },
    drops: { call_drops: drops, radio_link_failures: 1, drop_rate: rate(drops, ok) },
    rsrp_dbm: { count: 10, mean: -95, min: -120 },
    bytes_up: 1000,
    bytes_down: 5000,
  };
}

/** Rates (per second) drift with the clock; `raise` adds an alarm as the daemon would after a commit. */
export class ScriptedSource implements StatusSource {
  readonly started = Date.now();
  readonly openAlarms = new OpenAlarms();
  readonly deadLetters = new DeadLetterSamples();
  private readonly topology = topologyGraph(parseConfig(CONFIG, 'scripted.yaml', {}), 3);
  private last = Date.now();
  private c = { framesIn: 0, recordsOut: 0, deadLetters: 0, transactions: 0, aborts: 0, alarms: 0 };
  private readonly byReason = new Map<string, number>();
  /** set to stop the numbers (a stalled pipeline) */
  frozen = false;

  private advance(): void {
    const now = Date.now();
    const dt = (now - this.last) / 1000;
    this.last = now;
    if (this.frozen || dt <= 0) return;
    const wave = 1 + 0.3 * Math.sin(now / 3000);
    const frames = Math.round(4000 * wave * dt);
    this.c.framesIn += frames;
    this.c.recordsOut += frames * 5;
    this.c.transactions += Math.max(1, Math.round(10 * dt));
    const dead = Math.random() < 0.5 ? 1 : 0;
    if (dead > 0) {
      const reason = Math.random() < 0.7 ? 'crc_mismatch' : 'truncated';
      this.c.deadLetters += dead;
      this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + dead);
      this.deadLetters.add('lux.raw', this.c.framesIn % 3, this.c.framesIn, reason, now);
    }
  }

  raise(a: AlarmMessage): void {
    this.openAlarms.apply([a]);
    this.c.alarms++;
  }

  identity() {
    return { topology: this.topology, groupId: 'lux-scripted', instance: 'lux-scripted-1', startedAtMs: this.started, httpUrl: null };
  }
  counters() {
    this.advance();
    return { ...this.c, deadLettersByReason: this.byReason, lastTransactionMs: 12 };
  }
  lag() {
    const t = Date.now() / 1000;
    return new Map([0, 1, 2].map((p) => [p, Math.round(200 + 150 * Math.sin(t + p))]));
  }
  readiness() {
    return { ready: true, reasons: [] };
  }
  sla() {
    return { seconds: 60, percentile: 99.9, breached: false, reason: 'event_to_commit p99.9 0.3 s, max 0.9 s <= 60 s' };
  }
  latency(): LatencyPoint | null {
    const t = Date.now() / 1000;
    const p50 = Math.round(120 + 40 * Math.sin(t / 2));
    return { p50_ms: p50, p99_ms: p50 * 3, max_ms: p50 * 6, count: 5000 };
  }
  refdata() {
    const at = this.started - 90_000;
    return {
      version: 3,
      tables: [
        { name: 'equipment', rows: 200, lastUpdateMs: at },
        { name: 'vendors', rows: 5, lastUpdateMs: at },
        { name: 'error_codes', rows: 60, lastUpdateMs: at },
        { name: 'interventions', rows: 12, lastUpdateMs: at },
      ],
    };
  }
  alarms() {
    const a = this.openAlarms;
    return { open: a.list(), raised: a.raised, cleared: a.cleared, suppressed: a.suppressed, failuresCounted: Math.round(this.c.recordsOut * 0.01) };
  }
  recentDeadLetters() {
    return this.deadLetters.list();
  }
  kpis() {
    const w = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    return [
      ...REGIONS.map((r, i) => kpiMessage('region', r, w, { sessionOk: 90 + i })),
      ...VENDORS.map((v, i) => kpiMessage('vendor', v, w, { sessionOk: 92 + i })),
      ...Array.from({ length: 12 }, (_, i) => kpiMessage('cell', String(1000 + i), w, { sessionOk: 60 + i * 3, drops: i })),
    ];
  }
}

export function failureAlarm(equipmentId: number, opts: { suppressed?: boolean; state?: 'raised' | 'cleared'; endMs?: number } = {}): AlarmMessage {
  const end = opts.endMs ?? Math.floor(Date.now() / 10_000) * 10_000;
  return {
    alarm_id: `failures_1m:${equipmentId}:${end}`,
    rule: 'failures_1m',
    state: opts.state ?? 'raised',
    equipment_id: equipmentId,
    count: 42,
    threshold: 20,
    window_start: new Date(end - 60_000).toISOString(),
    window_end: new Date(end).toISOString(),
    suppressed: opts.suppressed ?? false,
    equipment: { name: `ENB-TEST-${equipmentId}`, model: 'AirScale BTS', vendor: 'Nokia', site: 'Rennes', region: 'Bretagne' },
    emitted_at: new Date().toISOString(),
  };
}

/**
 * The `cleared` alarm that closes `raised` (SPEC section 4: the same alarm_id, the window end of the raise), one slide
 * later. Built from the raise, not from the clock: two failureAlarm calls on either side of a 10 s boundary name two
 * different alarms.
 */
export function clearedOf(raised: AlarmMessage): AlarmMessage {
  const end = Date.parse(raised.window_end) + 10_000;
  return { ...raised, state: 'cleared', count: 1, window_start: new Date(end - 60_000).toISOString(), window_end: new Date(end).toISOString(), emitted_at: new Date().toISOString() };
}

export function kpiAlarm(cell: string): AlarmMessage {
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  return {
    alarm_id: `session_low:cell:${cell}:${end}`,
    rule: 'session_low',
    state: 'raised',
    dimension: 'cell',
    key: cell,
    kpi: 'session_success_rate',
    value: 0.61,
    threshold: 0.9,
    attempts: 100,
    window_start: new Date(end - 60_000).toISOString(),
    window_end: new Date(end).toISOString(),
    suppressed: false,
    equipment: null,
    emitted_at: new Date().toISOString(),
  };
}
