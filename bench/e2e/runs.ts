// The runs of `lux bench`: preload, the daemon at full speed, the passthrough and kcat baselines, and the daemon fed at a fixed rate with latency measured.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { ROOT } from '../../src/paths.js';
import { TrafficModel } from '../../src/gen/traffic.js';
import { runGenerator } from '../../src/gen/generator.js';
import { ValueChecksum } from './checksum.js';
import { expectedFromFrames, FramesFile, LUX_BIN, REFDATA, type Expected } from './expected.js';
import { createTopics, OffsetWatch, PreloadProducer, sleep, TopicConsumer, uniqueName } from './kafka.js';
import { ProcSampler, type ProcUsage } from './proc-sample.js';
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
  /** where frames files and daemon configs go */
  workDir: string;
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
  usage: ProcUsage | undefined;
  /** [seconds since assignment, records/s over the previous sample interval] */
  series: Array<[number, number]>;
  verified: boolean;
  verification: string;
}

export interface RateRun {
  rate: number;
  durationS: number;
  produced: number;
  records: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number; count: number };
  /** [percentile, ms] points for the HdrHistogram-style plot */
  percentileCurve: Array<[number, number]>;
  /** [second since the generator started, records committed (visible read_committed) in that second] */
  series: Array<[number, number]>;
  usage: ProcUsage | undefined;
  verified: boolean;
  verification: string;
}

export function runTopics(what: string): RunTopics {
  const base = uniqueName(what);
  return {
    raw: `${base}-raw`, enriched: `${base}-enriched`, dlq: `${base}-dlq`, alarms: `${base}-alarms`, refdata: `${base}-refdata`,
    alarmState: `${base}-alarm-state`,
  };
}

export async function createRunTopics(s: BenchSettings, t: RunTopics, extra: string[] = []): Promise<void> {
  await createTopics(s.brokers, [t.raw, t.enriched, t.dlq, t.alarms, ...extra], s.partitions);
  await createTopics(s.brokers, [t.refdata, t.alarmState], 1, { 'cleanup.policy': 'compact' });
}

/** The traffic model with fixed records per frame, no jitter (event_time = generation time) and no time-driven bursts. */
function traffic(s: BenchSettings): ConstructorParameters<typeof TrafficModel>[0] {
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
      if ((i & 1023) === 0) bar.update(producer.acked);
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
      'refdata:',
      `  dir: ${REFDATA}`,
      ...(s.alarms ? ['alarms:', '  rules:', `    - { ${BENCH_ALARM_RULE} }`] : []),
      'pipeline:',
      ...(s.workers === undefined ? [] : [`  workers: ${s.workers}`]),
      `  batch_max_messages: ${s.batchMaxMessages}`,
      `  commit_interval_ms: ${s.commitIntervalMs}`,
      'http:',
      '  port: 0',
      'log:',
      '  level: info',
      '',
    ].join('\n'),
  );
  return file;
}

/** A child process whose JSON log lines are watched for the consumer's first assignment. */
class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | string>;
  private tail: string[] = [];
  assignedAt: number | undefined;
  private exitValue: number | string | undefined;

  constructor(readonly name: string, args: string[]) {
    this.process = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (d: Buffer): void => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
        if (this.assignedAt === undefined && line.includes('"partitions assigned"')) {
          try {
            const time = (JSON.parse(line) as { time?: number }).time;
            this.assignedAt = typeof time === 'number' ? time : Date.now();
          } catch {
            this.assignedAt = Date.now();
          }
        }
      }
    };
    this.process.stdout?.on('data', onData);
    this.process.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve((this.exitValue = code ?? signal ?? -1))));
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get running(): boolean {
    return this.exitValue === undefined;
  }

  output(): string {
    return this.tail.join('\n');
  }

  async waitAssigned(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.assignedAt === undefined) {
      if (!this.running) throw new Error(`${this.name} exited (${this.exitValue}) before its consumer was assigned:\n${this.output()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no partition assignment within ${timeoutMs} ms:\n${this.output()}`);
      await sleep(20);
    }
    return this.assignedAt;
  }

  /** SIGTERM (drain and commit), SIGKILL if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<number | string> {
    if (!this.running) return this.exitValue as number | string;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Polls the group's committed offsets until they cover every frame of the raw topic; returns the time of the last commit. */
async function waitCommitted(
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

async function verifyLux(s: BenchSettings, topics: RunTopics, expected: Expected): Promise<{ verified: boolean; verification: string }> {
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

/** Max-throughput mode: the daemon over the preloaded raw topic, timed from its assignment to its last commit. */
export async function runLuxMax(s: BenchSettings, pre: Preloaded): Promise<ThroughputRun> {
  const group = uniqueName('lux-g');
  const config = writeDaemonConfig(s, pre.topics, group);
  const watch = new OffsetWatch(s.brokers, group, pre.topics.raw, s.partitions);
  await watch.connect();
  const records = pre.expected.records.count;
  const bar = new ProgressBar('lux (max throughput)', pre.frames * s.recordsPerFrame, 'records', s.progress);
  const started = Date.now();
  const child = new Child('lux run', [LUX_BIN, 'run', '--config', config]);
  const sampler = new ProcSampler(child.pid);
  const series: Array<[number, number]> = [];
  let usage: ProcUsage | undefined;
  let t1: number;
  let t0: number;
  try {
    t0 = await child.waitAssigned(s.phaseTimeoutMs);
    t1 = await waitCommitted(s, watch, child, pre.frames, t0, bar, series);
    usage = sampler.stop();
  } finally {
    sampler.stop();
    const code = await child.stop();
    if (code !== 0) s.log(`lux run exited ${code}:\n${child.output()}`);
    await watch.close();
  }
  const seconds = (t1 - t0) / 1000;
  bar.done(`${records.toLocaleString('en-US')} records in ${seconds.toFixed(2)} s: ${Math.round(records / seconds).toLocaleString('en-US')} records/s`);
  const v = await verifyLux(s, pre.topics, pre.expected);
  s.log(`lux exactly once: ${v.verified ? 'verified' : 'FAILED'} (${v.verification})`);
  return { name: 'lux', records, frames: pre.frames, seconds, wallSeconds: (t1 - started) / 1000, recordsPerS: records / seconds, usage, series, ...v };
}

/** The passthrough baseline over the same raw topic: same consumer, same transactional producer, no decode. */
export async function runPassthrough(s: BenchSettings, pre: Preloaded, out: string): Promise<ThroughputRun> {
  const group = uniqueName('pt-g');
  const watch = new OffsetWatch(s.brokers, group, pre.topics.raw, s.partitions);
  await watch.connect();
  const records = pre.expected.records.count;
  const bar = new ProgressBar('passthrough baseline', pre.frames * s.recordsPerFrame, 'records', s.progress);
  const started = Date.now();
  const child = new Child('passthrough', [
    PASSTHROUGH_JS, '--brokers', s.brokers, '--group', group, '--transactional-id', `${group}-t`, '--in', pre.topics.raw, '--out', out,
    '--batch-max-messages', String(s.batchMaxMessages), '--commit-interval-ms', String(s.commitIntervalMs),
  ]);
  const sampler = new ProcSampler(child.pid);
  const series: Array<[number, number]> = [];
  let usage: ProcUsage | undefined;
  let t0: number;
  let t1: number;
  try {
    t0 = await child.waitAssigned(s.phaseTimeoutMs);
    t1 = await waitCommitted(s, watch, child, pre.frames, t0, bar, series);
    usage = sampler.stop();
  } finally {
    sampler.stop();
    const code = await child.stop();
    if (code !== 0) s.log(`passthrough exited ${code}:\n${child.output()}`);
    await watch.close();
  }
  const seconds = (t1 - t0) / 1000;
  bar.done(`${pre.frames.toLocaleString('en-US')} frames (${records.toLocaleString('en-US')} records) in ${seconds.toFixed(2)} s: ${Math.round(records / seconds).toLocaleString('en-US')} records/s`);
  const copy = await readChecksum(s, out);
  const verified = copy.equals(pre.raw);
  const verification = `read_committed ${out}: ${copy.count} frames, checksum ${copy.digest}; raw ${pre.raw.count}, ${pre.raw.digest}`;
  return { name: 'passthrough', records, frames: pre.frames, seconds, wallSeconds: (t1 - started) / 1000, recordsPerS: records / seconds, usage, series, verified, verification };
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
    await watch.close();
    if (exit === undefined) await new Promise((r) => sh.on('exit', r));
  }
  const seconds = (t1 - t0) / 1000;
  bar.done(`${pre.frames.toLocaleString('en-US')} frames in ${seconds.toFixed(2)} s: ${Math.round(records / seconds).toLocaleString('en-US')} records/s`);
  const copy = await readChecksum(s, out);
  const verified = copy.equals(pre.raw);
  const verification = `${out}: ${copy.count} frames, checksum ${copy.digest}; raw ${pre.raw.count}, ${pre.raw.digest}`;
  return { name: 'kcat', records, frames: pre.frames, seconds, wallSeconds: seconds, recordsPerS: records / seconds, usage: undefined, series, verified, verification };
}

function latencyHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

/** `{"event_time":"` opens every enriched record (src/enrich/record-json.ts), then the 24-character ISO time. */
const EVENT_TIME_AT = 15;

/** Percentiles for the plot: evenly spaced in nines, 0 to 5 nines (99.999%). */
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

/**
 * Fixed-rate mode: the daemon runs, the generator produces R records/s for D seconds (jitter 0, so each record's
 * event_time is the time it was generated, a few ms at most before its Kafka produce time), and a read_committed
 * consumer on the enriched topic records, per record, its receive time minus its event_time: the time from the
 * generator to the record being committed and visible, plus at most the consumer's fetch wait (5 ms).
 */
export async function runLuxRate(s: BenchSettings, created: string[]): Promise<RateRun> {
  const topics = runTopics('rate');
  await createRunTopics(s, topics);
  created.push(...Object.values(topics));
  const group = uniqueName('rate-g');
  const config = writeDaemonConfig(s, topics, group);
  const watch = new OffsetWatch(s.brokers, group, topics.raw, s.partitions);
  await watch.connect();
  const child = new Child('lux run', [LUX_BIN, 'run', '--config', config]);
  const sampler = new ProcSampler(child.pid);
  const hist = latencyHistogram();
  const seen = new ValueChecksum();
  const perSecond: number[] = [];
  let genStart = 0;
  let malformed = 0;
  const probe = new TopicConsumer(s.brokers, topics.enriched, { isolation: 'read_committed', untilEnd: false, lowLatency: true });
  let usage: ProcUsage | undefined;
  let produced = 0;
  let expected: Expected;
  try {
    await child.waitAssigned(s.phaseTimeoutMs);
    const probing = probe.run({
      onBatch(messages, receivedAt) {
        const sec = genStart > 0 ? Math.floor((receivedAt - genStart) / 1000) : 0;
        perSecond[sec] = (perSecond[sec] ?? 0) + messages.length;
        for (const m of messages) {
          const v = m.value;
          seen.add(v);
          const t = v === null || v.length < EVENT_TIME_AT + 24 ? NaN : Date.parse(v.toString('latin1', EVENT_TIME_AT, EVENT_TIME_AT + 24));
          if (Number.isNaN(t)) malformed++;
          else hist.recordValue(Math.max(0, receivedAt - t));
        }
      },
    });
    probing.catch(() => undefined);
    const bar = new ProgressBar(`lux @ ${s.rate.toLocaleString('en-US')} rec/s`, s.durationS, 's', s.progress, false);
    genStart = Date.now();
    const timer = setInterval(() => bar.update((Date.now() - genStart) / 1000, `p99 so far ${hist.totalCount > 0 ? hist.getValueAtPercentile(99) : 0} ms`), 250);
    let summary;
    try {
      summary = await runGenerator({
        brokers: s.brokers,
        topic: topics.raw,
        rate: s.rate,
        durationMs: s.durationS * 1000,
        quiet: true,
        traffic: { ...traffic(s) },
      });
    } finally {
      clearInterval(timer);
    }
    produced = summary.records;
    bar.done(`generator: ${summary.records.toLocaleString('en-US')} records in ${summary.frames.toLocaleString('en-US')} frames (${summary.badFrames} broken) in ${summary.seconds.toFixed(1)} s`);
    const frames = await watch.endOffsets(topics.raw);
    const drain = new ProgressBar('lux draining', frames, 'frames', s.progress);
    await waitCommitted(s, watch, child, frames, Date.now(), drain, []);
    usage = sampler.stop();
    drain.done('all generated frames committed');
    // the expected output: lux decode of exactly what the raw topic holds
    const framesFile = new FramesFile(path.join(s.workDir, `${topics.raw}.frames`));
    await new TopicConsumer(s.brokers, topics.raw, { isolation: 'read_uncommitted', untilEnd: true, timeoutMs: s.phaseTimeoutMs }).run({
      onBatch(messages) {
        for (const m of messages) framesFile.write(m.value ?? Buffer.alloc(0));
      },
    });
    framesFile.close();
    expected = await expectedFromFrames(framesFile.file);
    const deadline = Date.now() + s.phaseTimeoutMs;
    while (seen.count < expected.records.count && Date.now() < deadline) await sleep(50);
    await sleep(500); // anything written twice would show up now
    probe.stop();
    await probing.catch(() => undefined);
  } finally {
    probe.stop();
    sampler.stop();
    const code = await child.stop();
    if (code !== 0) s.log(`lux run exited ${code}:\n${child.output()}`);
    await watch.close();
  }
  const dlq = await readChecksum(s, topics.dlq);
  const verified = seen.equals(expected.records) && dlq.count === expected.deadLetters && malformed === 0;
  const verification =
    `read_committed ${topics.enriched}: ${seen.count} records, checksum ${seen.digest}; expected ${expected.records.count}, ${expected.records.digest}; ` +
    `dead letters ${dlq.count}, expected ${expected.deadLetters}${malformed > 0 ? `; ${malformed} records without a readable event_time` : ''}`;
  s.log(`lux exactly once at ${s.rate} records/s: ${verified ? 'verified' : 'FAILED'} (${verification})`);
  const at = (p: number): number => (hist.totalCount > 0 ? hist.getValueAtPercentile(p) : 0);
  const run: RateRun = {
    rate: s.rate,
    durationS: s.durationS,
    produced,
    records: seen.count,
    latencyMs: { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: hist.totalCount > 0 ? hist.maxValue : 0, mean: hist.totalCount > 0 ? hist.mean : 0, count: hist.totalCount },
    percentileCurve: percentileCurve(hist),
    series: Array.from({ length: perSecond.length }, (_, i) => [i, perSecond[i] ?? 0] as [number, number]),
    usage,
    verified,
    verification,
  };
  hist.destroy();
  return run;
}

export type { Expected };
