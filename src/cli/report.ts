// `lux report`: reads a period of the KPI, alarm and dead-letter topics and writes a self-contained HTML report and a JSON summary to a directory, optionally POSTing them.
import fs from 'node:fs';
import path from 'node:path';
import { LuxError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { parseOptions, positiveInt, required } from './args.js';
import { parsePeriod } from '../report/period.js';
import { collectReport, type ReportSources } from '../report/collect.js';
import { renderReportHtml } from '../report/report-html.js';
import { postReport } from '../report/post.js';
import { REPORT_DEFAULTS } from '../report/report-defaults.js';
import { securityProperties } from '../kafka/security.js';

const USAGE = `usage: lux report (--since DURATION | --from ISO [--to ISO]) --out DIR [options]

Reads the period from the KPI topic (SPEC section 7), the alarm topic (sections 4 and 7) and the dead-letter
topic's headers (section 5), seeking by timestamp, and writes DIR/lux-report-<end>.html (charts as inline SVG)
and DIR/lux-report-<end>.json (the summary), printing both paths.

  --config FILE          take brokers and topic names from the daemon's config (the flags below win)
  --brokers B            host:port[,host:port] (or LUX_KAFKA_BROKERS)
  --kpis-topic T         default ${REPORT_DEFAULTS.kpisTopic}
  --alarms-topic T       default ${REPORT_DEFAULTS.alarmsTopic}
  --dlq-topic T          default ${REPORT_DEFAULTS.dlqTopic}
  --enriched-topic T     also sample enriched records for latency against the SLA (config: topics.enriched)
  --sla-seconds N        the SLA line (config: sla.seconds; default ${REPORT_DEFAULTS.slaSeconds})
  --since DURATION       the period ending now: 90m, 24h, 7d
  --from ISO --to ISO    an explicit period (UTC unless a zone is given); --to defaults to now
  --post URL             POST the JSON summary there (retries with backoff: ${REPORT_DEFAULTS.postAttempts} attempts)
  --post-html URL        POST the HTML report there
  --post-attempts N      attempts per POST (default ${REPORT_DEFAULTS.postAttempts})`;

export async function reportCommand(argv: string[]): Promise<number> {
  const opts = parseOptions('report', argv, {
    config: { type: 'string', short: 'c' },
    brokers: { type: 'string' },
    'kpis-topic': { type: 'string' },
    'alarms-topic': { type: 'string' },
    'dlq-topic': { type: 'string' },
    'enriched-topic': { type: 'string' },
    'sla-seconds': { type: 'string' },
    since: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string', short: 'o' },
    post: { type: 'string' },
    'post-html': { type: 'string' },
    'post-attempts': { type: 'string' },
  });
  if (opts.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const period = parsePeriod({ since: opts.since, from: opts.from, to: opts.to });
  const out = required('report', 'out', opts.out);
  for (const [flag, url] of [['post', opts.post], ['post-html', opts['post-html']]] as const) {
    if (url !== undefined && !/^https?:\/\/[^\s/]+/.test(url)) throw new LuxError('E_USAGE', `report: --${flag} expects an http(s) URL, got '${url}'`);
  }

  // the config gives defaults; flags win
  const config = opts.config === undefined ? undefined : loadConfig(opts.config);
  const fromConfig = config?.topics as (Record<string, string> & { kpis?: string }) | undefined;
  const brokers = opts.brokers ?? config?.kafka.brokers.join(',') ?? process.env.LUX_KAFKA_BROKERS;
  if (brokers === undefined || brokers === '') throw new LuxError('E_USAGE', 'report: missing the brokers: --brokers host:port, --config FILE or LUX_KAFKA_BROKERS');
  const sources: ReportSources = {
    brokers,
    kpisTopic: opts['kpis-topic'] ?? fromConfig?.kpis ?? REPORT_DEFAULTS.kpisTopic,
    alarmsTopic: opts['alarms-topic'] ?? fromConfig?.alarms ?? REPORT_DEFAULTS.alarmsTopic,
    dlqTopic: opts['dlq-topic'] ?? fromConfig?.dlq ?? REPORT_DEFAULTS.dlqTopic,
    enrichedTopic: opts['enriched-topic'] ?? fromConfig?.enriched,
    // the daemon's own connection properties: security (TLS, SASL) and kafka.extra
    kafkaExtra: config === undefined ? undefined : { ...securityProperties(config.kafka.security), ...config.kafka.extra },
  };
  let slaSeconds: number = config?.sla.seconds ?? REPORT_DEFAULTS.slaSeconds;
  if (opts['sla-seconds'] !== undefined) {
    slaSeconds = Number(opts['sla-seconds']);
    if (!(slaSeconds > 0)) throw new LuxError('E_USAGE', `report: --sla-seconds expects a positive number, got '${opts['sla-seconds']}'`);
  }
  const attempts = positiveInt('report', 'post-attempts', opts['post-attempts'], REPORT_DEFAULTS.postAttempts);

  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new LuxError('E_IO', `report: cannot create --out ${out}: ${(e as Error).message}`);
  }
  const say = (line: string) => process.stderr.write(`lux report: ${line}\n`);
  say(`${new Date(period.fromMs).toISOString()} – ${new Date(period.toMs).toISOString()} from ${brokers}`);
  const summary = await collectReport(sources, period, { slaSeconds, progress: say });
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  const html = renderReportHtml(summary);
  const stem = `lux-report-${summary.period.to.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}`;
  const jsonFile = path.join(out, `${stem}.json`);
  const htmlFile = path.join(out, `${stem}.html`);
  try {
    fs.writeFileSync(jsonFile, json);
    fs.writeFileSync(htmlFile, html);
  } catch (e) {
    throw new LuxError('E_IO', `report: cannot write into --out ${out}: ${(e as Error).message}`);
  }
  process.stdout.write(`${htmlFile}\n${jsonFile}\n`);

  const onRetry = (message: string, waitMs: number) => say(`${message}; retrying in ${waitMs} ms`);
  if (opts.post !== undefined) {
    const r = await postReport(opts.post, json, 'application/json', { attempts, onRetry });
    say(`summary posted to ${opts.post} (HTTP ${r.status}, attempt ${r.attempts})`);
  }
  if (opts['post-html'] !== undefined) {
    const r = await postReport(opts['post-html'], html, 'text/html; charset=utf-8', { attempts, onRetry });
    say(`report posted to ${opts['post-html']} (HTTP ${r.status}, attempt ${r.attempts})`);
  }
  return 0;
}
