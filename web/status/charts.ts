// The two time-series charts (uPlot, canvas): throughput in/out, and latency p50/p99/max against the SLA line on a log scale.
import uPlot from 'uplot';
import type { StatusDocument } from '../../src/status/status-document.js';

const HEIGHT = 220;
/** the x axis spans a minute at least, so a page opened on a young daemon shows whole seconds, not fractions */
const X_SCALE: uPlot.Scale = { time: true, range: (_u, min, max) => [Math.min(min, max - 60), max] };

function width(host: HTMLElement): number {
  return Math.max(280, host.clientWidth);
}

function fmtMs(v: number | null): string {
  if (v === null || v === undefined) return '–';
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)} s` : `${Math.round(v)} ms`;
}

export class Charts {
  private throughput: uPlot | undefined;
  private latency: uPlot | undefined;

  constructor(
    private readonly throughputHost: HTMLElement,
    private readonly latencyHost: HTMLElement,
  ) {
    // one listener for the page's life; the charts are resized, never rebuilt
    window.addEventListener('resize', () => {
      this.throughput?.setSize({ width: width(this.throughputHost), height: HEIGHT });
      this.latency?.setSize({ width: width(this.latencyHost), height: HEIGHT });
    });
  }

  update(doc: StatusDocument): void {
    const th = doc.throughput.history;
    const tData: uPlot.AlignedData = [th.t, th.frames_in_per_s, th.records_out_per_s];
    if (this.throughput === undefined) {
      this.throughput = new uPlot(
        {
          width: width(this.throughputHost),
          height: HEIGHT,
          legend: { live: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: X_SCALE, y: { range: (_u, _min, max) => [0, Math.max(10, max * 1.1)] } },
          axes: [{}, { size: 60, values: (_u, vals) => vals.map((v) => (v >= 1000 ? `${v / 1000}k` : String(v))) }],
          series: [{}, { label: 'frames in /s', stroke: '#2b6cb0', width: 1.5 }, { label: 'records out /s', stroke: '#1d8a4e', width: 1.5 }],
        },
        tData,
        this.throughputHost,
      );
    } else this.throughput.setData(tData);

    const lh = doc.latency.history;
    const slaMs = doc.latency.sla.seconds * 1000;
    const lData: uPlot.AlignedData = [lh.t, lh.p50_ms, lh.p99_ms, lh.max_ms, lh.t.map(() => slaMs)];
    if (this.latency === undefined) {
      this.latency = new uPlot(
        {
          width: width(this.latencyHost),
          height: HEIGHT,
          legend: { live: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: X_SCALE, y: { distr: 3, log: 10, range: (_u, _min, max) => [1, Math.max(slaMs * 2, max * 2)] } },
          axes: [{}, { size: 60, values: (_u, vals) => vals.map((v) => fmtMs(v)) }],
          series: [
            {},
            { label: 'p50', stroke: '#1d8a4e', width: 1.5, spanGaps: false },
            { label: 'p99', stroke: '#b7791f', width: 1.5, spanGaps: false },
            { label: 'max', stroke: '#c53030', width: 1, spanGaps: false },
            { label: `SLA ${doc.latency.sla.seconds} s`, stroke: '#6b7385', width: 1.5, dash: [6, 4], points: { show: false } },
          ],
        },
        lData,
        this.latencyHost,
      );
    } else this.latency.setData(lData);
  }
}
