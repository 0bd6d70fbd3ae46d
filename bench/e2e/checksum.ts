// An order-independent checksum of a multiset of message values: count plus the sum, modulo 2^64, of each value's SHA-1 prefix.
import { hash } from 'node:crypto';

/**
 * Sum rather than XOR, so that a value written twice changes the checksum instead of cancelling out; order-free, so
 * output spread over partitions (and interleaved across them) compares with the input taken in any order.
 */
export class ValueChecksum {
  count = 0;
  private hi = 0;
  private lo = 0;

  add(value: Uint8Array | null): void {
    const h = hash('sha1', value ?? new Uint8Array(0), 'buffer') as unknown as Buffer;
    const lo = this.lo + h.readUInt32BE(4);
    this.lo = lo % 4294967296;
    this.hi = (this.hi + h.readUInt32BE(0) + Math.floor(lo / 4294967296)) % 4294967296;
    this.count++;
  }

  /** 16 hex digits */
  get digest(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }

  equals(other: ValueChecksum): boolean {
    return this.count === other.count && this.digest === other.digest;
  }
}
