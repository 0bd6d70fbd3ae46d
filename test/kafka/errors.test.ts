// The one Kafka error: librdkafka's verdicts become typed fields, the message says which call failed where.
import { describe, expect, it } from 'vitest';
import { describeWhere, isProducerFatal, isUnreachable, KafkaError } from '../../src/kafka/errors.js';
import { isFatal, LuxError } from '../../src/errors.js';

/** What node-rdkafka hands a callback. */
function rdkafka(message: string, code: number, flags: { isFatal?: boolean; isRetriable?: boolean; isTxnRequiresAbort?: boolean } = {}) {
  return Object.assign(new Error(message), { code, errno: code, origin: 'kafka', isFatal: false, isRetriable: false, isTxnRequiresAbort: false, ...flags });
}

describe('KafkaError', () => {
  it("carries librdkafka's verdicts, its code and where the call failed", () => {
    const e = KafkaError.from('commitTransaction failed', rdkafka('Broker: Producer fenced', 90, { isFatal: true }), 'producer', { topic: 'lux.raw', partition: 3 });
    expect(e).toBeInstanceOf(LuxError);
    expect(e.code).toBe('E_KAFKA');
    expect(e.message).toBe('commitTransaction failed: Broker: Producer fenced');
    expect(e.isFatal).toBe(true);
    expect(e.rdkafkaCode).toBe(90);
    expect(e.kafka?.isFatal).toBe(true);
    expect([e.topic, e.partition, e.offset]).toEqual(['lux.raw', 3, undefined]);
    expect(isFatal(e)).toBe(true);
    expect(isProducerFatal(e)).toBe(true);
  });

  it('tells a retriable call from one whose transaction must be aborted, and a consumer from a producer', () => {
    const timeout = KafkaError.from('commitTransaction failed', rdkafka('Local: Timed out', -185, { isRetriable: true }), 'producer');
    expect([timeout.retriable, timeout.abortable, timeout.isFatal]).toEqual([true, false, false]);
    const abort = KafkaError.from('sendOffsetsToTransaction failed', rdkafka('Broker: invalid', 1, { isTxnRequiresAbort: true }), 'producer');
    expect(abort.abortable).toBe(true);
    const consumer = KafkaError.from('consume', rdkafka('fatal', -150, { isFatal: true }), 'consumer');
    expect(isFatal(consumer)).toBe(true);
    expect(isProducerFatal(consumer)).toBe(false);
  });

  it('marks a broker that does not answer, for the start-up retries', () => {
    const e = new KafkaError('cannot connect the consumer to k:9092 within 30000 ms: timed out', { role: 'consumer', unreachable: true });
    expect(isUnreachable(e)).toBe(true);
    expect(isUnreachable(new LuxError('E_KAFKA', "topic 'x' does not exist"))).toBe(false);
    expect(e.kafka).toBeUndefined();
  });

  it('wraps a wrapped error only once, and locates it as topic/partition@offset', () => {
    const inner = new KafkaError('x', { role: 'admin' });
    expect(KafkaError.from('again', inner, 'producer')).toBe(inner);
    expect(describeWhere({ topic: 'lux.raw', partition: 2, offset: 1200 })).toBe('lux.raw/2@1200');
    expect(describeWhere({ topic: 'lux.raw' })).toBe('lux.raw');
  });
});
