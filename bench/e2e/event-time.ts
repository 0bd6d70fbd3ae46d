// Reads a record's event time straight from its bytes, for the latency probe: the enriched JSON's leading ISO time (digits, no JSON.parse, no string) or an LXE1 frame's first event_time.

/** `{"event_time":"` opens every enriched record (src/enrich/record-json.ts), then the 24-character ISO time. */
export const JSON_EVENT_TIME_AT = 15;
/** Header (16 bytes), then the first record's event_time at record offset 4 (SPEC section 1). */
const LXE1_EVENT_TIME_AT = 20;
const LXE1_RECORD_COUNT_AT = 6;
/** 'YYYY-MM-DDTHH:MM' changes once a minute: parsed then, compared byte by byte otherwise. */
const MINUTE_CHARS = 16;

export type ProbeFormat = 'json' | 'lxe1';

/** Parses event times; keeps the current minute's prefix so most records cost a 16-byte compare and a few digits. */
export class EventTimeReader {
  private readonly prefix = Buffer.alloc(MINUTE_CHARS);
  private prefixMs = NaN;

  constructor(readonly format: ProbeFormat) {}

  /** The event time (ms since the epoch) of the message, or NaN when the bytes do not hold one. */
  timeOf(v: Buffer): number {
    return this.format === 'json' ? this.jsonTime(v) : lxe1Time(v);
  }

  /** Records the message stands for: 1 for an enriched record, the header's record count for a frame. */
  weightOf(v: Buffer): number {
    return this.format === 'json' || v.length < LXE1_RECORD_COUNT_AT + 2 ? 1 : v.readUInt16BE(LXE1_RECORD_COUNT_AT);
  }

  private jsonTime(v: Buffer): number {
    const a = JSON_EVENT_TIME_AT;
    if (v.length < a + 24 || v[a + 23] !== 0x5a /* Z */) return NaN;
    if (v.compare(this.prefix, 0, MINUTE_CHARS, a, a + MINUTE_CHARS) !== 0) {
      const ms = Date.parse(`${v.toString('latin1', a, a + MINUTE_CHARS)}:00.000Z`);
      if (Number.isNaN(ms)) return NaN;
      v.copy(this.prefix, 0, a, a + MINUTE_CHARS);
      this.prefixMs = ms;
    }
    // 'YYYY-MM-DDTHH:MM:SS.mmmZ': seconds at 17-18, milliseconds at 20-22 ('0' is 48)
    return this.prefixMs + ((v[a + 17]! - 48) * 10 + v[a + 18]! - 48) * 1000 + (v[a + 20]! - 48) * 100 + (v[a + 21]! - 48) * 10 + v[a + 22]! - 48;
  }
}

function lxe1Time(v: Buffer): number {
  if (v.length < LXE1_EVENT_TIME_AT + 8 || v[0] !== 0x4c || v[1] !== 0x58 || v[2] !== 0x45 || v[3] !== 0x31) return NaN;
  return v.readUInt32BE(LXE1_EVENT_TIME_AT) * 4294967296 + v.readUInt32BE(LXE1_EVENT_TIME_AT + 4);
}
