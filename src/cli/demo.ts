// `lux demo` (what `npm start` runs): the main job on the embedded default — local broker, sample reference data, generator at the seed system's peak, the daemon, live progress, a summary.
import fs from 'node:fs';
import path from 'node:path';
import { kafkaConnection } from '../kafka/client.js';
import { existingTopics } from '../kafka/metadata.js';
import { createTopics, deleteTopics } from '../kafka/topics.js';
import { parseOptions, nonNegative, positiveInt } from './args.js';
import { startBroker } from '../kafka-local/broker.js';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../service/logger.js';
import { startDaemon } from '../daemon.js';
import { runGenerator, type GenSummary } from '../gen/generator.js';
import { TRAFFIC_DEFAULTS } from '../gen/traffic.js';
import { ROOT, STATE_DIR } from '../paths.js';
import type { LatencyStats } from '../metrics/latency.js';
import { STATUS_DEFAULTS } from '../status/status-defaults.js';
import type { KpiMessage } from '../report/kpi-message.js';

const USAGE = 'usage: lux demo [--duration SECONDS] [--rate RECORDS_PER_S] [--partitions N] [--workers N]';
const TOPIC_PREFIX = 'lux.demo.';
/** KPI windows of the demo: short, so half a minute shows some */
const KPI_WINDOW_MS = 10_000;
/** the live line's latency window, seconds */
const RECENT_S = STATUS_DEFAULTS.latencyWindowMs / 1000;
/** failures one equipment emits in a generator burst (within 3 s), every 15 s */
const BURST_FAILURES = 300;
/** share of failed records outside bursts */
const BACKGROUND_FAILURES = 0.005;

export async function demoCommand(argv: string[]): Promise<number> {
  const opts = parseOptions('demo', argv, {
    duration: { type: 'string' },
    rate: { type: 'string' },
    partitions: { type: 'string' },
    workers: { type: 'string' },
  });
  if (opts.help) {
    process.stdout.write(
      `${USAGE}\n\nStarts the local broker, creates fresh demo topics, loads examples/refdata, generates LXE1 traffic at\n--rate records/s (default 40000, the seed system's peak) and runs the daemon on it, printing progress every second,\nuntil Ctrl-C or --duration (default: until Ctrl-C), then a summary.\n`,
    );
    return 0;
  }
  const durationS = nonNegative('demo', 'duration', opts.duration, 0);
  const rate = positiveInt('demo', 'rate', opts.rate, 40000);
  const partitions = positiveInt('demo', 'partitions', opts.partitions, 3);
  const say = (line: string) => process.stdout.write(`${line}\n`);

  say('lux demo: starting the local Kafka broker (the first run assembles it with Maven)…');
  const brokers = await startBroker();
  const run = Date.now().toString(36);
  const topics = {
    raw: `${TOPIC_PREFIX}${run}.raw`,
    enriched: `${TOPIC_PREFIX}${run}.enriched`,
    dlq: `${TOPIC_PREFIX}${run}.dlq`,
    alarms: `${TOPIC_PREFIX}${run}.alarms`,
    kpis: `${TOPIC_PREFIX}${run}.kpis`,
  };
  await recreateDemoTopics(brokers, Object.values(topics), partitions);

  // The demo rule flags the generator's bursts, not its steady background of failures: over a 10 s window an
  // equipment fails `baseline` times on average, and the busiest (the generator's activity weights) up to ~5× that;
  // a burst adds BURST_FAILURES within 3 s.
  const baseline = (rate * BACKGROUND_FAILURES * 10) / TRAFFIC_DEFAULTS.equipment;
  const threshold = Math.ceil(baseline * 6 + BURST_FAILURES / 2);
  const clearBelow = Math.ceil(baseline * 6 + BURST_FAILURES / 8);
  const dir = path.join(STATE_DIR, 'demo');
  fs.mkdirSync(dir, { recursive: true });
  const configText = [
    'kafka:',
    `  brokers: "${brokers}"`,
    `  group_id: lux-demo-${run}`,
    `  transactional_id: lux-demo-${run}`,
    // the daemon creates what the demo did not: the compacted refdata and alarm-state topics
    '  create_topics: true',
    `  topic_partitions: ${partitions}`,
    'topics:',
    ...Object.entries(topics).map(([k, v]) => `  ${k}: ${v}`),
    `  refdata: ${TOPIC_PREFIX}${run}.refdata`,
    `  alarm_state: ${TOPIC_PREFIX}${run}.alarm-state`,
    `  kpi_partials: ${TOPIC_PREFIX}${run}.kpi-partials`,
    `  kpi_state: ${TOPIC_PREFIX}${run}.kpi-state`,
    'refdata:',
    `  dir: ${path.join(ROOT, 'examples', 'refdata')}`,
    'alarms:',
    '  rules:',
    `    - { name: failure_burst, window_ms: 10000, slide_ms: 5000, threshold: ${threshold}, clear_below: ${clearBelow}, lateness_ms: 2000 }`,
    // short KPI windows, so a demo of half a minute shows some
    'kpis:',
    `  window_ms: ${KPI_WINDOW_MS}`,
    '  lateness_ms: 2000',
    ...(opts.workers === undefined ? [] : ['pipeline:', `  workers: ${positiveInt('demo', 'workers', opts.workers, 1)}`]),
    'http:',
    '  port: 0',
    'log:',
    '  level: warn',
    '',
  ].join('\n');
  const configFile = path.join(dir, 'lux.yaml');
  fs.writeFileSync(configFile, configText);
  const config = parseConfig(configText, configFile);
  const daemon = await startDaemon(config, createLogger(config.log.level));
  say(`lux demo: daemon running (config ${path.relative(process.cwd(), configFile)}, metrics ${daemon.http.url}/metrics)`);
  say(`lux demo: status page ${daemon.http.url}/ (open it in a browser; the same data at ${daemon.http.url}/status.json)`);
  say(`lux demo: generating ${rate} records/s into ${topics.raw}; Ctrl-C to stop${durationS > 0 ? ` (or after ${durationS} s)` : ''}`);

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = durationS > 0 ? setTimeout(() => stop.abort(), durationS * 1000) : undefined;

  const started = Date.now();
  const generating = runGenerator({ brokers, topic: topics.raw, rate, quiet: true, traffic: { failureShare: BACKGROUND_FAILURES, burstEveryMs: 15000, burstFailures: BURST_FAILURES } }, stop.signal);
  let last = { t: started, records: 0 };
  let peak = 0;
  const progress = setInterval(() => {
    const c = daemon.pipeline.counters;
    const now = Date.now();
    const perS = ((c.recordsOut - last.records) * 1000) / Math.max(1, now - last.t);
    peak = Math.max(peak, perS);
    last = { t: now, records: c.recordsOut };
    const lag = [...daemon.pipeline.lag().values()].reduce((a, b) => a + b, 0);
    // the last few seconds, so a start-up spike leaves the line once it is over (the summary keeps the whole minute)
    const recent = daemon.recentLatency('kafka_to_commit');
    const lat = recent === null ? { p50: '–', p99: '–' } : { p50: `${recent.p50_ms} ms`, p99: `${recent.p99_ms} ms` };
    say(
      `${fmtSeconds(now - started)}  ${fmt(perS)} records/s  lag ${fmt(lag)}  latency (last ${RECENT_S} s) p50 ${lat.p50} p99 ${lat.p99}  records ${fmt(c.recordsOut)}  dead letters ${fmt(c.deadLetters)}  alarms ${fmt(c.alarms)}`,
    );
    const kpiLine = kpiSummary(daemon.kpis());
    if (kpiLine !== undefined && kpiLine !== lastKpiLine) say(`${' '.repeat(6)}${kpiLine}`);
    if (kpiLine !== undefined) lastKpiLine = kpiLine;
  }, 1000);
  let lastKpiLine: string | undefined;

  let gen: GenSummary | undefined;
  let genError: unknown;
  try {
    gen = await generating;
  } catch (err) {
    genError = err;
  }
  // Let the daemon catch up with what was generated, then drain and commit.
  const deadline = Date.now() + 15000;
  while (gen !== undefined && daemon.pipeline.counters.recordsOut < gen.records && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  clearInterval(progress);
  clearTimeout(timer);
  const lat = latency(daemon.latency('kafka_to_commit'));
  await daemon.stop();

  const c = daemon.pipeline.counters;
  const secs = (Date.now() - started) / 1000;
  say('');
  say('lux demo summary');
  say(`  ran               ${secs.toFixed(1)} s`);
  if (gen !== undefined) say(`  generated         ${fmt(gen.frames)} frames, ${fmt(gen.records)} good records, ${fmt(gen.badFrames)} bad frames`);
  say(`  enriched          ${fmt(c.recordsOut)} records, exactly once, into ${topics.enriched} (peak ${fmt(peak)} records/s)`);
  say(`  dead letters      ${fmt(c.deadLetters)} frames into ${topics.dlq}${deadLetterBreakdown(c.deadLettersByReason)}`);
  say(`  alarms            ${fmt(c.alarms)} into ${topics.alarms}`);
  say(`  transactions      ${fmt(c.transactions)} committed, ${fmt(c.aborts)} aborted`);
  say(`  latency (produce → committed, last minute)  p50 ${lat.p50}  p99 ${lat.p99}  p99.9 ${lat.p999}  max ${lat.max}   SLA 60 s`);
  say(`  report            npx lux report --config ${path.relative(process.cwd(), configFile)} --since 1h --out ${path.relative(process.cwd(), path.join(STATE_DIR, 'reports'))}`);
  if (genError !== undefined) {
    process.stderr.write(`lux demo: the generator failed: ${(genError as Error).message}\n`);
    return 1;
  }
  return 0;
}

/**
 * One line of the last KPI window: the region with the lowest session success rate, its drop rate, and the worst cell
 * by drop rate (what an engineer would look at first); undefined before the first window.
 */
function kpiSummary(messages: readonly KpiMessage[]): string | undefined {
  const regions = messages.filter((m) => m.dimension === 'region' && m.session.success_rate !== null);
  if (regions.length === 0) return undefined;
  const worst = regions.reduce((a, b) => (b.session.success_rate! < a.session.success_rate! ? b : a));
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
  const cells = messages.filter((m) => m.dimension === 'cell' && m.drops.drop_rate !== null);
  const cell = cells.length === 0 ? undefined : cells.reduce((a, b) => (b.drops.drop_rate! > a.drops.drop_rate! ? b : a));
  const window = `${messages[0].window_start.slice(11, 19)}–${messages[0].window_end.slice(11, 19)}`;
  return (
    `KPIs ${window}: worst region ${worst.key} session success ${pct(worst.session.success_rate)}, drop rate ${pct(worst.drops.drop_rate)}` +
    `, setup p95 ${worst.session.setup_latency_ms?.p95 ?? '–'} ms${cell === undefined ? '' : `; worst cell ${cell.key} drop rate ${pct(cell.drops.drop_rate)}`}`
  );
}

/** Deletes the topics of earlier demo runs (they only fill the local broker) and creates this run's. */
async function recreateDemoTopics(brokers: string, names: string[], partitions: number): Promise<void> {
  const conn = kafkaConnection(brokers);
  const earlier = [...(await existingTopics(conn, 10000, 'lux-demo'))].filter((t) => t.startsWith(TOPIC_PREFIX));
  await deleteTopics(conn, earlier, 10000, 'lux-demo');
  await createTopics(conn, names.map((name) => ({ name, partitions })), 15000, 'lux-demo');
}

function latency(s: LatencyStats | undefined): { p50: string; p99: string; p999: string; max: string } {
  const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v * 1000)} ms`);
  if (s === undefined || s.windowCount === 0) return { p50: '–', p99: '–', p999: '–', max: '–' };
  return { p50: ms(s.quantiles.get(50)), p99: ms(s.quantiles.get(99)), p999: ms(s.quantiles.get(99.9)), max: ms(s.maxSeconds) };
}

function deadLetterBreakdown(byReason: ReadonlyMap<string, number>): string {
  if (byReason.size === 0) return '';
  return ` (${[...byReason].map(([r, n]) => `${r} ${n}`).join(', ')})`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtSeconds(ms: number): string {
  return `${String(Math.floor(ms / 1000)).padStart(4)} s`;
}
