// `lux gen`: the length-prefixed file for `lux decode`, stop conditions, one-line argument errors, and producing to a real Kafka topic.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { genCommand, parseGenArgs, runGenerator } from '../../src/cli/gen.js';
import { LuxError } from '../../src/errors.js';
import { TrafficModel } from '../../src/gen/traffic.js';
import { brokers, consumeAll, createTopics, uniqueTopic } from '../kafka-helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lux-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Splits a `lux decode` input file into its frames. */
function readFrames(file: string): Buffer[] {
  const bytes = readFileSync(file);
  const frames: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    expect(at + 4).toBeLessThanOrEqual(bytes.length);
    const len = bytes.readUInt32BE(at);
    expect(at + 4 + len).toBeLessThanOrEqual(bytes.length);
    frames.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return frames;
}

/** The usage error genCommand rejects with. */
async function usageError(argv: string[]): Promise<LuxError> {
  const err = await genCommand(argv).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LuxError);
  expect((err as LuxError).code).toBe('E_USAGE');
  return err as LuxError;
}

describe('lux gen --out', () => {
  it('writes length-prefixed frames, as `lux decode` reads them, and stops on --records in decodable frames', async () => {
    const out = path.join(dir, 'frames.bin');
    const s = await runGenerator(parseGenArgs(['--out', out, '--records', '5000', '--seed', '4', '--bad-share', '0.02', '--quiet']));
    const frames = readFrames(out);
    expect(frames.length).toBe(s.frames);
    expect(s.records).toBe(5000);
    expect(s.badFrames).toBeGreaterThan(0);
    for (const f of frames) expect(f.readUInt32BE(8)).toBeGreaterThanOrEqual(1);
    const good = frames.filter((f) => f.subarray(0, 4).toString('latin1') === 'LXE1').length;
    expect(good).toBeGreaterThanOrEqual(s.frames - s.badFrames);
  });

  it('writes the same file for the same seed and clock: the traffic model\'s frames, event times advancing at --rate', async () => {
    const T0 = Date.UTC(2025, 0, 1);
    const a = path.join(dir, 'a.bin');
    const b = path.join(dir, 'b.bin');
    const sa = await runGenerator({ out: a, frames: 300, rate: 1000, clock: () => T0, traffic: { seed: 8 }, quiet: true });
    await runGenerator({ out: b, frames: 300, rate: 1000, clock: () => T0, traffic: { seed: 8 }, quiet: true });
    expect(sa.frames).toBe(300);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const model = new TrafficModel({ seed: 8 });
    let written = 0;
    const expected = Array.from({ length: 300 }, () => {
      const f = model.next(T0 + Math.floor(written)); // 1000 records/s: one ms per record
      written += f.records;
      return f.value.toString('hex');
    });
    expect(readFrames(a).map((f) => f.toString('hex'))).toEqual(expected);
  });

  it('defaults to 100000 records for a file', async () => {
    const out = path.join(dir, 'default.bin');
    const s = await runGenerator({ out, quiet: true, traffic: { badShare: 0 } });
    expect(s.records).toBe(100_000);
    expect(readFrames(out).length).toBe(s.frames);
  });

  it('prints one summary line on standard output', async () => {
    const out = path.join(dir, 'summary.bin');
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      expect(await genCommand(['--out', out, '--frames', '10', '--quiet'])).toBe(0);
    } finally {
      process.stdout.write = orig;
    }
    expect(writes.join('')).toMatch(/^frames=10 records=\d+ bad_frames=\d+ .*seconds=\d+\.\d\d\n$/);
  });
});

describe('lux gen arguments', () => {
  it('gives one clear line for each mistake', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /exactly one of --topic T and --out FILE/],
      [['--topic', 't', '--out', 'f'], /exactly one of --topic T and --out FILE/],
      [['--out', 'f', '--rate', 'fast'], /--rate expects a non-negative number, got 'fast'/],
      [['--out', 'f', '--records', '0'], /--records expects a positive integer, got '0'/],
      [['--out', 'f', '--records-per-frame', '3-1'], /--records-per-frame expects K or A-B/],
      [['--out', 'f', '--bad-share', '1.5'], /--bad-share expects a share between 0 and 1/],
      [['--out', 'f', '--seed=-1'], /--seed expects a non-negative number, got '-1'/],
      [['--out', 'f', '--seed', '-1'], /gen: Option '--seed' argument is ambiguous\.$/],
      [['--out', 'f', '--equipment', '2.5'], /--equipment expects a positive integer/],
      [['--out', 'f', '--frobnicate'], /gen: Unknown option '--frobnicate'/],
    ];
    for (const [argv, message] of cases) {
      const err = await usageError(argv);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('\n');
    }
  });

  it('names the file it cannot write', async () => {
    const err = await runGenerator({ out: path.join(dir, 'no', 'such', 'dir', 'x.bin'), quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LuxError);
    expect((err as LuxError).code).toBe('E_IO');
    expect((err as LuxError).message).toContain(path.join(dir, 'no', 'such', 'dir', 'x.bin'));
  });

  it('reads a fixed count or a range of records per frame', () => {
    expect(parseGenArgs(['--out', 'f', '--records-per-frame', '4']).traffic).toMatchObject({ recordsPerFrameMin: 4, recordsPerFrameMax: 4 });
    expect(parseGenArgs(['--out', 'f', '--records-per-frame', '2-9']).traffic).toMatchObject({ recordsPerFrameMin: 2, recordsPerFrameMax: 9 });
    expect(parseGenArgs(['--out', 'f', '--burst-every', '0']).traffic).toMatchObject({ burstEveryMs: 0 });
  });
});

describe('lux gen --topic', () => {
  it('produces keyed, timestamped frames to a real topic until --records, then flushes', async () => {
    const topic = uniqueTopic('lux-gen');
    await createTopics([topic], 3);
    const t0 = Date.now();
    const s = await runGenerator({ brokers: brokers(), topic, records: 1000, rate: 20_000, quiet: true, traffic: { badShare: 0.01, seed: 12 } });
    expect(s.records).toBe(1000);
    expect(s.deliveryErrors).toBe(0);
    const got = await consumeAll(topic, { expected: s.frames, isolation: 'read_uncommitted' });
    expect(got.length).toBe(s.frames);
    for (const m of got) {
      expect(m.value).not.toBeNull();
      // Broken frames keep their key too; a good frame's header names the same equipment as its key.
      if (m.value!.subarray(0, 4).toString('latin1') === 'LXE1' && m.value!.length >= 16) {
        expect(m.key!.toString()).toBe(String(m.value!.readUInt32BE(8)));
      }
      expect(m.timestamp).toBeGreaterThanOrEqual(t0);
    }
  });

  it('stops on the abort signal and says what it wrote', async () => {
    const topic = uniqueTopic('lux-gen-stop');
    await createTopics([topic], 1);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 1500);
    const s = await runGenerator({ brokers: brokers(), topic, rate: 2000, quiet: true }, stop.signal);
    // stopped by the signal (1.5 s after the call; its clock starts once connected, later on a loaded machine)
    expect(s.seconds).toBeGreaterThan(0);
    expect(s.seconds).toBeLessThan(10);
    // said what it wrote, paced by 10 ms ticks: never faster than 2000 records/s (a busy machine may make it slower)
    expect(s.records).toBeGreaterThan(0);
    expect(s.records).toBeLessThanOrEqual(2000 * s.seconds + 2000 * 0.05);
  });

  it('says clearly when the topic does not exist', async () => {
    const err = await runGenerator({ brokers: brokers(), topic: 'lux-gen-missing-' + Date.now(), records: 1, quiet: true, kafkaTimeoutMs: 2000 }).catch(
      (e: unknown) => e,
    );
    // A broker that auto-creates topics creates it instead; either way nothing hangs.
    if (err instanceof LuxError) expect(err.message).toMatch(/topic lux-gen-missing-\d+ does not exist/);
  });
});
