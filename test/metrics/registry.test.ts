// The metric set: names, types and labels as scraped from the registry's exposition text.
import { describe, expect, it } from 'vitest';
import { initLatency, LatencyMerger, LatencyRecorder, SlaChecker } from '../../src/metrics/latency.js';
import { LuxMetrics } from '../../src/metrics/registry.js';
import { Reason } from '../../src/decode/reasons.js';

/** `# TYPE name type` lines of an exposition text. */
function metricTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
  return types;
}

/** The value of one sample line, e.g. sample(text, 'lux_alarms_raised_total{rule="r1"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('LuxMetrics', () => {
  it('exports the metric set with lux_ names, base units and the right types', async () => {
    const m = new LuxMetrics({ rules: ['drops'], collectProcessMetrics: false });
    const types = metricTypes(await m.metrics());
    expect(Object.fromEntries(types)).toEqual({
      lux_frames_consumed_total: 'counter',
      lux_consumed_bytes_total: 'counter',
      lux_records_decoded_total: 'counter',
      lux_records_produced_total: 'counter',
      lux_frames_dead_lettered_total: 'counter',
      lux_consumer_lag_messages: 'gauge',
      lux_consume_undecompressable_batches_total: 'counter',
      lux_partitions_assigned: 'gauge',
      lux_transaction_duration_seconds: 'histogram',
      lux_ring_slots: 'gauge',
      lux_ring_slots_used: 'gauge',
      lux_ring_used_bytes: 'gauge',
      lux_workers: 'gauge',
      lux_worker_utilization_ratio: 'gauge',
      lux_refdata_snapshot_version: 'gauge',
      lux_refdata_rows: 'gauge',
      lux_refdata_last_update_timestamp_seconds: 'gauge',
      lux_refdata_last_update_age_seconds: 'gauge',
      lux_refdata_bad_updates_total: 'counter',
      lux_refdata_reload_failures_total: 'counter',
      lux_alarms_raised_total: 'counter',
      lux_alarms_cleared_total: 'counter',
      lux_alarms_suppressed_total: 'counter',
      lux_alarm_failures_counted_total: 'counter',
      lux_alarms_open: 'gauge',
      lux_alarm_late_records_total: 'counter',
      lux_webhook_deliveries_total: 'counter',
      lux_sla_breach: 'gauge',
      lux_sla_bound_seconds: 'gauge',
      lux_sla_percentile_seconds: 'gauge',
      lux_sla_max_seconds: 'gauge',
      lux_end_to_end_latency_seconds: 'summary',
      lux_stage_latency_seconds: 'summary',
    });
    for (const [name, type] of types) if (type === 'counter') expect(name).toMatch(/_total$/);
  });

  it('adds process metrics under the same prefix by default', async () => {
    const types = metricTypes(await new LuxMetrics().metrics());
    expect(types.get('lux_process_cpu_seconds_total')).toBe('counter');
    expect(types.get('lux_nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('updates through typed handles with bounded labels', async () => {
    const m = new LuxMetrics({ rules: ['drops'], collectProcessMetrics: false });
    m.framesConsumed.inc(10);
    m.deadLetter(Reason.CrcMismatch, 2);
    m.setAssignedPartitions([0, 3]);
    m.setLag(3, 42);
    m.transaction('committed', 0.03);
    m.refdataSnapshot(7, { equipment: 1200, vendors: 4 }, Date.now() - 5_000);
    m.rule('drops').raised.inc();
    m.rule('drops').open.inc();
    const text = await m.metrics();
    expect(sample(text, 'lux_frames_consumed_total')).toBe(10);
    expect(sample(text, 'lux_frames_dead_lettered_total{reason="crc_mismatch"}')).toBe(2);
    expect(sample(text, 'lux_frames_dead_lettered_total{reason="bad_magic"}')).toBe(0); // every reason present from the start
    expect(sample(text, 'lux_frames_dead_lettered_total{reason="ok"}')).toBeUndefined();
    expect(sample(text, 'lux_consumer_lag_messages{partition="3"}')).toBe(42);
    expect(sample(text, 'lux_partitions_assigned')).toBe(2);
    expect(sample(text, 'lux_transaction_duration_seconds_count{outcome="committed"}')).toBe(1);
    expect(sample(text, 'lux_refdata_rows{table="equipment"}')).toBe(1200);
    expect(sample(text, 'lux_refdata_snapshot_version')).toBe(7);
    expect(sample(text, 'lux_refdata_last_update_age_seconds')).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'lux_alarms_raised_total{rule="drops"}')).toBe(1);
    expect(sample(text, 'lux_alarms_cleared_total{rule="drops"}')).toBe(0);
    expect(sample(text, 'lux_alarms_open{rule="drops"}')).toBe(1);
    m.setAssignedPartitions([0]);
    expect(sample(await m.metrics(), 'lux_consumer_lag_messages{partition="3"}')).toBeUndefined();
  });

  it('publishes HDR quantiles as a summary and the SLA verdict as gauges', async () => {
    await initLatency();
    const m = new LuxMetrics({ collectProcessMetrics: false });
    const merger = new LatencyMerger();
    const r = new LatencyRecorder();
    r.record('event_to_commit', 2_000, 999);
    r.record('event_to_commit', 75_000);
    r.record('decode_enrich', 4);
    merger.add(r.snapshot());
    m.feedLatency(merger);
    m.sla(new SlaChecker({ seconds: 60, percentile: 99.9 }).check(merger), 60);
    const text = await m.metrics();
    expect(sample(text, 'lux_end_to_end_latency_seconds{clock="event",quantile="0.5"}')).toBeCloseTo(2, 2);
    expect(sample(text, 'lux_end_to_end_latency_seconds{clock="event",quantile="0.999"}')).toBeCloseTo(2, 2);
    expect(sample(text, 'lux_end_to_end_latency_seconds_count{clock="event"}')).toBe(1000);
    expect(sample(text, 'lux_stage_latency_seconds{stage="decode_enrich",quantile="0.99"}')).toBeCloseTo(0.004, 3);
    expect(sample(text, 'lux_sla_breach')).toBe(1); // the max (75 s) breaks the 60 s bound
    expect(sample(text, 'lux_sla_max_seconds')).toBeCloseTo(75, 0);
    r.destroy();
    merger.destroy();
  });
});
