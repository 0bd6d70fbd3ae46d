// The one Kafka error: what failed, where (topic, partition, offset), and how to treat it (fatal, retriable, abortable, unreachable).
//
// node-rdkafka reports failures as LibrdKafkaError values carrying librdkafka's own verdicts (isFatal, isRetriable,
// isTxnRequiresAbort). Every call in src/kafka turns them into a KafkaError, so the rest of LUX decides on typed fields
// instead of flags added here and there, and every message says which call failed on which topic/partition/offset.
import type { LibrdKafkaError } from 'node-rdkafka';
import { LuxError } from '../errors.js';

/** Which client failed: the pipeline replaces a producer that failed fatally, but ends on a consumer's fatal error. */
export type KafkaRole = 'producer' | 'consumer' | 'admin';

/** Where a failure happened, as far as it is known. */
export interface KafkaWhere {
  topic?: string;
  partition?: number;
  offset?: number;
}

export interface KafkaErrorOptions extends KafkaWhere {
  role: KafkaRole;
  cause?: unknown;
  /** the client is unusable (fenced, fatal state): end, or replace it */
  fatal?: boolean;
  /** the same call may succeed if repeated (a timeout, a broker away for a moment) */
  retriable?: boolean;
  /** the open transaction can only be aborted */
  abortable?: boolean;
  /** no broker answered: worth retrying with backoff, as opposed to an answer that refuses */
  unreachable?: boolean;
}

export class KafkaError extends LuxError {
  readonly role: KafkaRole;
  readonly retriable: boolean;
  readonly abortable: boolean;
  readonly unreachable: boolean;
  /** librdkafka's own error, when the failure came from it (its code, message and verdicts as reported) */
  readonly kafka: Readonly<LibrdKafkaError> | undefined;
  /** librdkafka's error code (Kafka.CODES.ERRORS), when the failure came from it */
  readonly rdkafkaCode: number | undefined;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: number | undefined;

  constructor(message: string, options: KafkaErrorOptions) {
    super('E_KAFKA', message, { cause: options.cause, fatal: options.fatal });
    this.name = 'KafkaError';
    this.role = options.role;
    this.retriable = options.retriable === true;
    this.abortable = options.abortable === true;
    this.unreachable = options.unreachable === true;
    const cause = options.cause as Partial<LibrdKafkaError> | undefined;
    const fromClient = cause !== undefined && cause !== null && typeof cause.code === 'number' && 'isFatal' in cause;
    this.kafka = fromClient ? (cause as LibrdKafkaError) : undefined;
    this.rdkafkaCode = typeof cause?.code === 'number' ? cause.code : undefined;
    this.topic = options.topic;
    this.partition = options.partition;
    this.offset = options.offset;
  }

  /**
   * Wraps what a node-rdkafka call reported: `what` names the call and its object (e.g. "commitTransaction",
   * "cannot rewind lux.raw/3 to offset 1200"); librdkafka's verdicts become the typed fields.
   */
  static from(what: string, err: unknown, role: KafkaRole, where: KafkaWhere = {}, extra: Partial<KafkaErrorOptions> = {}): KafkaError {
    if (err instanceof KafkaError) return err;
    const k = err as Partial<LibrdKafkaError> | undefined;
    const message = k?.message ?? String(err);
    return new KafkaError(`${what}: ${message}`, {
      role,
      cause: err,
      fatal: k?.isFatal === true,
      retriable: k?.isRetriable === true,
      abortable: k?.isTxnRequiresAbort === true,
      ...where,
      ...extra,
    });
  }
}

/** A fatal failure of the transactional producer: the one a pipeline may recover from by starting a new producer. */
export function isProducerFatal(err: unknown): boolean {
  return err instanceof KafkaError && err.isFatal && err.role === 'producer';
}

/** The brokers did not answer (start-up retries on this, and only on this). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof KafkaError && err.unreachable;
}

/** `topic/partition@offset` for log lines and messages, omitting what is unknown. */
export function describeWhere(where: KafkaWhere): string {
  let s = where.topic ?? '';
  if (where.partition !== undefined) s += `/${where.partition}`;
  if (where.offset !== undefined) s += `@${where.offset}`;
  return s;
}
