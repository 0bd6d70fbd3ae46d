// The overload run (`npm run overload`, issue 16): the daemon's capacity measured on a backlog, then a producer at three times that for minutes while RSS, lag, /ready and the SLA metrics are sampled; the backlog drains afterwards and every output is checked exactly once against the one-pass reference.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { startBroker, stopBroker } from '../../src/kafka-local/broker.js';
import { ROOT, STATE_DIR } from '../../src/paths.js';
import { writeTortureInput, type TortureInput } from './input.js';
import { DaemonInstance, instanceEnv, instanceYaml } from './instances.js';
import { OVERLOAD_DEFAULTS, type OverloadOptions } from './options.js';
import type { ProbeAnswer } from './probe-thread.js';
import { AlarmReference, decodeReference } from './reference.js';
import { readRss, RssSampler } from './rss.js';
import { createRunTopics, deleteRunTopics, produceInput, RunProgress, runTopics, TopicCounter } from './run-kafka.js';
import { kpiDiffs, verdictOk, verifyRun, type Verdict } from './verify.js';

/** One sample of the overload phase. */
export interface OverloadSample {
  atS: number;
  producedFrames: number;
  committedFrames: number;
  /** frames produced and not yet committed by the group */
  lagFrames: number;
  rssMb: number;
  ready: number;
  /** /ready's reasons, joined */
  why: string;
  slaBreach: number | undefined;
  /** the SLA percentile of event-to-commit latency, seconds */
  slaSeconds: number | undefined;
  /** lux_consumer_lag_messages summed over the partitions */
  consumerLag: number | undefined;
  ringSlotsUsed: number | undefined;
}

export interface OverloadResult {
  ok: boolean;
  summary: string;
  capacityRecordsPerS: number;
  rateRecordsPerS: number;
  samples: OverloadSample[];
  verdict: Verdict | undefined;
  peakRssMb: number;
  drainS: number;
  dir: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A Prometheus sample's value (the sum over its label sets), or undefined when absent. */
function metric(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}

/**
 * The daemon's /ready and /metrics, asked from a thread of its own: this process also produces the input at three
 * times the daemon's capacity, and its busy event loop once let every 3 s probe time out while the daemon answered
 * curl in 0.1–0.5 s.
 */
class Prober {
  // the compiled module (also when this file runs from source, as under vitest)
  private readonly worker = new Worker(path.join(ROOT, 'dist', 'bench', 'torture', 'probe-thread.js'));

  probe(url: string | undefined): Promise<ProbeAnswer> {
    if (url === undefined) return Promise.resolve({ ready: 0, why: 'no endpoint yet', metrics: '' });
    return new Promise((resolve) => {
      this.worker.once('message', resolve);
      this.worker.postMessage(url);
    });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

export async function runOverload(partial: Partial<OverloadOptions> = {}, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<OverloadResult> {
  const o: OverloadOptions = { ...OVERLOAD_DEFAULTS, ...partial };
  const t0 = Date.now();
  const say = (line: string) => {
    if (o.verbose) log(`[overload ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  };
  const dir = o.dir ?? path.join(STATE_DIR, 'overload', `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(dir, { recursive: true });
  const bootstrap = await startBroker({ port: o.port, readyTimeoutMs: 180_000, progress: (l) => say(l) });
  const env = instanceEnv(bootstrap);
  const yaml = (group: string, topics: ReturnType<typeof runTopics>['topics']) =>
    instanceYaml({ bootstrap, group, topics, transactionTimeoutMs: o.transactionTimeoutMs, kpiWindowMs: o.kpiWindowMs, workers: o.workers, memoryBudgetMb: o.memoryBudgetMb }, 0);
  let instance: DaemonInstance | undefined;
  let sampler: RssSampler | undefined;
  const prober = new Prober();
  let verdict: Verdict | undefined;
  let error: string | undefined;
  const samples: OverloadSample[] = [];
  let capacity = 0;
  let rate = 0;
  let drainS = 0;
  let input: TortureInput | undefined;
  let topics: ReturnType<typeof runTopics>['topics'] | undefined;
  try {
    // ── capacity: how fast one instance drains a backlog (records/s), with everything else as in the overload phase
    const cal = runTopics('overload-cal');
    await createRunTopics(bootstrap, cal.topics, o.partitions);
    const g0 = Date.now();
    const calInput = writeTortureInput(path.join(dir, 'calibration.lxe1'), { records: o.calibrationRecords, partitions: o.partitions, seed: o.seed + 1, startMs: Date.now(), stepMs: 1 }, { record() {} });
    const genRecordsPerMs = calInput.records / Math.max(1, Date.now() - g0);
    await produceInput(bootstrap, cal.topics.raw, calInput);
    const calDir = path.join(dir, 'calibration');
    fs.mkdirSync(calDir, { recursive: true });
    const calInstance = new DaemonInstance(0, calDir, yaml(cal.group, cal.topics), env);
    const calProgress = new RunProgress(bootstrap, cal.group, o.partitions);
    calInstance.start();
    const points: Array<[number, number]> = [];
    for (;;) {
      const done = await calProgress.committedFrames(cal.topics.raw).catch(() => 0);
      points.push([Date.now(), done]);
      if (done >= calInput.frames) break;
      await sleep(500);
    }
    await calInstance.stop();
    await calProgress.close();
    await deleteRunTopics(bootstrap, cal.topics).catch(() => undefined);
    fs.rmSync(path.join(dir, 'calibration.lxe1'), { force: true });
    const from = points.find(([, f]) => f >= calInput.frames * 0.1) ?? points[0];
    const to = points.find(([, f]) => f >= calInput.frames * 0.9) ?? points[points.length - 1];
    const perFrame = calInput.records / calInput.frames;
    capacity = ((to[1] - from[1]) * perFrame) / Math.max(0.001, (to[0] - from[0]) / 1000);
    rate = capacity * o.factor;
    say(`capacity: ${capacity.toFixed(0)} records/s draining a backlog of ${calInput.records} records; the producer runs at ${rate.toFixed(0)} records/s for ${o.seconds} s`);

    // ── the overload input: event time keeps pace with the producer, so the SLA measures the real delay
    const records = Math.round(rate * o.seconds);
    const framesPerS = rate / perFrame;
    const startAt = Date.now() + Math.ceil((records / genRecordsPerMs) * 1.3) + 5_000;
    const alarmRef = new AlarmReference();
    input = writeTortureInput(path.join(dir, 'input.lxe1'), { records, partitions: o.partitions, seed: o.seed, startMs: startAt, stepMs: 1000 / framesPerS }, alarmRef);
    const alarms = alarmRef.finish();
    say(`input: ${input.records} records in ${input.frames} frames; production starts in ${((startAt - Date.now()) / 1000).toFixed(1)} s`);

    const run = runTopics('overload');
    topics = run.topics;
    await createRunTopics(bootstrap, topics, o.partitions);
    instance = new DaemonInstance(0, dir, yaml(run.group, topics), env);
    instance.start();
    const inst = instance;
    sampler = new RssSampler(() => [inst.pid]);
    const progress = new RunProgress(bootstrap, run.group, o.partitions);
    if (startAt > Date.now()) await sleep(startAt - Date.now());
    let produced = 0;
    let producing = true;
    const production = produceInput(bootstrap, topics.raw, input, { ratePerS: framesPerS, onProgress: (n) => (produced = n) }).finally(() => {
      producing = false;
    });
    production.catch(() => undefined);
    const prodStart = Date.now();
    let prodEnd = 0;
    let lastCommitted = -1;
    let lastMove = Date.now();
    for (;;) {
      await sleep(o.sampleMs);
      if (!producing && prodEnd === 0) {
        prodEnd = Date.now();
        produced = input.frames;
        say('producer done: the backlog drains');
      }
      const committed = await progress.committedFrames(topics.raw).catch(() => lastCommitted);
      const p = await prober.probe(instance.url);
      const rss = instance.pid === undefined ? undefined : readRss(instance.pid);
      const s: OverloadSample = {
        atS: Math.round((Date.now() - prodStart) / 1000),
        producedFrames: produced,
        committedFrames: committed,
        lagFrames: Math.max(0, produced - committed),
        rssMb: Math.round(rss?.rssMb ?? 0),
        ready: p.ready,
        why: p.why,
        slaBreach: metric(p.metrics, 'lux_sla_breach'),
        slaSeconds: metric(p.metrics, 'lux_sla_percentile_seconds'),
        consumerLag: metric(p.metrics, 'lux_consumer_lag_messages'),
        ringSlotsUsed: metric(p.metrics, 'lux_ring_slots_used'),
      };
      samples.push(s);
      say(`${s.atS} s: produced ${s.producedFrames}, committed ${s.committedFrames} (lag ${s.lagFrames} frames; lux_consumer_lag_messages ${s.consumerLag ?? '?'}), RSS ${s.rssMb} MB, /ready ${s.ready}${s.why === '' ? '' : ` (${s.why})`}, SLA p: ${s.slaSeconds?.toFixed(1) ?? '?'} s breach ${s.slaBreach ?? '?'}`);
      if (committed >= input.frames && prodEnd > 0) {
        drainS = (Date.now() - prodEnd) / 1000;
        break;
      }
      if (committed !== lastCommitted) {
        lastCommitted = committed;
        lastMove = Date.now();
      } else if (Date.now() - lastMove > o.stallTimeoutMs) {
        throw new Error(`no progress for ${o.stallTimeoutMs} ms at ${committed} of ${input.frames} frames`);
      }
    }
    const frameOffsets = await production;
    await progress.close();

    // ── exactly once: the reference (computed now that the machine is free), the last windows, then every output
    const ref = await decodeReference(input, dir, o.kpiWindowMs);
    const counters = [new TopicCounter(bootstrap, topics.kpis, o.partitions), new TopicCounter(bootstrap, topics.alarms, o.partitions)];
    for (const c of counters) await c.start();
    const deadline = Date.now() + o.stallTimeoutMs;
    while ((counters[0].count < ref.kpis.size || counters[1].count < alarms.length) && Date.now() < deadline) await sleep(1000);
    for (const c of counters) await c.close();
    await sleep(3000);
    sampler.stop();
    await instance.stop();
    verdict = await verifyRun(bootstrap, topics, input, ref, alarms, frameOffsets);
  } catch (err) {
    error = (err as Error).stack ?? String(err);
    say(`the run failed: ${error}`);
  } finally {
    sampler?.stop();
    await prober.stop();
    await instance?.stop(5_000);
  }
  const peakRssMb = Math.round(sampler?.peakMb ?? 0);
  const v = verdict;
  const selfExits = instance?.unexpectedExits ?? [];
  const withinBudget = peakRssMb <= o.memoryBudgetMb;
  const ok = error === undefined && v !== undefined && verdictOk(v) && selfExits.length === 0 && withinBudget;
  const notReady = samples.filter((s) => s.ready !== 200).length * (o.sampleMs / 1000);
  const breached = samples.filter((s) => s.slaBreach === 1).length * (o.sampleMs / 1000);
  const summary = [
    `overload: ${ok ? 'PASS' : 'FAIL'}`,
    `capacity=${capacity.toFixed(0)}rec/s`,
    `rate=${rate.toFixed(0)}rec/s(x${o.factor})`,
    `produce_s=${o.seconds}`,
    `records=${input?.records ?? '?'}`,
    `max_lag_frames=${Math.max(0, ...samples.map((s) => s.lagFrames))}`,
    `drain_s=${drainS.toFixed(0)}`,
    `peak_rss_mb=${peakRssMb}`,
    `budget_mb=${o.memoryBudgetMb}`,
    `not_ready_s≈${notReady.toFixed(0)}`,
    `sla_breached_s≈${breached.toFixed(0)}`,
    `lost=${v?.lost ?? '?'}`,
    `duplicated=${v?.duplicated ?? '?'}`,
    `out_of_order=${v?.outOfOrder ?? '?'}`,
    `different=${v?.different ?? '?'}`,
    `dead_letter_diffs=${v === undefined ? '?' : v.deadLettersLost + v.deadLettersDuplicated + v.deadLettersWrong}`,
    `alarm_diffs=${v?.alarmDiffs ?? '?'}`,
    `kpi_diffs=${v === undefined ? '?' : kpiDiffs(v)}`,
    `self_exits=${selfExits.length}`,
    `seconds=${Math.round((Date.now() - t0) / 1000)}`,
  ].join(' ');
  fs.writeFileSync(path.join(dir, 'overload.json'), JSON.stringify({ options: o, summary, capacity, rate, drainS, peakRssMb, samples, verdict, error }, null, 2));
  if (!ok) {
    for (const e of v?.examples ?? []) log(`  ${e}`);
    for (const e of selfExits) log(`  ${e}`);
    if (!withinBudget) log(`  peak RSS ${peakRssMb} MB is over pipeline.memory_budget_mb ${o.memoryBudgetMb}`);
    if (error !== undefined) log(`  error: ${error}`);
    log(`  work directory kept: ${dir}`);
  } else {
    if (!o.keep && topics !== undefined) await deleteRunTopics(bootstrap, topics).catch(() => undefined);
    if (!o.keep) fs.rmSync(path.join(dir, 'input.lxe1'), { force: true });
    log(`  samples and instance log: ${dir}`);
  }
  await stopBroker({ port: o.port, progress: (l) => say(l) }).catch(() => undefined);
  return { ok, summary, capacityRecordsPerS: capacity, rateRecordsPerS: rate, samples, verdict, peakRssMb, drainS, dir };
}
