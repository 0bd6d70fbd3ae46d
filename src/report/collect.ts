// Reads one period from the KPI, alarm, dead-letter and (optionally) enriched topics and tallies it into the report's JSON summary.
import { parseAlarmMessage } from './alarm-message.js';
import { AlarmTally } from './alarm-tally.js';
import { Buckets } from './buckets.js';
import { DeadLetterTally } from './dead-letter-tally.js';
import { parseKpiMessage } from './kpi-message.js';
import { KpiTrends } from './kpi-trends.js';
import { LatencySample } from './latency-sample.js';
import { bucketSeconds, type Period } from './period.js';
import { REPORT_DEFAULTS } from './report-defaults.js';
import { REPORT_VERSION, type ReportSummary } from './report-summary.js';
import { TopicReader } from './topic-reader.js';

export interface ReportSources {
  brokers: string;
  kpisTopic: string;
  alarmsTopic: string;
  dlqTopic: string;
  enrichedTopic: string | undefined;
  /** librdkafka properties (the config's kafka.extra: security settings) */
  kafkaExtra?: Record<string, string | number | boolean>;
}

export interface CollectOptions {
  slaSeconds: number;
  latencySamplesPerBucket?: number;
  progress?: (line: string) => void;
  nowMs?: number;
}

export async function collectReport(sources: ReportSources, period: Period, options: CollectOptions): Promise<ReportSummary> {
  const say = options.progress ?? (() => {});
  const buckets = new Buckets(period.fromMs, period.toMs, bucketSeconds(period, REPORT_DEFAULTS.bucketSeconds, REPORT_DEFAULTS.maxBuckets));
  const reader = new TopicReader(sources.brokers, REPORT_DEFAULTS.brokerTimeoutMs, sources.kafkaExtra);
  try {
    await reader.connect();
    // every topic is checked before anything is read, so a typo fails at once
    const kpiParts = await reader.partitions(sources.kpisTopic, '--kpis-topic');
    const alarmParts = await reader.partitions(sources.alarmsTopic, '--alarms-topic');
    const dlqParts = await reader.partitions(sources.dlqTopic, '--dlq-topic');
    const enrichedParts = sources.enrichedTopic === undefined ? undefined : await reader.partitions(sources.enrichedTopic, '--enriched-topic');

    const alarms = new AlarmTally(buckets);
    const nAlarms = await reader.read(sources.alarmsTopic, await reader.period(sources.alarmsTopic, alarmParts, period.fromMs, period.toMs), (m) => {
      if (m.value !== null) alarms.add(parseAlarmMessage(m.value.toString('utf8'), `${m.topic} partition ${m.partition} offset ${m.offset}`));
    });
    say(`${sources.alarmsTopic}: ${nAlarms} alarms`);

    const kpis = new KpiTrends(buckets);
    for (const [id, name] of alarms.equipmentNames) kpis.equipmentNames.set(id, name);
    const nKpis = await reader.read(sources.kpisTopic, await reader.period(sources.kpisTopic, kpiParts, period.fromMs, period.toMs), (m) => {
      if (m.value !== null) kpis.add(parseKpiMessage(m.value.toString('utf8'), `${m.topic} partition ${m.partition} offset ${m.offset}`));
    });
    say(`${sources.kpisTopic}: ${nKpis} KPI messages`);

    const dead = new DeadLetterTally(buckets, REPORT_DEFAULTS.deadLetterExamples);
    const nDead = await reader.read(sources.dlqTopic, await reader.period(sources.dlqTopic, dlqParts, period.fromMs, period.toMs), (m) => dead.add(m));
    say(`${sources.dlqTopic}: ${nDead} dead letters`);

    let latency: LatencySample | undefined;
    let nSamples = 0;
    if (sources.enrichedTopic !== undefined && enrichedParts !== undefined) {
      latency = new LatencySample(buckets, options.slaSeconds);
      const perBucket = options.latencySamplesPerBucket ?? REPORT_DEFAULTS.latencySamplesPerBucket;
      for (let i = 0; i < buckets.count; i++) {
        const from = Math.max(period.fromMs, buckets.start(i));
        const to = Math.min(period.toMs, buckets.start(i + 1));
        if (to <= from) continue;
        const ranges = await reader.period(sources.enrichedTopic, enrichedParts, from, to);
        nSamples += await reader.read(sources.enrichedTopic, ranges, (m) => latency!.add(m), perBucket);
      }
      say(`${sources.enrichedTopic}: ${nSamples} records sampled for latency`);
    }

    return {
      report_version: REPORT_VERSION,
      generated_at: new Date(options.nowMs ?? Date.now()).toISOString(),
      period: { from: new Date(period.fromMs).toISOString(), to: new Date(period.toMs).toISOString(), bucket_seconds: buckets.seconds },
      sources: {
        brokers: sources.brokers,
        kpis_topic: sources.kpisTopic,
        alarms_topic: sources.alarmsTopic,
        dlq_topic: sources.dlqTopic,
        enriched_topic: sources.enrichedTopic ?? null,
        messages: { kpis: nKpis, alarms: nAlarms, dead_letters: nDead, latency_samples: nSamples },
      },
      throughput: kpis.throughput(),
      kpis: kpis.summary({ worst: REPORT_DEFAULTS.worst, minAttempts: REPORT_DEFAULTS.worstMinAttempts }),
      alarms: alarms.summary(REPORT_DEFAULTS.worst),
      dead_letters: dead.summary(),
      latency: latency?.summary() ?? null,
    };
  } finally {
    await reader.close();
  }
}
