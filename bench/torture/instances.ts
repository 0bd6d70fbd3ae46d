// The daemon instances of a torture or overload run: `lux run` child processes in one consumer group, each with its own config and transactional.id, started, SIGKILLed and started again, their output appended to a log file each.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../src/paths.js';
import { IDLE_PARTITION_MS, KPI_LATENESS_MS, REFDATA_DIR, TORTURE_RULE } from './reference.js';

const LUX = path.join(ROOT, 'bin', 'lux.js');

/** The topics of one run (fresh names, so runs never share state). */
export interface RunTopics {
  raw: string;
  enriched: string;
  dlq: string;
  alarms: string;
  alarmState: string;
  refdata: string;
  kpis: string;
  kpiPartials: string;
  kpiState: string;
}

export interface InstanceConfig {
  bootstrap: string;
  group: string;
  topics: RunTopics;
  transactionTimeoutMs: number;
  kpiWindowMs: number;
  workers: number;
  /** pipeline.memory_budget_mb, when not the default */
  memoryBudgetMb?: number;
  /** further YAML lines under the top level */
  extra?: string;
}

/** The YAML config of instance `index` (its transactional.id is its own, the same across its restarts). */
export function instanceYaml(c: InstanceConfig, index: number): string {
  return [
    'kafka:',
    `  brokers: "${c.bootstrap}"`,
    `  group_id: ${c.group}`,
    `  transactional_id: ${c.group}-t${index}`,
    `  transaction_timeout_ms: ${c.transactionTimeoutMs}`,
    'topics:',
    `  raw: ${c.topics.raw}`,
    `  enriched: ${c.topics.enriched}`,
    `  dlq: ${c.topics.dlq}`,
    `  alarms: ${c.topics.alarms}`,
    `  refdata: ${c.topics.refdata}`,
    `  alarm_state: ${c.topics.alarmState}`,
    `  kpis: ${c.topics.kpis}`,
    `  kpi_partials: ${c.topics.kpiPartials}`,
    `  kpi_state: ${c.topics.kpiState}`,
    'refdata:',
    `  dir: ${REFDATA_DIR}`,
    'pipeline:',
    `  workers: ${c.workers}`,
    ...(c.memoryBudgetMb === undefined ? [] : [`  memory_budget_mb: ${c.memoryBudgetMb}`]),
    'alarms:',
    `  idle_partition_ms: ${IDLE_PARTITION_MS}`,
    '  rules:',
    `    - ${JSON.stringify(TORTURE_RULE)}`,
    'kpis:',
    `  window_ms: ${c.kpiWindowMs}`,
    `  lateness_ms: ${KPI_LATENESS_MS}`,
    'http:',
    '  port: 0',
    'log:',
    '  level: info',
    c.extra ?? '',
    '',
  ].join('\n');
}

/** One instance slot: its config and log, and the process running now (if any). */
export class DaemonInstance {
  readonly index: number;
  readonly configFile: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exitedP: Promise<void> = Promise.resolve();
  /** starts, and SIGKILLs, over the run */
  starts = 0;
  kills = 0;
  /** exits the run did not cause (a crash of the daemon itself): each is a finding */
  unexpectedExits: string[] = [];
  /** the HTTP endpoint the current process printed */
  url: string | undefined;
  private expectExit = false;
  private exitedByItself = false;

  constructor(index: number, dir: string, yaml: string, private readonly env: NodeJS.ProcessEnv) {
    this.index = index;
    this.configFile = path.join(dir, `instance-${index}.yaml`);
    this.logFile = path.join(dir, `instance-${index}.log`);
    fs.writeFileSync(this.configFile, yaml);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** down because it exited by itself (not killed or stopped by the run), and not started again yet */
  get crashed(): boolean {
    return !this.running && this.exitedByItself;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  start(): void {
    if (this.running) return;
    this.starts++;
    this.expectExit = false;
    this.exitedByItself = false;
    this.url = undefined;
    const log = fs.openSync(this.logFile, 'a');
    fs.writeSync(log, `--- start ${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, [LUX, 'run', '--config', this.configFile], { stdio: ['ignore', 'pipe', log], env: this.env });
    fs.closeSync(log);
    const out = fs.createWriteStream(this.logFile, { flags: 'a' });
    let head = '';
    child.stdout?.on('data', (d: Buffer) => {
      out.write(d);
      if (this.url === undefined && head.length < 65536) {
        head += d.toString();
        const m = /"url":"(http:[^"]+)"/.exec(head);
        if (m !== null) this.url = m[1];
      }
    });
    this.child = child;
    this.exitedP = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        out.end(`--- exit ${code ?? signal} at ${new Date().toISOString()}\n`);
        if (!this.expectExit) {
          this.exitedByItself = true;
          this.unexpectedExits.push(`instance ${this.index} (start ${this.starts}) exited by itself with ${code ?? signal}`);
        }
        resolve();
      });
    });
  }

  /** SIGKILL: no drain, no commit, the open transaction left for the next start to abort. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.expectExit = true;
    this.kills++;
    this.child?.kill('SIGKILL');
    await this.exitedP;
  }

  /** SIGTERM, then SIGKILL after `graceMs` (the end of a run). */
  async stop(graceMs = 40_000): Promise<void> {
    if (!this.running) return;
    this.expectExit = true;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exitedP;
    clearTimeout(timer);
  }

  /** The last `lines` lines of its log, for a failure report. */
  tail(lines = 30): string {
    try {
      const text = fs.readFileSync(this.logFile, 'utf8');
      return text.split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '';
    }
  }
}

/** The environment of the instances: the run's broker, whatever LUX_KAFKA_BROKERS the caller's shell names. */
export function instanceEnv(bootstrap: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // a test runner's LUX_* settings are not the instances' (LUX_KAFKA_HOME and LUX_STATE_DIR only matter to brokers)
    if (k.startsWith('LUX_')) continue;
    env[k] = v;
  }
  env.LUX_KAFKA_BROKERS = bootstrap;
  return env;
}
