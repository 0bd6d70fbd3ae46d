// Typed errors with stable codes; each message locates the problem (file, row, column, key, topic, partition, offset).

export type LuxErrorCode =
  | 'E_USAGE' // bad command-line arguments
  | 'E_IO' // a file that cannot be read or written
  | 'E_REFDATA' // bad reference data (file, row, column)
  | 'E_REFDATA_UPDATE' // a bad update on the reference-data topic (topic, partition, offset)
  | 'E_CONFIG' // bad configuration (key, value, expected)
  | 'E_KAFKA' // the broker or a topic (src/kafka/errors.ts: KafkaError)
  | 'E_BROKER_SETUP' // the local development broker cannot be assembled or started
  | 'E_INTERNAL';

export interface LuxErrorOptions {
  cause?: unknown;
  /** the component that failed cannot go on (a dead thread, a fenced client): the pipeline ends with this error */
  fatal?: boolean;
}

export class LuxError extends Error {
  readonly code: LuxErrorCode;
  /** the failing component cannot be used any more; whoever catches it ends rather than retries */
  readonly isFatal: boolean;
  constructor(code: LuxErrorCode, message: string, options?: LuxErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.isFatal = options?.fatal === true;
    this.name = 'LuxError';
  }
}

/** A CSV reference-data error: `file:row:column: message` (row 1 is the header, as a spreadsheet counts). */
export class RefDataError extends LuxError {
  readonly file: string;
  readonly row: number;
  readonly column: string | undefined;
  constructor(file: string, row: number, column: string | undefined, message: string) {
    super('E_REFDATA', `${file}: row ${row}${column === undefined ? '' : `, column ${column}`}: ${message}`);
    this.file = file;
    this.row = row;
    this.column = column;
  }
}

/** Whether an error says its component is unusable (a LuxError marked fatal, or a KafkaError librdkafka calls fatal). */
export function isFatal(err: unknown): boolean {
  return err instanceof LuxError && err.isFatal;
}
