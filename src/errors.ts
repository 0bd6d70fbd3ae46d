// Typed errors with stable codes; each message locates the problem (file, row, column, key, topic, partition, offset).

export type LuxErrorCode =
  | 'E_USAGE' // bad command-line arguments
  | 'E_IO' // a file that cannot be read or written
  | 'E_REFDATA' // bad reference data (file, row, column)
  | 'E_REFDATA_UPDATE' // a bad update on the reference-data topic (topic, partition, offset)
  | 'E_CONFIG' // bad configuration (key, value, expected)
  | 'E_KAFKA' // the broker or a topic
  | 'E_BROKER_SETUP' // the local development broker cannot be assembled or started
  | 'E_INTERNAL';

export class LuxError extends Error {
  readonly code: LuxErrorCode;
  constructor(code: LuxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
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
