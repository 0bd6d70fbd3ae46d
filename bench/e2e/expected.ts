// The expected output of a benchmark run: `lux decode` of the very frames in the raw topic, counted and checksummed as the topic output is.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../src/paths.js';
import { ValueChecksum } from './checksum.js';

export const LUX_BIN = path.join(ROOT, 'bin', 'lux.js');
export const REFDATA = path.join(ROOT, 'examples', 'refdata');

export interface Expected {
  records: ValueChecksum;
  deadLetters: number;
}

/**
 * Runs `lux decode --ref examples/refdata` (the same decoder and enricher as the daemon, in one thread) over a file of
 * length-prefixed frames and checksums its lines as they stream out, so a million records never sit in memory.
 */
export async function expectedFromFrames(framesFile: string, refdata: string = REFDATA): Promise<Expected> {
  const dlqFile = `${framesFile}.dlq.ndjson`;
  const child = spawn(process.execPath, [LUX_BIN, 'decode', '--ref', refdata, '--in', framesFile, '--dlq', dlqFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const records = new ValueChecksum();
  let rest: Buffer = Buffer.alloc(0);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      if (nl > start) records.add(buf.subarray(start, nl));
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`lux decode --in ${framesFile} exited ${code}: ${stderr.trim()}`);
  if (rest.length > 0) records.add(rest);
  const dlqText = fs.existsSync(dlqFile) ? fs.readFileSync(dlqFile, 'utf8') : '';
  const deadLetters = dlqText.split('\n').filter((l) => l.trim() !== '').length;
  return { records, deadLetters };
}

/** Appends frames to a file in the `lux decode` input format (4-byte big-endian length, then the frame), buffered. */
export class FramesFile {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(4 << 20);
  private used = 0;
  frames = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  write(frame: Uint8Array): void {
    if (this.used + 4 + frame.length > this.buffer.length) this.flush();
    if (4 + frame.length > this.buffer.length) {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(frame.length, 0);
      fs.writeSync(this.fd, header);
      fs.writeSync(this.fd, frame);
    } else {
      this.buffer.writeUInt32BE(frame.length, this.used);
      this.buffer.set(frame, this.used + 4);
      this.used += 4 + frame.length;
    }
    this.frames++;
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }

  private flush(): void {
    if (this.used > 0) fs.writeSync(this.fd, this.buffer, 0, this.used);
    this.used = 0;
  }
}
