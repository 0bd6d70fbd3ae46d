// Test fixtures for the daemon: topics and a config per test, `lux run` as a real child process, and the expected output from `lux decode`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brokers, createTopics, uniqueTopic } from '../kafka-helpers.js';
import { encodeFrame, encodeFrameStream, type RecordInput } from '../../src/gen/frame-encoder.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const LUX = path.join(ROOT, 'bin', 'lux.js');
export const REFDATA = path.join(ROOT, 'examples', 'refdata');

export interface DaemonTopics {
  raw: string;
  enriched: string;
  dlq: string;
  alarms: string;
  alarmState: string;
  refdata: string;
}

/** Fresh topics for one test. */
export async function daemonTopics(prefix: string, partitions = 3): Promise<DaemonTopics> {
  const t = {
    raw: uniqueTopic(`${prefix}-raw`),
    enriched: uniqueTopic(`${prefix}-enriched`),
    dlq: uniqueTopic(`${prefix}-dlq`),
    alarms: uniqueTopic(`${prefix}-alarms`),
    alarmState: uniqueTopic(`${prefix}-alarm-state`),
    refdata: uniqueTopic(`${prefix}-refdata`),
  };
  await createTopics([t.raw, t.enriched, t.dlq, t.alarms, t.alarmState], partitions);
  await createTopics([t.refdata], 1);
  return t;
}

/** Writes a config file for `lux run`; `extra` lines are appended under the top level (YAML). */
export function writeConfig(topics: DaemonTopics, opts: { group: string; transactionalId: string; extra?: string; workers?: number; logLevel?: string }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-daemon-'));
  const file = path.join(dir, 'lux.yaml');
  fs.writeFileSync(
    file,
    [
      'kafka:',
      `  brokers: "${brokers()}"`,
      `  group_id: ${opts.group}`,
      `  transactional_id: ${opts.transactionalId}`,
      '  transaction_timeout_ms: 20000',
      'topics:',
      `  raw: ${topics.raw}`,
      `  enriched: ${topics.enriched}`,
      `  dlq: ${topics.dlq}`,
      `  alarms: ${topics.alarms}`,
      `  refdata: ${topics.refdata}`,
      `  alarm_state: ${topics.alarmState}`,
      'refdata:',
      `  dir: ${REFDATA}`,
      'pipeline:',
      `  workers: ${opts.workers ?? 1}`,
      '  slots: 4',
      '  batch_max_messages: 500',
      '  batch_max_bytes: 262144',
      '  commit_interval_ms: 100',
      '  drain_timeout_ms: 20000',
      'http:',
      '  port: 0',
      'log:',
      `  level: ${opts.logLevel ?? 'info'}`,
      opts.extra ?? '',
    ].join('\n'),
  );
  return file;
}

export interface RunningDaemon {
  child: ChildProcess;
  /** everything the daemon printed (pino JSON lines), for diagnostics */
  output(): string;
  /** resolves with the exit code (or the signal name) */
  exited: Promise<number | string>;
}

export function startDaemon(config: string): RunningDaemon {
  const child = spawn(process.execPath, [LUX, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => out, exited };
}

/** Deterministic frames: `count` frames over `equipment` ids, `perFrame` records each; every `badEvery`-th frame is broken. */
export function makeFrames(
  count: number,
  opts: { equipment?: number; perFrame?: number; badEvery?: number; seqBase?: number; startMs?: number; timeOffsetMs?: number } = {},
): { key: string; value: Buffer; bad: boolean }[] {
  const equipment = opts.equipment ?? 50;
  const perFrame = opts.perFrame ?? 2;
  // frame i at start + offset + 10 i ms (+ its record index): event time grows with the frame, in every partition.
  // The fixed default start keeps the records reproducible; a test that measures latency passes the clock's now.
  const base = (opts.startMs ?? Date.parse('2026-11-26T10:00:00.000Z')) + (opts.timeOffsetMs ?? 0);
  const frames: { key: string; value: Buffer; bad: boolean }[] = [];
  for (let i = 0; i < count; i++) {
    const eq = (i % equipment) + 1;
    const records: RecordInput[] = [];
    for (let r = 0; r < perFrame; r++) {
      records.push({
        eventTime: base + i * 10 + r,
        type: 1 + ((i + r) % 8),
        result: (i + r) % 7 === 0 ? 1 : 0,
        cellId: 1000 + (i % 97),
        causeCode: (i + r) % 7 === 0 ? 1 + (i % 5) : 0,
        imsi: r % 2 === 0 ? `20815${String(100000000 + i).padStart(10, '0')}` : null,
        apn: r % 2 === 0 ? 'internet' : undefined,
        rsrpDbm: -90 - (i % 30),
      });
    }
    const bad = opts.badEvery !== undefined && i % opts.badEvery === opts.badEvery - 1;
    const value = encodeFrame({ equipmentId: eq, frameSeq: (opts.seqBase ?? 0) + i, records, crc: i % 2 === 0 }, bad ? { magic: Uint8Array.of(0x4c, 0x58, 0x45, 0x32) } : {});
    frames.push({ key: String(eq), value, bad });
  }
  return frames;
}

/** The enriched records `lux decode` gives for these frames (the daemon must produce exactly these). */
export function expectedRecords(frames: { value: Buffer }[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-expected-'));
  const input = path.join(dir, 'frames.bin');
  fs.writeFileSync(input, encodeFrameStream(frames.map((f) => f.value)));
  const r = spawnSync(process.execPath, [LUX, 'decode', '--ref', REFDATA, '--in', input, '--dlq', path.join(dir, 'dlq.ndjson')], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`lux decode failed: ${r.stderr.toString()}`);
  return r.stdout.toString().split('\n').filter((l) => l !== '');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
