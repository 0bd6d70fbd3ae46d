// A real Java producer (kafka-clients) writes the raw topic with every codec, in transactions of which some are aborted, with null and non-numeric keys and headers: LUX enriches exactly the committed frames, and its dead letters keep their original keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokers, consumeAll, type ConsumedRecord } from '../kafka-helpers.js';
import { daemonTopics, startDaemon, writeConfig, type DaemonTopics, type RunningDaemon } from '../pipeline/daemon-harness.js';
import { CODECS, compileFrameProducer, runJavaProducer, type Codec, type ProducedFrame } from './java-producer.js';
import { decodeLocally, generatedFrames, header, sorted } from './estate-harness.js';

/** Small enough for CI on both Node versions, large enough for many compressed batches per codec. */
const FRAMES_PER_CODEC = 240;
const FRAMES_PER_TRANSACTION = 20;
/** every 3rd transaction of each run is aborted */
const ABORT_EVERY = 3;

interface CodecRun {
  codec: Codec;
  frames: Buffer[];
  manifest: ProducedFrame[];
}

describe('a Java producer with every codec', () => {
  let topics: DaemonTopics;
  const runs: CodecRun[] = [];
  let daemon: RunningDaemon | undefined;
  let enriched: ConsumedRecord[] = [];

  beforeAll(async () => {
    compileFrameProducer();
    topics = await daemonTopics('estate-codecs');
    // One raw topic holding every codec's batches, as a topic fed by several collectors does; one daemon reads it.
    CODECS.forEach((codec, i) => {
      const frames = generatedFrames({ frames: FRAMES_PER_CODEC, seed: 100 + i, badShare: 0.05 });
      const manifest = runJavaProducer({
        bootstrap: brokers(),
        topic: topics.raw,
        frames,
        compression: codec,
        framesPerTransaction: FRAMES_PER_TRANSACTION,
        abortEvery: ABORT_EVERY,
        transactionalId: `${topics.raw}-java-${codec}`,
      });
      runs.push({ codec, frames, manifest });
    });
  });

  afterAll(async () => {
    if (daemon === undefined) return;
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });

  it('the producer committed some transactions and aborted others, with null, numeric and non-numeric keys', () => {
    for (const r of runs) {
      expect(r.manifest).toHaveLength(r.frames.length);
      expect(r.manifest.some((f) => !f.committed), r.codec).toBe(true);
      expect(r.manifest.some((f) => f.key === null), r.codec).toBe(true);
      expect(r.manifest.some((f) => f.key !== null && !/^\d+$/.test(f.key)), r.codec).toBe(true);
    }
  });

  it('LUX writes the records of exactly the committed frames, as lux decode does, whatever the codec', async () => {
    const expected: string[] = [];
    const perCodec = new Map<string, Codec>();
    for (const r of runs) {
      const committed = r.frames.filter((_, i) => r.manifest[i]!.committed);
      const lines = decodeLocally(committed).records;
      for (const l of lines) perCodec.set(l, r.codec);
      expected.push(...lines);
    }
    daemon = startDaemon(writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t` }));
    enriched = await consumeAll(topics.enriched, { isolation: 'read_committed', expected: expected.length, timeoutMs: 90_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\n--- daemon log ---\n${daemon?.output().slice(-6000)}`);
    });
    const got = enriched.map((m) => m.value?.toString() ?? '');
    const missing = expected.filter((l) => !got.includes(l));
    const byCodec = Object.fromEntries(CODECS.map((c) => [c, missing.filter((l) => perCodec.get(l) === c).length]));
    expect(missing.length, `records missing per codec: ${JSON.stringify(byCodec)}\n${daemon.output().slice(-3000)}`).toBe(0);
    expect(sorted(got)).toEqual(sorted(expected));
    // nothing more: the aborted frames never show up, however long one waits
    const all = await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 30_000 });
    expect(all).toHaveLength(expected.length);
  });

  it('dead letters are exactly the committed broken frames, each with its original key (null or not a number) and the lux.* headers', async () => {
    const wanted: Array<{ value: Buffer; key: string | null; reason: string }> = [];
    for (const r of runs) {
      const committedIdx = r.frames.map((_, i) => i).filter((i) => r.manifest[i]!.committed);
      const { dead } = decodeLocally(committedIdx.map((i) => r.frames[i]!));
      for (const [pos, reason] of dead) {
        const i = committedIdx[pos]!;
        wanted.push({ value: r.frames[i]!, key: r.manifest[i]!.key, reason });
      }
    }
    expect(wanted.length).toBeGreaterThan(0);
    expect(wanted.some((w) => w.key === null)).toBe(true);
    const dlq = await consumeAll(topics.dlq, { isolation: 'read_committed', expected: wanted.length, timeoutMs: 60_000 });
    expect(dlq).toHaveLength(wanted.length);
    const remaining = [...dlq];
    for (const w of wanted) {
      const at = remaining.findIndex((m) => m.value?.equals(w.value) === true && (m.key?.toString() ?? null) === w.key);
      expect(at, `dead letter with key ${w.key} (${w.reason})`).toBeGreaterThanOrEqual(0);
      const m = remaining.splice(at, 1)[0]!;
      expect(header(m, 'lux.error')).toBe(w.reason);
      expect(header(m, 'lux.source.topic')).toBe(topics.raw);
      expect(Number(header(m, 'lux.source.offset'))).toBeGreaterThanOrEqual(0);
    }
  });
});
