// Typed errors of the KPI engine: bytes that do not read as partials or state (naming the shard, offset or key), and misuse of its interfaces.
import { LuxError } from '../errors.js';

/** What is wrong with a partials message, a batch's partials or a state value (stable, for metrics and tests). */
export type KpiFormatReason =
  | 'bad_magic'
  | 'bad_version'
  | 'truncated'
  | 'bad_varint'
  | 'bad_value'
  | 'trailing_bytes'
  | 'window_mismatch'
  | 'shard_mismatch';

/** Where the bytes came from: the partials topic's shard and offset, a state key, or a batch. */
export interface KpiBytesOrigin {
  readonly what: string;
  readonly shard?: number;
  readonly offset?: number;
}

export function describeOrigin(o: KpiBytesOrigin): string {
  const at: string[] = [];
  if (o.shard !== undefined) at.push(`shard ${o.shard}`);
  if (o.offset !== undefined) at.push(`offset ${o.offset}`);
  return at.length === 0 ? o.what : `${o.what} (${at.join(', ')})`;
}

/** Bytes that cannot be read: the message names the origin, the byte position and what was expected. */
export class KpiFormatError extends LuxError {
  readonly reason: KpiFormatReason;
  readonly shard: number | undefined;
  readonly offset: number | undefined;
  constructor(origin: KpiBytesOrigin, reason: KpiFormatReason, message: string) {
    super('E_INTERNAL', `${describeOrigin(origin)}: ${message}`);
    this.name = 'KpiFormatError';
    this.reason = reason;
    this.shard = origin.shard;
    this.offset = origin.offset;
  }
}

/** A call the KPI engine cannot honour in its current state (a programming error of the caller). */
export class KpiUsageError extends LuxError {
  constructor(message: string) {
    super('E_INTERNAL', `kpis: ${message}`);
    this.name = 'KpiUsageError';
  }
}
