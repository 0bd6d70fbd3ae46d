// The report's period: `--since 24h` (ending now) or `--from ISO --to ISO`, checked with a message naming the bad option.
import { LuxError } from '../errors.js';

export interface Period {
  fromMs: number;
  toMs: number;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `15m`, `24h`, `7d`, `2w` → milliseconds. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (m === null) throw new LuxError('E_USAGE', `report: --${option} expects a duration such as 90m, 24h or 7d, got '${text}'`);
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (!(ms > 0)) throw new LuxError('E_USAGE', `report: --${option} must be longer than 0, got '${text}'`);
  return ms;
}

function parseTime(text: string, option: string): number {
  // ISO-8601 with a date; a bare date is midnight UTC, a time without a zone is taken as UTC
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    throw new LuxError('E_USAGE', `report: --${option} expects an ISO-8601 time such as 2026-11-26T00:00:00Z, got '${text}'`);
  }
  const t = text.trim();
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(t) || t.length === 10 ? t : `${t}Z`;
  const ms = Date.parse(withZone.replace(' ', 'T'));
  if (Number.isNaN(ms)) throw new LuxError('E_USAGE', `report: --${option} is not a valid time: '${text}'`);
  return ms;
}

/** Exactly one of --since or --from/--to; --to defaults to now with --from. */
export function parsePeriod(opts: { since?: string; from?: string; to?: string }, nowMs: number = Date.now()): Period {
  if (opts.since !== undefined && (opts.from !== undefined || opts.to !== undefined)) {
    throw new LuxError('E_USAGE', 'report: give either --since or --from/--to, not both');
  }
  if (opts.since !== undefined) return { fromMs: nowMs - parseDuration(opts.since, 'since'), toMs: nowMs };
  if (opts.from === undefined) {
    if (opts.to !== undefined) throw new LuxError('E_USAGE', 'report: --to needs --from');
    throw new LuxError('E_USAGE', 'report: missing the period: --since DURATION (e.g. 24h) or --from ISO [--to ISO]');
  }
  const fromMs = parseTime(opts.from, 'from');
  if (fromMs > nowMs) throw new LuxError('E_USAGE', `report: --from ${new Date(fromMs).toISOString()} is in the future`);
  const toMs = opts.to === undefined ? nowMs : parseTime(opts.to, 'to');
  if (toMs <= fromMs) {
    throw new LuxError('E_USAGE', `report: the period is empty or reversed: --from ${new Date(fromMs).toISOString()} is not before --to ${new Date(toMs).toISOString()}`);
  }
  return { fromMs, toMs };
}

/** The chart bucket: the smallest of `choices` (seconds) giving at most `max` buckets. */
export function bucketSeconds(period: Period, choices: readonly number[], max: number): number {
  const span = (period.toMs - period.fromMs) / 1000;
  for (const s of choices) if (span / s <= max) return s;
  return choices[choices.length - 1]!;
}
