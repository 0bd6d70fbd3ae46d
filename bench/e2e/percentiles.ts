// The percentile curve of an HDR histogram, for the report's latency-by-percentile plot (x axis in nines).
import type { Histogram } from 'hdr-histogram-js';

/** Percentiles evenly spaced in nines, 0 to 5 nines (99.999%), then [100, max]. */
export function percentileCurve(h: Histogram): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (h.totalCount === 0) return out;
  for (let nines = 0; nines <= 5.0001; nines += 0.05) {
    const p = 100 * (1 - 10 ** -nines);
    out.push([p, h.getValueAtPercentile(p)]);
  }
  out.push([100, h.maxValue]);
  return out;
}
