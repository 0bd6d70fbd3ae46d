// `lux explain --config FILE [--format text|mermaid|dot]`: prints the topology a configuration describes, from source topic to sinks and alarms.
import fs from 'node:fs';
import path from 'node:path';
import { LuxError } from '../errors.js';
import { loadConfig, type LuxConfig } from '../config/load.js';
import { parseOptions, required } from './args.js';
import { describeSecurity } from '../kafka/security.js';

const USAGE = `usage: lux explain --config FILE [--format text|mermaid|dot] [--no-broker]

Prints the topology of FILE: source topic (partitions when a broker answers within ${2000} ms),
decode workers, enrichment tables, sink topics, the alarm thread and its rules, the SLA.
--no-broker skips the partition lookup.`;

const FORMATS = ['text', 'mermaid', 'dot'] as const;
type Format = (typeof FORMATS)[number];

/** How long explain waits for a broker before it prints "unknown" partitions. */
const METADATA_TIMEOUT_MS = 2_000;

/** One reference table as explain sees it. */
export interface TableView {
  name: string;
  file: string;
  /** Undefined when the CSV loader is unavailable or failed (see `note`). */
  rows: number | undefined;
}

/** What the configuration describes, independent of how it is drawn. */
export interface Topology {
  config: LuxConfig;
  /** Raw-topic partitions, or undefined when no broker answered. */
  partitions: number | undefined;
  partitionsNote: string;
  tables: TableView[];
  /** Snapshot "version" of a directory load: the newest file modification time. */
  refdataVersion: string | undefined;
  refdataNote: string;
}

export async function explainCommand(argv: string[]): Promise<number> {
  const opts = parseOptions('explain', argv, {
    config: { type: 'string', short: 'c' },
    format: { type: 'string', short: 'f' },
    'no-broker': { type: 'boolean' },
  });
  if (opts.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const file = required('explain', 'config', opts.config);
  const format = (opts.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) {
    throw new LuxError('E_USAGE', `explain: --format expects one of ${FORMATS.join(', ')}, got '${opts.format}'`);
  }
  let config: LuxConfig;
  try {
    config = loadConfig(file);
  } catch (e) {
    if (!(e instanceof LuxError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 1;
  }
  const topology = await describeTopology(config, { broker: opts['no-broker'] !== true });
  const render = format === 'mermaid' ? renderMermaid : format === 'dot' ? renderDot : renderText;
  process.stdout.write(`${render(topology)}\n`);
  return 0;
}

/** Gathers what explain prints: partitions from a broker (if asked and it answers), table rows from refdata.dir. */
export async function describeTopology(config: LuxConfig, options: { broker: boolean }): Promise<Topology> {
  const [{ partitions, note: partitionsNote }, refdata] = await Promise.all([
    options.broker ? rawPartitions(config) : Promise.resolve({ partitions: undefined, note: 'not asked (--no-broker)' }),
    describeTables(config.refdata.dir),
  ]);
  return { config, partitions, partitionsNote, ...refdata };
}

const TABLE_FILES = [
  ['equipment', 'equipment.csv'],
  ['vendors', 'vendors.csv'],
  ['error_codes', 'error_codes.csv'],
  ['interventions', 'interventions.csv'],
] as const;

async function describeTables(dir: string): Promise<Pick<Topology, 'tables' | 'refdataVersion' | 'refdataNote'>> {
  const found = TABLE_FILES.filter(([, f]) => fs.existsSync(path.join(dir, f)));
  const tables: TableView[] = found.map(([name, f]) => ({ name, file: f, rows: undefined }));
  let newest = 0;
  for (const t of tables) newest = Math.max(newest, fs.statSync(path.join(dir, t.file)).mtimeMs);
  const refdataVersion = newest > 0 ? `files of ${new Date(newest).toISOString()}` : undefined;
  if (!fs.existsSync(dir)) return { tables, refdataVersion, refdataNote: `${dir} does not exist` };
  try {
    const { loadRefTables } = await import('../enrich/csv-tables.js');
    const loaded = loadRefTables(dir);
    const rows: Record<string, number> = {
      equipment: loaded.equipment.length,
      vendors: loaded.vendors.length,
      error_codes: loaded.errorCodes.length,
      interventions: loaded.interventions.length,
    };
    for (const t of tables) t.rows = rows[t.name];
    return { tables, refdataVersion, refdataNote: 'loaded' };
  } catch (e) {
    return { tables, refdataVersion, refdataNote: `not loaded: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** Asks the brokers for the raw topic's partition count, giving up after METADATA_TIMEOUT_MS. */
async function rawPartitions(config: LuxConfig): Promise<{ partitions: number | undefined; note: string }> {
  const brokers = config.kafka.brokers.join(',');
  try {
    const { kafkaConnection } = await import('../kafka/client.js');
    const { partitionCounts } = await import('../kafka/metadata.js');
    const { securityProperties } = await import('../kafka/security.js');
    const conn = kafkaConnection(brokers, { ...securityProperties(config.kafka.security), ...config.kafka.extra, 'socket.connection.setup.timeout.ms': METADATA_TIMEOUT_MS });
    const counts = await partitionCounts(conn, [config.topics.raw], METADATA_TIMEOUT_MS, `${config.kafka.client_id}-explain`);
    const n = counts.get(config.topics.raw);
    if (n === undefined) return { partitions: undefined, note: 'topic does not exist yet' };
    return { partitions: n, note: `from ${brokers}` };
  } catch (e) {
    return { partitions: undefined, note: `no answer from ${brokers} within ${METADATA_TIMEOUT_MS} ms (${(e as Error).message})` };
  }
}

function kpiRuleLine(r: LuxConfig['kpis']['rules'][number]): string {
  const side = r.below !== undefined ? `below ${r.below}` : `above ${r.above}`;
  return `rule ${r.name}: ${r.kpi} per ${r.dimension}, raise ${side}, clear at ${r.clear}, at least ${r.min_attempts} attempts`;
}

function ruleLine(r: LuxConfig['alarms']['rules'][number]): string {
  return (
    `rule ${r.name}: failures per equipment in ${r.window_ms} ms windows sliding by ${r.slide_ms} ms; ` +
    `raise at ${r.threshold}, clear below ${r.clear_below}; lateness ${r.lateness_ms} ms`
  );
}

function partitionsText(t: Topology): string {
  return t.partitions === undefined ? `unknown (${t.partitionsNote})` : String(t.partitions);
}

function slaText(c: LuxConfig): string {
  return `p${c.sla.percentile} and max of event time → commit ≤ ${c.sla.seconds} s over ${c.sla.interval_ms} ms`;
}

export function renderText(t: Topology): string {
  const c = t.config;
  const p = c.pipeline;
  const lines = [
    `source   topic ${c.topics.raw} on ${c.kafka.brokers.join(',')}, partitions: ${partitionsText(t)}, group ${c.kafka.group_id}`,
    `         security: ${describeSecurity(c.kafka.security)}`,
    `decode   ${p.workers} decode worker thread${p.workers === 1 ? '' : 's'} (WASM), batches of ≤ ${p.batch_max_messages} frames / ${p.batch_max_bytes} bytes, ${p.slots} ring slots, memory budget ${p.memory_budget_mb} MB`,
    `enrich   reference data ${c.refdata.dir} (${t.refdataNote}; watch ${c.refdata.watch ? 'on' : 'off'}; updates from topic ${c.topics.refdata})`,
  ];
  if (t.tables.length === 0) lines.push('           no table files found');
  for (const tb of t.tables) {
    lines.push(`           ${tb.name.padEnd(14)} ${tb.rows === undefined ? tb.file : `${tb.rows} rows`}`);
  }
  if (t.refdataVersion !== undefined) lines.push(`           version: ${t.refdataVersion}`);
  lines.push(
    `sink     records → ${c.topics.enriched}, dead letters → ${c.topics.dlq}; exactly once, a transaction every ${p.commit_interval_ms} ms (timeout ${c.kafka.transaction_timeout_ms} ms)`,
    `alarms   alarm thread → ${c.topics.alarms}${c.alarms.webhook === undefined ? '' : ` and webhook ${c.alarms.webhook.url}`}; a partition idle ${c.alarms.idle_partition_ms} ms leaves the watermark`,
  );
  if (c.alarms.rules.length === 0) lines.push('           no rules');
  for (const r of c.alarms.rules) lines.push(`           ${ruleLine(r)}`);
  if (!c.kpis.enabled) lines.push('kpis     off (kpis.enabled: false)');
  else {
    lines.push(
      `kpis     ${c.kpis.window_ms} ms tumbling windows per ${c.kpis.dimensions.join(', ')} (lateness ${c.kpis.lateness_ms} ms) → ${c.topics.kpis}`,
      `           partials per transaction → ${c.topics.kpi_partials} (one shard a partition), merged by the KPI thread; its state in ${c.topics.kpi_state}`,
    );
    if (c.kpis.rules.length === 0) lines.push('           no KPI alarm rules');
    for (const r of c.kpis.rules) lines.push(`           ${kpiRuleLine(r)}`);
  }
  lines.push(
    `sla      ${slaText(c)}${c.sla.alarm ? ', breaches raised as alarms' : ''}`,
    `http     http://${c.http.host}:${c.http.port} /metrics /health /ready`,
  );
  return lines.join('\n');
}

/** Mermaid, dot and the status page (src/status/topology-graph.ts) share the graph: nodes with labels, then edges. */
export function graph(t: Topology): { nodes: [string, string][]; edges: [string, string, string][] } {
  const c = t.config;
  const tables = t.tables.map((tb) => (tb.rows === undefined ? tb.name : `${tb.name} (${tb.rows} rows)`)).join(', ');
  const nodes: [string, string][] = [
    ['raw', `${c.topics.raw}\npartitions: ${t.partitions ?? 'unknown'}`],
    ['decode', `${c.pipeline.workers} decode worker${c.pipeline.workers === 1 ? '' : 's'}`],
    ['refdata', `refdata ${c.refdata.dir}\n${tables === '' ? 'no tables found' : tables}`],
    ['refdata_topic', c.topics.refdata],
    ['enriched', c.topics.enriched],
    ['dlq', c.topics.dlq],
    ['alarm_thread', `alarm thread\n${c.alarms.rules.map((r) => r.name).join(', ') || 'no rules'}`],
    ['alarms', c.topics.alarms],
    ['sla', `SLA p${c.sla.percentile} ≤ ${c.sla.seconds} s`],
  ];
  const edges: [string, string, string][] = [
    ['raw', 'decode', 'frames'],
    ['refdata', 'decode', 'snapshot'],
    ['refdata_topic', 'refdata', 'updates'],
    ['decode', 'enriched', 'records'],
    ['decode', 'dlq', 'dead letters'],
    ['decode', 'alarm_thread', 'failures'],
    ['alarm_thread', 'alarms', 'alarms'],
    ['enriched', 'sla', 'commit latency'],
  ];
  if (c.kpis.enabled) {
    nodes.push(
      ['kpi_partials', c.topics.kpi_partials],
      ['kpi_thread', `KPI merge\n${c.kpis.window_ms / 1000} s windows: ${c.kpis.dimensions.join(', ')}${c.kpis.rules.length > 0 ? `\nrules: ${c.kpis.rules.map((r) => r.name).join(', ')}` : ''}`],
      ['kpis', c.topics.kpis],
    );
    edges.push(['decode', 'kpi_partials', 'partials'], ['kpi_partials', 'kpi_thread', 'shards'], ['kpi_thread', 'kpis', 'KPIs'], ['kpi_thread', 'alarms', 'KPI alarms']);
  }
  if (c.alarms.webhook !== undefined) {
    nodes.push(['webhook', `webhook ${c.alarms.webhook.url}`]);
    edges.push(['alarm_thread', 'webhook', 'unsuppressed alarms']);
    if (c.kpis.enabled && c.kpis.rules.length > 0) edges.push(['kpi_thread', 'webhook', 'unsuppressed KPI alarms']);
  }
  return { nodes, edges };
}

/** The graph's nodes that are Kafka topics (drawn as cylinders). */
export const TOPIC_NODES: ReadonlySet<string> = new Set(['raw', 'refdata_topic', 'enriched', 'dlq', 'alarms', 'kpi_partials', 'kpis']);

export function renderMermaid(t: Topology): string {
  const { nodes, edges } = graph(t);
  const quote = (s: string) => `"${s.replaceAll('"', '#quot;').replaceAll('\n', '<br/>')}"`;
  const lines = ['flowchart LR'];
  for (const [id, label] of nodes) lines.push(TOPIC_NODES.has(id) ? `  ${id}[(${quote(label)})]` : `  ${id}[${quote(label)}]`);
  for (const [a, b, label] of edges) lines.push(`  ${a} -->|${label}| ${b}`);
  return lines.join('\n');
}

export function renderDot(t: Topology): string {
  const { nodes, edges } = graph(t);
  const quote = (s: string) => JSON.stringify(s).replaceAll('\\n', '\\n');
  const lines = ['digraph lux {', '  rankdir=LR;', '  node [shape=box];'];
  for (const [id, label] of nodes) lines.push(`  ${id} [label=${quote(label)}${TOPIC_NODES.has(id) ? ', shape=cylinder' : ''}];`);
  for (const [a, b, label] of edges) lines.push(`  ${a} -> ${b} [label=${quote(label)}];`);
  lines.push('}');
  return lines.join('\n');
}
