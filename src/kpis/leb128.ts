// LEB128 byte cursors for the KPI formats: unsigned varints up to 2^53, zigzag for signed values, a growable writer and a reader that locates every error.
//
// Numbers are JavaScript doubles: counts, sums of bytes and event times are integers up to 2^53, so varints are built
// with arithmetic beyond 31 bits rather than with bit operators (which would wrap at 32).
import { KpiFormatError, type KpiBytesOrigin } from './errors.js';

const TWO_31 = 2147483648;
/** 8 varint bytes carry 56 bits: enough for any safe integer. */
const MAX_VARINT_BYTES = 8;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Zigzag: small magnitudes of either sign stay small (0, -1, 1, -2 → 0, 1, 2, 3). */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function unzigzag(u: number): number {
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** A growable byte buffer. Reused across messages: `reset` keeps its memory. */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(initialBytes);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** An unsigned integer 0 ≤ v ≤ 2^53 as LEB128. */
  uint(v: number): void {
    this.ensure(MAX_VARINT_BYTES);
    const b = this.buf;
    let p = this.pos;
    if (v < TWO_31) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        const low = v % 128;
        b[p++] = low | 0x80;
        v = (v - low) / 128;
      }
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A signed integer as a zigzag varint. */
  sint(v: number): void {
    this.uint(zigzag(v));
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** A string as its UTF-8 byte length and bytes. */
  text(s: string): void {
    const b = utf8.encode(s);
    this.uint(b.length);
    this.bytes(b);
  }

  /** The bytes written, copied into a buffer of their own. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Reads bytes[start, end); every failure throws KpiFormatError naming the origin and the byte position. */
export class ByteReader {
  bytes: Uint8Array;
  pos: number;
  end: number;
  origin: KpiBytesOrigin;

  constructor(bytes: Uint8Array, origin: KpiBytesOrigin, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.origin = origin;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(reason: ConstructorParameters<typeof KpiFormatError>[1], message: string): never {
    throw new KpiFormatError(this.origin, reason, `${message} at byte ${this.pos}`);
  }

  u8(what: string): number {
    if (this.pos >= this.end) this.fail('truncated', `truncated: ${what} missing`);
    return this.bytes[this.pos++];
  }

  uint(what: string): number {
    const b = this.bytes;
    let p = this.pos;
    let v = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (p >= this.end) this.fail('truncated', `truncated: ${what} missing`);
      const byte = b[p++];
      v += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) this.fail('bad_varint', `${what} exceeds 2^53`);
        this.pos = p;
        return v;
      }
      scale *= 128;
    }
    return this.fail('bad_varint', `${what} is a varint longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** An unsigned varint that must not exceed `max`. */
  uintMax(what: string, max: number): number {
    const at = this.pos;
    const v = this.uint(what);
    if (v > max) {
      this.pos = at;
      this.fail('bad_value', `${what} ${v} is above ${max}`);
    }
    return v;
  }

  sint(what: string): number {
    return unzigzag(this.uint(what));
  }

  /** `n` bytes as a view (no copy). */
  view(n: number, what: string): Uint8Array {
    if (n > this.end - this.pos) this.fail('truncated', `truncated: ${what} needs ${n} bytes, ${this.end - this.pos} left`);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A length-prefixed UTF-8 string (invalid UTF-8 is an error). */
  text(what: string): string {
    const n = this.uint(`${what} length`);
    const at = this.pos;
    const v = this.view(n, what);
    try {
      return strictUtf8.decode(v);
    } catch {
      this.pos = at;
      return this.fail('bad_value', `${what} is not valid UTF-8`);
    }
  }

  /** The 4-byte magic and the version byte; throws naming what was expected. */
  header(magic: number, version: number, what: string): void {
    if (this.end - this.pos < 5) this.fail('truncated', `truncated: shorter than a ${what} header`);
    const b = this.bytes;
    const p = this.pos;
    const m = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
    if (m !== magic) this.fail('bad_magic', `bad magic (not a ${what})`);
    this.pos = p + 4;
    const v = b[this.pos];
    if (v !== version) this.fail('bad_version', `unsupported ${what} version ${v} (this build reads ${version})`);
    this.pos++;
  }

  /** Nothing may follow. */
  done(what: string): void {
    if (this.pos !== this.end) this.fail('trailing_bytes', `${this.end - this.pos} bytes after the end of the ${what}`);
  }
}

/** Writes a 4-byte magic (big-endian, so it reads as text in a hex dump) and a version byte. */
export function writeHeader(w: ByteWriter, magic: number, version: number): void {
  w.ensure(5);
  const b = w.buf;
  const p = w.pos;
  b[p] = magic >>> 24;
  b[p + 1] = (magic >>> 16) & 0xff;
  b[p + 2] = (magic >>> 8) & 0xff;
  b[p + 3] = magic & 0xff;
  b[p + 4] = version;
  w.pos = p + 5;
}
