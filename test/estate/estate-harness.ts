// Fixtures of the estate tests: frames as `lux gen --out` writes them, which of them `lux decode` dead-letters, and the checks of a daemon's output against the committed frames.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LUX, REFDATA } from '../pipeline/daemon-harness.js';
import type { ConsumedRecord } from '../kafka-helpers.js';

/** Frames from `lux gen --out` (realistic traffic, `badShare` of them broken), split from their length prefixes. */
export function generatedFrames(opts: { frames: number; seed: number; badShare?: number; startMs?: number }): Buffer[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-estate-gen-'));
  const file = path.join(dir, 'frames.bin');
  const r = spawnSync(
    process.execPath,
    [LUX, 'gen', '--out', file, '--frames', String(opts.frames), '--seed', String(opts.seed), '--bad-share', String(opts.badShare ?? 0.05), '--quiet'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`lux gen --out failed (exit ${r.status}): ${r.stderr}`);
  const bytes = fs.readFileSync(file);
  const frames: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len = bytes.readUInt32BE(at);
    frames.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return frames;
}

/** `lux decode` over the frames: the enriched lines and the indexes (into `frames`) of the dead-lettered ones with their reasons. */
export function decodeLocally(frames: Buffer[]): { records: string[]; dead: Map<number, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-estate-decode-'));
  const input = path.join(dir, 'frames.bin');
  const dlq = path.join(dir, 'dlq.ndjson');
  const parts: Buffer[] = [];
  for (const f of frames) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(f.length);
    parts.push(len, f);
  }
  fs.writeFileSync(input, Buffer.concat(parts));
  const r = spawnSync(process.execPath, [LUX, 'decode', '--ref', REFDATA, '--in', input, '--dlq', dlq], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`lux decode failed: ${r.stderr.toString()}`);
  const dead = new Map<number, string>();
  for (const line of fs.readFileSync(dlq, 'utf8').split('\n')) {
    if (line === '') continue;
    const d = JSON.parse(line) as { index: number; reason: string };
    dead.set(d.index, d.reason);
  }
  return { records: r.stdout.toString().split('\n').filter((l) => l !== ''), dead };
}

export function sorted(a: string[]): string[] {
  return [...a].sort();
}

export function header(m: ConsumedRecord, key: string): string | undefined {
  return m.headers.find((h) => h.key === key)?.value.toString();
}
