// Fixed-rate mode of `lux bench`: the daemon (or the passthrough) fed at a steady rate by the pre-encoded generator, each in its own process, with a read_committed probe measuring visible − event time, the CPU of every process and the daemon's latency breakdown.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../src/paths.js';
import { ValueChecksum } from './checksum.js';
import { Child } from './child.js';
import { commitToVisible, latencyBreakdown, scrapeMetrics, type LatencyBreakdown, type Scrape } from './daemon-metrics.js';
import { expectedFromFrames, FramesFile, LUX_BIN } from './expected.js';
import { writePack } from './frame-pack.js';
import { OffsetWatch, sleep, TopicConsumer, uniqueName } from './kafka.js';
import type { ProbeResult } from './latency-probe.js';
import { LoadMeter, type RunLoad } from './machine-load.js';
import { perRecordByThread, ProcSampler, ThreadMeter, type ProcUsage } from './proc-sample.js';
import { ProgressBar } from './progress.js';
import {
  createRunTopics, passthroughArgs, readChecksum, runTopics, sharedProcesses, traffic, verifyLux, waitCommitted, writeDaemonConfig, type BenchSettings,
} from './runs.js';

export const GENERATOR_JS = path.join(ROOT, 'dist', 'bench', 'e2e', 'rate-generator.js');
export const PROBE_JS = path.join(ROOT, 'dist', 'bench', 'e2e', 'latency-probe.js');

/** Placeholder event time of the packed frames (2020-01-01): broken frames keep it, so no probe mistakes them for live ones. */
const PACK_BASE_TIME_MS = Date.UTC(2020, 0, 1);
/** Frames packed beyond rate × duration: the generator catches up after a stall and must not run dry. */
const PACK_MARGIN = 1.02;

export interface RatePack {
  file: string;
  frames: number;
  /** seconds spent encoding (before any clock) */
  seconds: number;
}

/** What the generator process reported at its end. */
export interface GeneratorReport {
  frames: number;
  records: number;
  good_records: number;
  broken_frames: number;
  seconds: number;
  /** how far behind its schedule the generator ever was: a starved generator shows here */
  behind_max_ms: number;
  queue_full: number;
  exhausted: boolean;
}

export interface RateRun {
  /** 'lux' (the daemon, `lux run`) or 'passthrough' (the baseline at the same rate) */
  name: string;
  rate: number;
  durationS: number;
  produced: number;
  /** records the probe saw become visible */
  records: number;
  latencyMs: ProbeResult['latencyMs'];
  /** the same without the records of the run's first `steadyAfterMs` (event time): the daemon's steady state */
  steadyLatencyMs: ProbeResult['steadyLatencyMs'];
  steadyAfterMs: number;
  /** [percentile, ms] points for the HdrHistogram-style plot */
  percentileCurve: Array<[number, number]>;
  /** [second since the generator started, records that became visible (read_committed) in that second] */
  series: Array<[number, number]>;
  /** [second since the generator started, p99 ms, max ms] of the records that became visible in that second */
  tailSeries: Array<[number, number, number]>;
  /** the runner over its whole life: peak RSS, CPU */
  usage: ProcUsage | undefined;
  /** CPU of every process and of the machine from the generator's start until the output was all visible */
  load: RunLoad;
  /** the runner's CPU in that window per record, µs */
  cpuPerRecordUs: number | undefined;
  /** the daemon's CPU per record by thread group over the timed window, µs (LUX only) */
  threadCpuUs?: Record<string, number>;
  generator: GeneratorReport;
  /** the daemon's latency breakdown (LUX only) */
  breakdown?: LatencyBreakdown;
  verified: boolean;
  verification: string;
}

/** Encodes the frames of the rate runs once, before any clock: rate × duration records of the traffic model. */
export function preparePack(s: BenchSettings): RatePack {
  const t0 = Date.now();
  const frames = Math.ceil(((s.rate * s.durationS) / s.recordsPerFrame) * PACK_MARGIN) + 16;
  const file = path.join(s.workDir, 'rate.pack');
  const bar = new ProgressBar('encode frames', frames, 'frames', s.progress);
  bar.update(0);
  writePack(file, traffic(s), frames, PACK_BASE_TIME_MS);
  const seconds = (Date.now() - t0) / 1000;
  bar.done(`${frames.toLocaleString('en-US')} frames pre-encoded in ${seconds.toFixed(1)} s (not timed)`);
  return { file, frames, seconds };
}

/**
 * One fixed-rate run. The runner (daemon or passthrough), the probe and the generator are separate processes; the
 * clock starts when the generator is told "go" and the window ends once the probe has seen every good record.
 */
export async function runRate(s: BenchSettings, what: 'lux' | 'passthrough', pack: RatePack, created: string[]): Promise<RateRun> {
  const topics = runTopics(what === 'lux' ? 'rate' : 'rate-pt');
  const out = what === 'lux' ? topics.enriched : `${topics.raw}-passthrough`;
  await createRunTopics(s, topics, what === 'lux' ? [] : [out]);
  created.push(...Object.values(topics), ...(what === 'lux' ? [] : [out]));
  const group = uniqueName(what === 'lux' ? 'rate-g' : 'rate-pt-g');
  const args = what === 'lux' ? [LUX_BIN, 'run', '--config', writeDaemonConfig(s, topics, group)] : passthroughArgs(s, group, topics.raw, out);
  const watch = new OffsetWatch(s.brokers, group, topics.raw, s.partitions);
  await watch.connect();
  const runner = new Child(what === 'lux' ? 'lux run' : 'passthrough', args);
  const sampler = new ProcSampler(runner.pid);
  const probeFile = path.join(s.workDir, `${group}.probe.json`);
  let probe: Child | undefined;
  let gen: Child | undefined;
  let usage: ProcUsage | undefined;
  let load: RunLoad;
  let report: GeneratorReport;
  let result: ProbeResult;
  let breakdown: LatencyBreakdown | undefined;
  let threads: Record<string, number> | undefined;
  let goAt = 0;
  const label = `${what === 'lux' ? 'lux' : 'passthrough'} @ ${s.rate.toLocaleString('en-US')} rec/s`;
  try {
    await runner.waitAssigned(s.phaseTimeoutMs);
    probe = new Child('latency probe', [PROBE_JS, '--brokers', s.brokers, '--topic', out, '--format', what === 'lux' ? 'json' : 'lxe1', '--out', probeFile], { stdin: true });
    gen = new Child('generator', [GENERATOR_JS, '--brokers', s.brokers, '--topic', topics.raw, '--pack', pack.file, '--rate', String(s.rate), '--duration', String(s.durationS)], { stdin: true });
    await probe.waitFor('probe ready', s.phaseTimeoutMs);
    await gen.waitFor('generator ready', s.phaseTimeoutMs);
    let before: Scrape | undefined;
    if (what === 'lux' && runner.httpUrl !== undefined) before = await scrapeMetrics(runner.httpUrl).catch(() => undefined);
    const meter = new LoadMeter([
      { name: what === 'lux' ? 'daemon' : 'passthrough', pids: runner.pid },
      { name: 'generator', pids: gen.pid },
      { name: 'probe', pids: probe.pid },
      ...sharedProcesses(s),
    ]);
    const threadMeter = what === 'lux' ? new ThreadMeter(runner.pid) : undefined;
    goAt = Date.now();
    gen.tell('go');
    const bar = new ProgressBar(label, s.durationS, 's', s.progress, false);
    const seen = (): number => Number(probe?.event('probe')?.records ?? 0);
    while (gen.event('generator done') === undefined) {
      if (!gen.running && gen.event('generator done') === undefined) throw new Error(`the generator exited before it was done:\n${gen.output()}`);
      if (!runner.running) throw new Error(`${runner.name} exited during the run:\n${runner.output()}`);
      bar.update(Math.min(s.durationS, (Date.now() - goAt) / 1000), `${seen().toLocaleString('en-US')} records visible`);
      await sleep(250);
    }
    report = gen.event('generator done') as unknown as GeneratorReport;
    bar.done(
      `generator: ${report.records.toLocaleString('en-US')} records in ${report.frames.toLocaleString('en-US')} frames (${report.broken_frames} broken) in ` +
        `${report.seconds.toFixed(1)} s, at most ${report.behind_max_ms} ms behind schedule${report.exhausted ? ' (ran out of pre-encoded frames)' : ''}`,
    );
    const frames = await watch.endOffsets(topics.raw);
    if (frames !== report.frames) s.log(`note: the raw topic holds ${frames} frames, the generator sent ${report.frames}`);
    await waitCommitted(s, watch, runner, frames, Date.now(), new ProgressBar(`${what} draining`, frames, 'frames', s.progress), []);
    const deadline = Date.now() + s.phaseTimeoutMs;
    while (seen() < report.good_records) {
      if (Date.now() > deadline) throw new Error(`latency probe: ${seen()} of ${report.good_records} records visible after ${s.phaseTimeoutMs} ms`);
      if (!probe.running) throw new Error(`latency probe exited:\n${probe.output()}`);
      await sleep(20);
    }
    load = meter.stop();
    threads = threadMeter?.stop();
    usage = sampler.stop();
    if (before !== undefined) {
      const after = await scrapeMetrics(runner.httpUrl!).catch(() => undefined);
      if (after !== undefined) breakdown = latencyBreakdown(before, after, load.seconds);
    }
    probe.tell('stop');
    await probe.exited;
    result = JSON.parse(fs.readFileSync(probeFile, 'utf8')) as ProbeResult;
  } finally {
    sampler.stop();
    await probe?.stop();
    await gen?.stop();
    const code = await runner.stop();
    if (code !== 0) s.log(`${runner.name} exited ${code}:\n${runner.output()}`);
    await watch.close();
  }
  // Only when the daemon's quantiles are the whole run's: else the two distributions are of different records.
  if (breakdown?.quantiles_cover_run === true) breakdown.commit_to_visible = round1(commitToVisible(result.latencyMs, breakdown.event_to_commit));
  else if (breakdown !== undefined) s.log(`the run took ${load.seconds} s, longer than the daemon's quantile window: no commit→visible figure`);
  const v = what === 'lux' ? await verifyRateLux(s, topics) : await verifyCopy(s, topics.raw, out);
  s.log(`${what} exactly once at ${s.rate} records/s: ${v.verified ? 'verified' : 'FAILED'} (${v.verification})`);
  const runnerCpu = load.processes[0]!.cpu_s;
  return {
    name: what,
    rate: s.rate,
    durationS: s.durationS,
    produced: report.records,
    records: result.records,
    latencyMs: result.latencyMs,
    steadyLatencyMs: result.steadyLatencyMs,
    steadyAfterMs: result.steadyAfterMs,
    percentileCurve: result.percentileCurve,
    series: perSecondSeries(result.perSecond, goAt),
    tailSeries: result.tailPerSecond.map(([sec, p99, max]) => [Math.max(0, sec - Math.floor(goAt / 1000)), p99, max] as [number, number, number]),
    usage,
    load,
    cpuPerRecordUs: runnerCpu === null || report.good_records === 0 ? undefined : Math.round((runnerCpu / report.good_records) * 1e7) / 10,
    ...(threads === undefined ? {} : { threadCpuUs: perRecordByThread(threads, report.good_records) }),
    generator: report,
    ...(breakdown === undefined ? {} : { breakdown }),
    ...v,
  };
}

/** [second since go, records] with the seconds where nothing became visible as zeros (commits can be that far apart). */
function perSecondSeries(perSecond: Array<[number, number]>, goAt: number): Array<[number, number]> {
  const counts = new Map(perSecond.map(([sec, n]) => [Math.max(0, sec - Math.floor(goAt / 1000)), n]));
  const last = Math.max(-1, ...counts.keys());
  return Array.from({ length: last + 1 }, (_, i) => [i, counts.get(i) ?? 0] as [number, number]);
}

function round1<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 10) / 10 : v])) as T;
}

/** Exactly once for the daemon: the expected output is `lux decode` of what the raw topic holds (stamped at send time). */
async function verifyRateLux(s: BenchSettings, topics: ReturnType<typeof runTopics>): Promise<{ verified: boolean; verification: string }> {
  const framesFile = new FramesFile(path.join(s.workDir, `${topics.raw}.frames`));
  await new TopicConsumer(s.brokers, topics.raw, { isolation: 'read_uncommitted', untilEnd: true, timeoutMs: s.phaseTimeoutMs }).run({
    onBatch(messages) {
      for (const m of messages) framesFile.write(m.value ?? Buffer.alloc(0));
    },
  });
  framesFile.close();
  const expected = await expectedFromFrames(framesFile.file);
  fs.rmSync(framesFile.file, { force: true });
  return verifyLux(s, topics, expected);
}

/** The passthrough's copy holds exactly the raw frames (count and checksum). */
async function verifyCopy(s: BenchSettings, raw: string, out: string): Promise<{ verified: boolean; verification: string }> {
  const want: ValueChecksum = await readChecksum(s, raw);
  const copy = await readChecksum(s, out);
  return { verified: copy.equals(want), verification: `read_committed ${out}: ${copy.count} frames, checksum ${copy.digest}; raw ${want.count}, ${want.digest}` };
}
