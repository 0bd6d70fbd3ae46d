// Dead-letter reasons (SPEC section 1): the numeric codes the WASM decoder writes and the names that leave the process.

export const Reason = {
  Ok: 0,
  Truncated: 1,
  BadMagic: 2,
  BadVersion: 3,
  BadFlags: 4,
  EmptyFrame: 5,
  BadRecordLength: 6,
  BadTlv: 7,
  BadImsi: 8,
  BadTime: 9,
  BadUtf8: 10,
  CrcMismatch: 11,
  TrailingBytes: 12,
} as const;

/** Index = Reason code. */
export const REASON_NAMES: readonly string[] = [
  'ok',
  'truncated',
  'bad_magic',
  'bad_version',
  'bad_flags',
  'empty_frame',
  'bad_record_length',
  'bad_tlv',
  'bad_imsi',
  'bad_time',
  'bad_utf8',
  'crc_mismatch',
  'trailing_bytes',
];

export function reasonName(code: number): string {
  const name = REASON_NAMES[code];
  if (name === undefined || code === 0) throw new RangeError(`not a dead-letter reason code: ${code}`);
  return name;
}
