// Consume errors: a batch this build cannot decompress is told apart from passing errors, located by the consumer's own progress and explained with its codec and remedy.
import { describe, expect, it } from 'vitest';
import {
  classifyConsumeError,
  locateStuckPartitions,
  progressOf,
  UndecompressableBatchError,
  UndecompressableReports,
} from '../../src/kafka/consume-errors.js';

const WITHOUT_ZSTD = ['gzip', 'snappy', 'ssl', 'sasl', 'regex', 'lz4', 'sasl_plain', 'sasl_scram', 'plugins', 'sasl_oauthbearer'];
// Exactly what node-rdkafka 3.6.1 passes to consume()'s callback for a zstd batch on a build without zstd.
const NOT_IMPLEMENTED = Object.assign(new Error('Local: Not implemented'), { code: -170, errno: -170, origin: 'kafka' });

describe('consume errors', () => {
  it('a zstd batch on a build without zstd: codec, topic, the stuck partition and its offset, and what to install', () => {
    // partition 0 read up to 7 of 20 (the zstd batch starts at 7); partition 1 read to its end
    const c = classifyConsumeError(NOT_IMPLEMENTED, {
      topic: 'lux.raw',
      features: WITHOUT_ZSTD,
      progress: [
        { partition: 0, next: 7, high: 20 },
        { partition: 1, next: 5, high: 5 },
      ],
    });
    expect(c.kind).toBe('undecompressable');
    const e = (c as { error: UndecompressableBatchError }).error;
    expect(e).toBeInstanceOf(UndecompressableBatchError);
    expect(e.code).toBe('E_KAFKA');
    expect([e.topic, e.partition, e.offset]).toEqual(['lux.raw', 0, 7]);
    expect(e.reason).toBe('codec_missing');
    expect(e.codecs).toEqual(['zstd']);
    expect(e.partitions).toEqual([{ partition: 0, offset: 7, unread: 13 }]);
    expect(e.message).toMatch(/^topic lux\.raw partition 0 offset 7: a fetched batch is compressed with zstd, which this librdkafka was built without \(librdkafka: Local: Not implemented, code -170\)/);
    expect(e.message).toContain('apt-get install libzstd-dev && npm rebuild node-rdkafka');
  });

  it('a partition nothing was read from starts at the committed offset the caller knows, else at its low watermark', () => {
    const progress = [
      { partition: 0, next: undefined, high: 20, low: 0 },
      { partition: 1, next: undefined, high: 9, low: 2 },
    ];
    expect(locateStuckPartitions(progress, (p) => (p === 0 ? 20 : undefined))).toEqual([{ partition: 1, offset: 2, unread: 7 }]);
    const c = classifyConsumeError({ code: -170, message: 'Local: Not implemented' }, { topic: 't', features: WITHOUT_ZSTD, progress });
    expect(c.kind === 'undecompressable' && c.error.message).toMatch(/^topic t, one of partitions 0 at offset 0, 1 at offset 2:/);
  });

  it('reads progress from the consumer without a broker round trip', () => {
    const consumer = {
      position: () => [
        { topic: 'raw', partition: 0, offset: 7 },
        { topic: 'raw', partition: 1 },
        { topic: 'other', partition: 0, offset: 3 },
      ],
      getWatermarkOffsets: (_t: string, p: number) => (p === 0 ? { lowOffset: 0, highOffset: 20 } : { lowOffset: 0, highOffset: 5 }),
    };
    expect(progressOf(consumer, 'raw', [0, 1])).toEqual([
      { partition: 0, next: 7, high: 20, low: 0 },
      { partition: 1, next: undefined, high: 5, low: 0 },
    ]);
  });

  it('a corrupt batch (bad compression) is undecompressable too, with a different remedy', () => {
    const c = classifyConsumeError({ code: -198, message: 'Local: Invalid compressed data' }, {
      topic: 'raw',
      features: [...WITHOUT_ZSTD, 'zstd'],
      progress: [{ partition: 2, next: 100, high: 150 }],
    });
    expect(c.kind).toBe('undecompressable');
    if (c.kind !== 'undecompressable') return;
    expect(c.error.reason).toBe('corrupt_batch');
    expect(c.error.message).toContain('topic raw partition 2 offset 100');
    expect(c.error.remedy).toContain('--reset-offsets');
  });

  it('takes the consume error as the kafka room wraps it (a KafkaError with librdkafka\'s code) as well as raw', async () => {
    const { KafkaError } = await import('../../src/kafka/errors.js');
    const wrapped = KafkaError.from('consume', NOT_IMPLEMENTED, 'consumer');
    const c = classifyConsumeError(wrapped, { topic: 'raw', features: WITHOUT_ZSTD, progress: [{ partition: 3, next: 40, high: 41 }] });
    expect(c.kind).toBe('undecompressable');
    if (c.kind !== 'undecompressable') return;
    expect(c.error).toBeInstanceOf(KafkaError);
    expect(c.error.role).toBe('consumer');
    expect(c.error.retriable).toBe(false);
    expect([c.error.topic, c.error.partition, c.error.offset]).toEqual(['raw', 3, 40]);
    expect(c.error.message).toContain('(librdkafka: Local: Not implemented, code -170)');
  });

  it('leaves other errors (and -170 on a build with every codec) to the usual retry', () => {
    const ctx = { topic: 'raw', features: [...WITHOUT_ZSTD, 'zstd'], progress: [] };
    expect(classifyConsumeError({ code: -195, message: 'Local: Broker transport failure' }, ctx).kind).toBe('other');
    expect(classifyConsumeError(NOT_IMPLEMENTED, ctx).kind).toBe('other');
  });

  it('reports the same stuck batch once', () => {
    const reports = new UndecompressableReports();
    const ctx = { topic: 'raw', features: WITHOUT_ZSTD, progress: [{ partition: 0, next: 7, high: 20 }] };
    const one = classifyConsumeError(NOT_IMPLEMENTED, ctx);
    const two = classifyConsumeError(NOT_IMPLEMENTED, ctx);
    if (one.kind !== 'undecompressable' || two.kind !== 'undecompressable') throw new Error('expected undecompressable');
    expect(reports.any).toBe(false);
    expect(reports.first(one.error)).toBe(true);
    expect(reports.first(two.error)).toBe(false);
    expect(reports.any).toBe(true);
  });
});
