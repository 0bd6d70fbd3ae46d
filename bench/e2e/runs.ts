// The max-throughput runs of `lux bench` and what every run shares: topics, preload, the daemon's config, commit polling, verification; the daemon at full speed, then the passthrough and kcat baselines over the same frames.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../src/paths.js';
import { TrafficModel, type TrafficOptions } from '../../src/gen/traffic.js';
import { ValueChecksum } from './checksum.js';
import { Child } from './child.js';
import { latencyBreakdown, scrapeMetrics, type LatencyBreakdown, type Scrape } from './daemon-metrics.js';
import { expectedFromFrames, FramesFile, LUX_BIN, REFDATA, type Expected } from './expected.js';
import { createTopics, OffsetWatch, PreloadProducer, sleep, TopicConsumer, uniqueName } from './kafka.js';
import { brokerPid, childPids } from './listener-pid.js';
import { LoadMeter, type RunLoad } from './machine-load.js';
import { perRecordByThread, ProcSampler, ThreadMeter, type ProcUsage } from './proc-sample.js';
import { ProgressBar } from './progress.js';

export const PASSTHROUGH_JS = path.join(ROOT, 'dist', 'bench', 'e2e', 'passthrough.js');

/** What one `lux bench` invocation is asked to do; defaults live in bench/e2e/command.ts (BENCH_DEFAULTS). */
export interface BenchSettings {
  brokers: string;
  frames: number;
  recordsPerFrame: number;
  partitions: number;
  badShare: number;
  seed: number;
  /** daemon decode workers; undefined: the daemon's own default (cores - 1) */
  workers: number | undefined;
  batchMaxMessages: number;
  commitIntervalMs: number;
  rate: number;
  durationS: number;
  progress: boolean;
  /** the daemon runs an alarm rule (and writes its window state with every transaction) */
  alarms: boolean;
  /** the daemon's KPI stage (false: kpis.enabled false) */
  kpis: boolean;
  /** the daemon's native batch produce (false: pipeline.native_produce false) */
  nativeProduce: boolean;
  /** the daemon's native batch consume (false: pipeline.native_consume false) */
  nativeConsume: boolean;
  /** the decode workers' native record serializer (false: pipeline.native_json false) */
  nativeJson: boolean;
  /** the decode workers' native KPI batch partials (false: pipeline.native_kpis false) */
  nativeKpis: boolean;
  /** the max-mode daemon runs with --cpu-prof into this directory */
  profileDir?: string;
  /** where frames files and daemon configs go */
  workDir: string;
  /** the broker's pid when it runs on this machine (its CPU is shown beside the daemon's) */
  brokerPid: number | undefined;
  /** the rate runs also run the passthrough at the same rate */
  rateBaseline: boolean;
  /** every wait of a phase gives up after this long */
  phaseTimeoutMs: number;
  log: (line: string) => void;
}

/** Topics of one run; all fresh, all with the same partition count. */
export interface RunTopics {
  raw: string;
  enriched: string;
  dlq: string;
  alarms: string;
  /** the daemon's live reference-data topic (compacted, one partition, left empty: the files are the reference) */
  refdata: string;
  /** the daemon's alarm window state (compacted; written only with --alarms) */
  alarmState: string;
  /** the daemon's KPI output, state and partials (it creates them; named here so the run deletes them) */
  kpis: string;
  kpiState: string;
  kpiPartials: string;
}

export interface Preloaded {
  topics: RunTopics;
  /** the frames file, in the `lux decode` input format */
  framesFile: string;
  frames: number;
  badFrames: number;
  /** checksum of the raw frame values (what a passthrough must reproduce) */
  raw: ValueChecksum;
  expected: Expected;
  seconds: number;
}

export interface ThroughputRun {
  name: string;
  /** records (in good frames) the run carried */
  records: number;
  frames: number;
  /** from the consumer's assignment to the last commit */
  seconds: number;
  /** from the process start to the last commit (start-up and group join included) */
  wallSeconds: number;
  recordsPerS: number;
  /** the process over its whole life (start-up included): peak RSS and CPU */
  usage: ProcUsage | undefined;
  /** CPU of every process and of the machine over the timed window (assignment to last commit) */
  load: RunLoad;
  /** the runner's CPU in the timed window per record, µs (undefined for kcat, whose pipe is measured in `load`) */
  cpuPerRecordUs: number | undefined;
  /** the daemon's CPU per record by thread group over the timed window, µs (LUX only; proc-sample.ts THREAD_GROUPS) */
  threadCpuUs?: Record<string, number>;
  /** the daemon's own latency breakdown over the timed window (LUX only) */
  breakdown?: LatencyBreakdown;
  /** [seconds since assignment, records/s over the previous sample interval] */
  series: Array<[number, number]>;
  verified: boolean;
  verification: string;
}

export function runTopics(what: string): RunTopics {
  const base = uniqueName(what);
  return {
    raw: `${base}-raw`, enriched: `${base}-enriched`, dlq: `${base}-dlq`, alarms: `${base}-alarms`, refdata: `${base}-refdata`,
    alarmState: `${base}-alarm-state`, kpis: `${base}-kpis`, kpiState: `${base}-kpi-state`, kpiPartials: `${base}-kpi-partials`,
  };
}

export async function createRunTopics(s: BenchSettings, t: RunTopics, extra: string[] = []): Promise<void> {
  await createTopics(s.brokers, [t.raw, t.enriched, t.dlq, t.alarms, ...extra], s.partitions);
  await createTopics(s.brokers, [t.refdata, t.alarmState], 1, { 'cleanup.policy': 'compact' });
}

/** The traffic model with fixed records per frame, no jitter (event_time = generation time) and no time-driven bursts. */
export function traffic(s: BenchSettings): Partial<TrafficOptions> {
  return {
    seed: s.seed,
    recordsPerFrameMin: s.recordsPerFrame,
    recordsPerFrameMax: s.recordsPerFrame,
    badShare: s.badShare,
    jitterMs: 0,
    burstEveryMs: 0,
  };
}

/** Generates `frames` frames into the raw topic and a frames file, then computes the expected output with `lux decode`. */
export async function preload(s: BenchSettings, topics: RunTopics): Promise<Preloaded> {
  const t0 = Date.now();
  const model = new TrafficModel(traffic(s));
  const framesFile = path.join(s.workDir, `${topics.raw}.frames`);
  const file = new FramesFile(framesFile);
  const raw = new ValueChecksum();
  const producer = new PreloadProducer(s.brokers, topics.raw);
  await producer.connect();
  const bar = new ProgressBar('preload', s.frames, 'frames', s.progress);
  let bad = 0;
  try {
    for (let i = 0; i < s.frames; i++) {
      const f = model.next(Date.now());
      if (f.bad !== null) bad++;
      file.write(f.value);
      raw.add(f.value);
      await producer.send(f.value, f.key);
      if ((i & 1023) === 0) bar.update(producer.sent);
    }
  } finally {
    file.close();
    await producer.close();
  }
  bar.done(`${s.frames.toLocaleString('en-US')} frames (${bad} broken) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = Date.now();
  const expected = await expectedFromFrames(framesFile);
  s.log(`expected output (lux decode of the same frames): ${expected.records.count.toLocaleString('en-US')} records, ${expected.deadLetters} dead letters, in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  if (expected.deadLetters !== bad) s.log(`note: lux decode dead-lettered ${expected.deadLetters} frames, the generator broke ${bad}`);
  return { topics, framesFile, frames: s.frames, badFrames: bad, raw, expected, seconds: (Date.now() - t0) / 1000 };
}

/** The rule of `--alarms`: failures per equipment over a minute, as an operator would count them. */
export const BENCH_ALARM_RULE = 'name: failures_1m, window_ms: 60000, slide_ms: 10000, threshold: 20, clear_below: 5, lateness_ms: 5000';

/** A config file for `lux run` over these topics (the daemon's defaults otherwise, HTTP on a free port). */
export function writeDaemonConfig(s: BenchSettings, topics: RunTopics, group: string): string {
  const file = path.join(s.workDir, `${group}.yaml`);
  fs.writeFileSync(
    file,
    [
      'kafka:',
      `  brokers: "${s.brokers}"`,
      `  group_id: ${group}`,
      `  transactional_id: ${group}-t`,
      'topics:',
      `  raw: ${topics.raw}`,
      `  enriched: ${topics.enriched}`,
      `  dlq: ${topics.dlq}`,
      `  alarms: ${topics.alarms}`,
      `  refdata: ${topics.refdata}`,
      `  alarm_state: ${topics.alarmState}`,
      `  kpis: ${topics.kpis}`,
      `  kpi_state: ${topics.kpiState}`,
      `  kpi_partials: ${topics.kpiPartials}`,
      'refdata:',
      `  dir: ${REFDATA}`,
      ...(s.alarms ? ['alarms:', '  rules:', `    - { ${BENCH_ALARM_RULE} }`] : []),
      ...(s.kpis ? [] : ['kpis:', '  enabled: false']),
      'pipeline:',
      ...(s.workers === undefined ? [] : [`  workers: ${s.workers}`]),
      `  batch_max_messages: ${s.batchMaxMessages}`,
      `  commit_interval_ms: ${s.commitIntervalMs}`,
      `  native_produce: ${s.nativeProduce}`,
      `  native_consume: ${s.nativeConsume}`,
      `  native_json: ${s.nativeJson}`,
      `  native_kpis: ${s.nativeKpis}`,
      'http:',
      '  port: 0',
      'log:',
      '  level: info',
      '',
    ].join('\n'),
  );
  return file;
}

/** Polls the group's committed offsets until they cover every frame of the raw topic; returns the time of the last commit. */
export async function waitCommitted(
  s: BenchSettings,
  watch: OffsetWatch,
  child: Child,
  frames: number,
  t0: number,
  bar: ProgressBar,
  series: Array<[number, number]>,
): Promise<number> {
  const deadline = Date.now() + s.phaseTimeoutMs;
  let last = 0;
  let lastAt = t0;
  for (;;) {
    const c = await watch.committed();
    const now = Date.now();
    if (c > last && now - lastAt >= 200) {
      series.push([(now - t0) / 1000, ((c - last) * s.recordsPerFrame) / ((now - lastAt) / 1000)]);
      last = c;
      lastAt = now;
    }
    bar.update(c * s.recordsPerFrame);
    if (c >= frames) return now;
    if (!child.running) throw new Error(`${child.name} exited before committing all ${frames} frames (${c} committed):\n${child.output()}`);
    if (now > deadline) throw new Error(`${child.name}: only ${c} of ${frames} frames committed after ${s.phaseTimeoutMs} ms`);
    await sleep(50);
  }
}

/** Reads a whole topic (read_committed) into a checksum. */
export async function readChecksum(s: BenchSettings, topic: string): Promise<ValueChecksum> {
  const sum = new ValueChecksum();
  await new TopicConsumer(s.brokers, topic, { isolation: 'read_committed', untilEnd: true, timeoutMs: s.phaseTimeoutMs }).run({
    onBatch(messages) {
      for (const m of messages) sum.add(m.value);
    },
  });
  return sum;
}

export async function verifyLux(s: BenchSettings, topics: RunTopics, expected: Expected): Promise<{ verified: boolean; verification: string }> {
  const out = await readChecksum(s, topics.enriched);
  const dlq = await readChecksum(s, topics.dlq);
  const ok = out.equals(expected.records) && dlq.count === expected.deadLetters;
  return {
    verified: ok,
    verification:
      `read_committed ${topics.enriched}: ${out.count} records, checksum ${out.digest}; expected ${expected.records.count}, ${expected.records.digest}; ` +
      `dead letters ${dlq.count}, expected ${expected.deadLetters}`,
  };
}

/** The processes measured beside a run's own: the broker (when it runs on this machine) and this program. */
export function sharedProcesses(s: BenchSettings): Array<{ name: string; pids: number | undefined }> {
  return [
    { name: 'broker', pids: s.brokerPid },
    { name: 'lux bench', pids: process.pid },
  ];
}

/** One child over the preloaded raw topic, timed from its assignment to the group's last commit covering every frame. */
async function runOverPreload(s: BenchSettings, pre: Preloaded, name: 'lux' | 'passthrough', group: string, args: string[]): Promise<ThroughputRun> {
  const watch = new OffsetWatch(s.brokers, group, pre.topics.raw, s.partitions);
  await watch.connect();
  const records = pre.expected.records.count;
  const bar = new ProgressBar(name === 'lux' ? 'lux (max throughput)' : 'passthrough baseline', pre.frames * s.recordsPerFrame, 'records', s.progress);
  const started = Date.now();
  const child = new Child(name === 'lux' ? 'lux run' : 'passthrough', args);
  const sampler = new ProcSampler(child.pid);
  const series: Array<[number, number]> = [];
  let usage: ProcUsage | undefined;
  let load: RunLoad;
  let breakdown: LatencyBreakdown | undefined;
  let threads: Record<string, number> | undefined;
  let t1: number;
  let t0: number;
  try {
    t0 = await child.waitAssigned(s.phaseTimeoutMs);
    let before: Scrape | undefined;
    if (name === 'lux' && child.httpUrl !== undefined) before = await scrapeMetrics(child.httpUrl).catch(() => undefined);
    const meter = new LoadMeter([{ name: name === 'lux' ? 'daemon' : 'passthrough', pids: child.pid }, ...sharedProcesses(s)]);
    const threadMeter = name === 'lux' ? new ThreadMeter(child.pid) : undefined;
    t1 = await waitCommitted(s, watch, child, pre.frames, t0, bar, series);
    load = meter.stop();
    threads = threadMeter?.stop();
    usage = sampler.stop();
    if (before !== undefined) {
      const after = await scrapeMetrics(child.httpUrl!).catch(() => undefined);
      if (after !== undefined) breakdown = latencyBreakdown(before, after, load.seconds);
    }
  } finally {
    sampler.stop();
    const code = await child.stop();
    if (code !== 0) s.log(`${child.name} exited ${code}:\n${child.output()}`);
    await watch.close();
  }
  const seconds = (t1 - t0) / 1000;
  bar.done(`${pre.frames.toLocaleString('en-US')} frames (${records.toLocaleString('en-US')} records) in ${seconds.toFixed(2)} s: ${Math.round(records / seconds).toLocaleString('en-US')} records/s`);
  const runnerCpu = load.processes[0]!.cpu_s;
  return {
    name, records, frames: pre.frames, seconds, wallSeconds: (t1 - started) / 1000, recordsPerS: records / seconds, usage, load,
    cpuPerRecordUs: runnerCpu === null || records === 0 ? undefined : Math.round((runnerCpu / records) * 1e7) / 10,
    ...(threads === undefined ? {} : { threadCpuUs: perRecordByThread(threads, records) }),
    ...(breakdown === undefined ? {} : { breakdown }),
    series, verified: false, verification: '',
  };
}

/** Max-throughput mode: the daemon over the preloaded raw topic, timed from its assignment to its last commit. */
export async function runLuxMax(s: BenchSettings, pre: Preloaded): Promise<ThroughputRun> {
  const group = uniqueName('lux-g');
  const config = writeDaemonConfig(s, pre.topics, group);
  const profile = s.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', s.profileDir];
  const run = await runOverPreload(s, pre, 'lux', group, [...profile, LUX_BIN, 'run', '--config', config]);
  const v = await verifyLux(s, pre.topics, pre.expected);
  s.log(`lux exactly once: ${v.verified ? 'verified' : 'FAILED'} (${v.verification})`);
  return { ...run, ...v };
}

/** The passthrough baseline over the same raw topic: same consumer, same transactional producer, no decode. */
export async function runPassthrough(s: BenchSettings, pre: Preloaded, out: string): Promise<ThroughputRun> {
  const group = uniqueName('pt-g');
  const run = await runOverPreload(s, pre, 'passthrough', group, passthroughArgs(s, group, pre.topics.raw, out));
  const copy = await readChecksum(s, out);
  const verified = copy.equals(pre.raw);
  const verification = `read_committed ${out}: ${copy.count} frames, checksum ${copy.digest}; raw ${pre.raw.count}, ${pre.raw.digest}`;
  return { ...run, verified, verification };
}

/** The passthrough's command line (bench/e2e/passthrough.ts): the daemon's batch size, commit interval and Kafka path. */
export function passthroughArgs(s: BenchSettings, group: string, input: string, out: string): string[] {
  return [
    PASSTHROUGH_JS, '--brokers', s.brokers, '--group', group, '--transactional-id', `${group}-t`, '--in', input, '--out', out,
    '--batch-max-messages', String(s.batchMaxMessages), '--commit-interval-ms', String(s.commitIntervalMs),
    ...(s.nativeConsume ? ['--native-consume'] : []), ...(s.nativeProduce ? ['--native-produce'] : []),
  ];
}

/** kcat, if installed: `kcat -C … | kcat -P …`, raw topic to another, no group, no transaction. Undefined when absent. */
export async function runKcat(s: BenchSettings, pre: Preloaded, out: string): Promise<ThroughputRun | undefined> {
  const found = await new Promise<boolean>((resolve) => {
    const p = spawn('kcat', ['-V'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', (code) => resolve(code === 0));
  });
  if (!found) {
    s.log('kcat: not installed (Debian: apt-get install -y kcat); its baseline is skipped');
    return undefined;
  }
  // Frames are binary: split on delimiters no frame holds (checked afterwards by count and checksum).
  const kd = '~LUXKEY~';
  const md = '~LUXMSG~';
  const cmd =
    `kcat -C -q -e -o beginning -b '${s.brokers}' -t '${pre.topics.raw}' -K '${kd}' -D '${md}' | ` +
    `kcat -P -q -b '${s.brokers}' -t '${out}' -K '${kd}' -D '${md}' -z lz4 -X linger.ms=5 -X batch.num.messages=10000`;
  const records = pre.expected.records.count;
  const bar = new ProgressBar('kcat pipe', pre.frames, 'frames', s.progress);
  const watch = new OffsetWatch(s.brokers, uniqueName('kcat-watch'), out, s.partitions);
  await watch.connect();
  const t0 = Date.now();
  const sh = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
  const shPid = sh.pid ?? -1;
  const meter = new LoadMeter([{ name: 'kcat', pids: () => childPids(shPid) }, ...sharedProcesses(s)]);
  let stderr = '';
  sh.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exit: number | null | undefined;
  sh.on('exit', (code) => (exit = code));
  const series: Array<[number, number]> = [];
  let last = 0;
  let lastAt = t0;
  let t1 = 0;
  try {
    const deadline = t0 + s.phaseTimeoutMs;
    for (;;) {
      const n = await watch.endOffsets(out);
      const now = Date.now();
      if (n > last && now - lastAt >= 200) {
        series.push([(now - t0) / 1000, ((n - last) * s.recordsPerFrame) / ((now - lastAt) / 1000)]);
        last = n;
        lastAt = now;
      }
      bar.update(n);
      if (n >= pre.frames) {
        t1 = now;
        break;
      }
      if (exit !== undefined && exit !== 0) throw new Error(`kcat pipe exited ${exit}: ${stderr.trim()}`);
      if (exit === 0 && n < pre.frames) {
        // the producer has flushed; the watermarks may lag a moment
        await sleep(500);
        if ((await watch.endOffsets(out)) < pre.frames) throw new Error(`kcat pipe copied ${n} of ${pre.frames} frames: ${stderr.trim()}`);
      }
      if (now > deadline) throw new Error(`kcat pipe: ${n} of ${pre.frames} frames after ${s.phaseTimeoutMs} ms`);
      await sleep(50);
    }
  } finally {
    meter.stop();
    await watch.close();
    if (exit === undefined) await new Promise((r) => sh.on('exit', r));
  }
  const load = meter.stop();
  const seconds = (t1 - t0) / 1000;
  bar.done(`${pre.frames.toLocaleString('en-US')} frames in ${seconds.toFixed(2)} s: ${Math.round(records / seconds).toLocaleString('en-US')} records/s`);
  const copy = await readChecksum(s, out);
  const verified = copy.equals(pre.raw);
  const verification = `${out}: ${copy.count} frames, checksum ${copy.digest}; raw ${pre.raw.count}, ${pre.raw.digest}`;
  return {
    name: 'kcat', records, frames: pre.frames, seconds, wallSeconds: seconds, recordsPerS: records / seconds, usage: undefined, load, cpuPerRecordUs: undefined,
    series, verified, verification,
  };
}

