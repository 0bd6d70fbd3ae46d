// What the daemons must write, computed in one pass over the same input: the enriched records, dead letters and KPIs of `lux decode` (the same decoder and enrichment, run locally) and the alarms of one AlarmCore fed every record in order.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AlarmCore } from '../../src/alarms/core.js';
import { createChannel, createSignal, FeedWriter } from '../../src/alarms/feed.js';
import type { AlarmEvent, RuleSpec } from '../../src/alarms/rules.js';
import { loadRefTables } from '../../src/enrich/csv-tables.js';
import { openReference } from '../../src/enrich/reference.js';
import { buildSnapshot } from '../../src/enrich/snapshot.js';
import { ROOT } from '../../src/paths.js';
import type { RecordObserver, TortureInput } from './input.js';

export const REFDATA_DIR = path.join(ROOT, 'examples', 'refdata');
const LUX = path.join(ROOT, 'bin', 'lux.js');

/** The failure rule every instance runs: the input's bursts raise it and their ends clear it. */
export const TORTURE_RULE: RuleSpec = { name: 'torture_burst', window_ms: 10_000, slide_ms: 5_000, threshold: 15, clear_below: 5, lateness_ms: 1_000 };
/** kpis.lateness_ms of the instances */
export const KPI_LATENESS_MS = 5_000;
/** partitions never go idle in the run: every window closes on event time alone, as in the one-pass reference */
export const IDLE_PARTITION_MS = 3_600_000;

/** An alarm as compared: `<alarm_id> <state> <count> <suppressed>`. */
export function alarmLine(a: { alarmId: string; state: string; count: number; suppressed: boolean }): string {
  return `${a.alarmId} ${a.state} ${a.count} ${a.suppressed ? 'suppressed' : 'sent'}`;
}

/**
 * The alarms one core decides over every record of the input, fed in input order (the input's order is event-time
 * order across partitions) and evaluated as it goes; `suppressed` as the daemon sets it, from the reference data's
 * interventions at the window's end.
 */
export class AlarmReference implements RecordObserver {
  private readonly core = new AlarmCore([TORTURE_RULE], IDLE_PARTITION_MS);
  private readonly writer: FeedWriter;
  private readonly events: AlarmEvent[] = [];
  private pending = 0;

  constructor() {
    const ch = createChannel(0, createSignal(), 1 << 16);
    this.core.attach(ch);
    this.writer = new FeedWriter(ch);
  }

  record(equipmentId: number, eventTimeMs: number, failure: boolean): void {
    while (!this.writer.add(equipmentId, eventTimeMs, 0, failure, false)) this.apply();
    if (++this.pending >= 20_000) this.apply();
  }

  private apply(): void {
    this.writer.flush();
    this.core.drain(0);
    this.core.advance(0, this.events);
    this.pending = 0;
  }

  /** Every decision, as `alarmLine`s, sorted. */
  finish(): string[] {
    this.apply();
    const ref = openReference(buildSnapshot(loadRefTables(REFDATA_DIR)).buffer, null);
    return this.events.map((e) => alarmLine({ ...e, suppressed: ref.maintenanceJson(e.equipmentId, e.windowEndMs) !== 'null' })).sort();
  }
}

export interface DecodeReference {
  /** per decoded record, in output order: the first 8 bytes of the MD5 of its JSON line */
  hashHi: Uint32Array;
  hashLo: Uint32Array;
  /** broken frames: frame index → reason */
  deadLetters: Map<number, string>;
  /** KPI objects of the windows the run's watermark closes: `<window_start> <dimension>:<key>` → JSON line */
  kpis: Map<string, string>;
  /** windows among them */
  kpiWindows: number;
}

/** The first 8 bytes of a value's MD5, as two words. */
export function digest(bytes: Uint8Array): [number, number] {
  const d = createHash('md5').update(bytes).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

/**
 * Runs `lux decode --kpis` over the input and keeps what the verification compares: a digest per enriched record,
 * the reason per dead letter, and the KPI objects of every window ending by the end frames' time less the KPI
 * lateness (what the daemons' watermark closes; the end frames' own window stays open).
 */
export async function decodeReference(input: TortureInput, dir: string, kpiWindowMs: number): Promise<DecodeReference> {
  const dlqFile = path.join(dir, 'reference-dead-letters.ndjson');
  const kpiFile = path.join(dir, 'reference-kpis.ndjson');
  const child = spawn(process.execPath, [LUX, 'decode', '--ref', REFDATA_DIR, '--in', input.file, '--dlq', dlqFile, '--kpis', kpiFile, '--kpi-window-ms', String(kpiWindowMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const hashHi = new Uint32Array(input.records);
  const hashLo = new Uint32Array(input.records);
  let n = 0;
  // lines as raw bytes: the digest is of the exact bytes the daemon must write
  let rest = Buffer.alloc(0);
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      if (n >= input.records) throw new Error(`lux decode wrote more than the ${input.records} records the input holds`);
      const [hi, lo] = digest(buf.subarray(start, nl));
      hashHi[n] = hi;
      hashLo[n] = lo;
      n++;
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  }
  const code = await exited;
  if (code !== 0) throw new Error(`lux decode exited with ${code}: ${stderr}`);
  if (n !== input.records) throw new Error(`lux decode wrote ${n} records, the input holds ${input.records}`);

  const deadLetters = new Map<number, string>();
  for (const line of fs.readFileSync(dlqFile, 'utf8').split('\n')) {
    if (line === '') continue;
    const d = JSON.parse(line) as { index: number; reason: string };
    deadLetters.set(d.index, d.reason);
  }
  if (deadLetters.size !== input.badFrames) throw new Error(`lux decode dead-lettered ${deadLetters.size} frames, the input breaks ${input.badFrames}`);

  const closedThrough = input.endTimeMs - KPI_LATENESS_MS;
  const kpis = new Map<string, string>();
  const windows = new Set<string>();
  const lines = createInterface({ input: fs.createReadStream(kpiFile, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    const k = JSON.parse(line) as { window_start: string; window_end: string; dimension: string; key: string };
    if (Date.parse(k.window_end) > closedThrough) continue;
    kpis.set(`${k.window_start} ${k.dimension}:${k.key}`, line);
    windows.add(k.window_start);
  }
  return { hashHi, hashLo, deadLetters, kpis, kpiWindows: windows.size };
}
