// The torture run (issue 16): its own broker, N instances in one group over a multi-million-record input, seeded SIGKILLs and broker restarts while the work is in flight, then every output checked against the one-pass reference; one summary line.
import fs from 'node:fs';
import path from 'node:path';
import { startBroker, stopBroker } from '../../src/kafka-local/broker.js';
import { STATE_DIR } from '../../src/paths.js';
import { describeFault, faultSchedule, type Fault } from './faults.js';
import { writeTortureInput, type TortureInput } from './input.js';
import { DaemonInstance, instanceEnv, instanceYaml } from './instances.js';
import { checkTortureOptions, TORTURE_DEFAULTS, type TortureOptions } from './options.js';
import { AlarmReference, decodeReference } from './reference.js';
import { RssSampler } from './rss.js';
import { createRunTopics, deleteRunTopics, produceInput, RunProgress, runTopics, TopicCounter } from './run-kafka.js';
import { kpiDiffs, verdictOk, verifyRun, type Verdict } from './verify.js';

/** Timings of the run's own steps that an operator should not need to set. */
const RUN_INTERNALS = {
  /** how often progress is read and faults are checked */
  pollMs: 500,
  /** progress lines on stderr this often */
  reportMs: 10_000,
  /** once every output is complete, how long to wait for anything written twice before reading them back */
  settleMs: 3_000,
  /** an instance that exited by itself is started again after this (as systemd's Restart=on-failure would) */
  restartAfterExitMs: 1_000,
  brokerReadyMs: 180_000,
} as const;

export interface TortureResult {
  ok: boolean;
  /** the one line the run prints */
  summary: string;
  verdict: Verdict | undefined;
  kills: number;
  brokerRestarts: number;
  /** exits of instances the run did not cause */
  selfExits: string[];
  peakRssMb: number;
  seconds: number;
  /** the work directory (input, reference files, instance logs) */
  dir: string;
  /** why the run could not finish, if it could not */
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The group made no progress for the stall timeout: the run stops waiting and reads back what there is. */
class StallError extends Error {}

export async function runTorture(partial: Partial<TortureOptions> = {}, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<TortureResult> {
  const o = checkTortureOptions({ ...TORTURE_DEFAULTS, ...partial });
  const t0 = Date.now();
  const say = (line: string) => {
    if (o.verbose) log(`[torture ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  };
  const dir = o.dir ?? path.join(STATE_DIR, 'torture', `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(dir, { recursive: true });

  // ── the input and what the daemons must make of it
  const alarmRef = new AlarmReference();
  const input: TortureInput = writeTortureInput(path.join(dir, 'input.lxe1'), { records: o.records, partitions: o.partitions, seed: o.seed }, alarmRef);
  const alarms = alarmRef.finish();
  say(`input: ${input.records} records in ${input.frames} frames (${input.badFrames} broken) over ${o.partitions} partitions; ${alarms.length} reference alarms`);
  const ref = await decodeReference(input, dir, o.kpiWindowMs);
  say(`reference: lux decode agrees (${ref.deadLetters.size} dead letters), ${ref.kpis.size} KPI objects in ${ref.kpiWindows} windows`);

  const faults = faultSchedule({ kills: o.kills, brokerRestarts: o.brokerRestarts, longOutageMs: o.longOutageMs, shortOutageMs: o.shortOutageMs, seed: o.seed });
  fs.writeFileSync(path.join(dir, 'faults.txt'), `${faults.map(describeFault).join('\n')}\n`);

  const bootstrap = await startBroker({ port: o.port, readyTimeoutMs: RUN_INTERNALS.brokerReadyMs, progress: (l) => say(l) });
  const { group, topics } = runTopics('torture');
  const instances: DaemonInstance[] = [];
  let sampler: RssSampler | undefined;
  let progress: RunProgress | undefined;
  let counters: TopicCounter[] | undefined;
  let kills = 0;
  let brokerRestarts = 0;
  let verdict: Verdict | undefined;
  let error: string | undefined;
  let ended = false;
  const restarts: Promise<void>[] = [];
  let watchdog: NodeJS.Timeout | undefined;
  let frameOffsets: Float64Array | undefined;
  try {
    await createRunTopics(bootstrap, topics, o.partitions);
    const env = instanceEnv(bootstrap);
    for (let i = 0; i < o.instances; i++) {
      instances.push(new DaemonInstance(i, dir, instanceYaml({ bootstrap, group, topics, transactionTimeoutMs: o.transactionTimeoutMs, kpiWindowMs: o.kpiWindowMs, workers: o.workers }, i), env));
    }
    sampler = new RssSampler(() => instances.map((d) => d.pid));
    for (const d of instances) d.start();
    // an instance that exits by itself is a finding; it is started again, as systemd would
    const pendingRestart = new Set<number>();
    watchdog = setInterval(() => {
      for (const d of instances) {
        if (d.crashed && !ended && !pendingRestart.has(d.index)) {
          pendingRestart.add(d.index);
          setTimeout(() => {
            pendingRestart.delete(d.index);
            if (!ended) d.start();
          }, RUN_INTERNALS.restartAfterExitMs);
        }
      }
    }, RUN_INTERNALS.pollMs);
    watchdog.unref();

    let produced = false;
    const producing = produceInput(bootstrap, topics.raw, input, { onProgress: (n) => n % 500_000 === 0 && say(`produced ${n} frames`) }).then((offsets) => {
      produced = true;
      say(`input produced: ${input.frames} frames`);
      return offsets;
    });
    producing.catch(() => undefined);

    progress = new RunProgress(bootstrap, group, o.partitions);
    counters = [new TopicCounter(bootstrap, topics.kpis, o.partitions), new TopicCounter(bootstrap, topics.alarms, o.partitions)];
    for (const c of counters) await c.start();
    const share = async (): Promise<number | undefined> => {
      try {
        return (await (progress as RunProgress).committedFrames(topics.raw)) / input.frames;
      } catch {
        return undefined; // the broker is away
      }
    };
    let lastReport = 0;
    const report = (p: number | undefined, what: string): void => {
      if (Date.now() - lastReport < RUN_INTERNALS.reportMs) return;
      lastReport = Date.now();
      const running = instances.filter((d) => d.running).length;
      say(`${what}: ${p === undefined ? '?' : (p * 100).toFixed(1)} % committed, ${running}/${o.instances} instances up, ${kills} kills, ${brokerRestarts} broker restarts, peak RSS ${sampler?.peakMb.toFixed(0)} MB`);
    };
    // A stuck group (the recovery that never resumes, as issue 16 saw) ends the waiting, not the run: the outputs are
    // still read back, so the summary says what was lost.
    let state = '';
    let movedAt = Date.now();
    const outputs = () => `${(counters as TopicCounter[])[0].count}/${ref.kpis.size} KPI objects, ${(counters as TopicCounter[])[1].count}/${alarms.length} alarms`;
    const waitFor = async (what: string, done: (p: number | undefined) => boolean): Promise<void> => {
      for (;;) {
        const p = await share();
        report(p, `${what} (${outputs()})`);
        if (done(p)) return;
        const now = `${p} ${outputs()}`;
        if (now !== state) {
          state = now;
          movedAt = Date.now();
        } else if (Date.now() - movedAt > o.stallTimeoutMs) {
          throw new StallError(`no progress for ${o.stallTimeoutMs} ms while ${what}: ${p === undefined ? 'the broker away' : `${(p * 100).toFixed(2)} % of the input committed`}, ${outputs()}`);
        }
        await sleep(RUN_INTERNALS.pollMs);
      }
    };

    try {
      // ── the faults, in schedule order
      for (const f of faults) {
        if (f.afterPreviousMs !== undefined) await sleep(f.afterPreviousMs);
        else await waitFor('waiting for the next fault', (p) => p !== undefined && p >= f.atProgress && (f.kind !== 'broker' || produced));
        if (f.kind === 'kill') {
          // every scheduled kill happens: when all instances are down, the next one to come back is the victim
          if (!instances.some((d) => d.running)) await waitFor('waiting for an instance to kill', () => instances.some((d) => d.running));
          const up = instances.filter((d) => d.running);
          const victim = up[(f.victim ?? 0) % up.length];
          sampler.sample();
          await victim.kill();
          kills++;
          say(`SIGKILL instance ${victim.index} (${kills}/${o.kills}); back in ${f.downMs} ms`);
          restarts.push(
            sleep(f.downMs ?? 0).then(() => {
              if (!ended) victim.start();
            }),
          );
        } else {
          await brokerRestart(f, o.port, say);
          brokerRestarts++;
        }
      }
      await Promise.all(restarts);
      frameOffsets = await producing;
      // ── the end: every frame committed, and as many KPI objects and alarms as the reference (the windows the end
      // frames close are emitted once the merges have read the last partials)
      await waitFor('draining', (p) => p !== undefined && p >= 1 && counters![0].count >= ref.kpis.size && counters![1].count >= alarms.length);
    } catch (err) {
      if (!(err instanceof StallError)) throw err;
      error = err.message;
      say(error);
    }
    // a quiet moment for anything written twice, then the instances stop (SIGTERM: drained, committed)
    await sleep(RUN_INTERNALS.settleMs);
    ended = true;
    sampler.sample();
    await Promise.all(instances.map((d) => d.stop()));
    sampler.stop();
    say('verifying every output against the reference');
    verdict = await verifyRun(bootstrap, topics, input, ref, alarms, frameOffsets ?? (await producing), path.join(dir, 'alarm-diffs.txt'));
  } catch (err) {
    error = (err as Error).stack ?? String(err);
    say(`the run failed: ${error}`);
  } finally {
    ended = true;
    clearInterval(watchdog);
    sampler?.stop();
    await Promise.all(instances.map((d) => d.stop(5_000)));
    await progress?.close().catch(() => undefined);
    for (const c of counters ?? []) await c.close().catch(() => undefined);
  }

  const selfExits = instances.flatMap((d) => d.unexpectedExits);
  const ok = error === undefined && verdict !== undefined && verdictOk(verdict) && selfExits.length === 0;
  const seconds = Math.round((Date.now() - t0) / 1000);
  const peakRssMb = Math.round(sampler?.peakMb ?? 0);
  const v = verdict;
  const summary = [
    `torture: ${ok ? 'PASS' : 'FAIL'}`,
    `records=${input.records}`,
    `frames=${input.frames}`,
    `partitions=${o.partitions}`,
    `instances=${o.instances}`,
    `kills=${kills}`,
    `broker_restarts=${brokerRestarts}`,
    `lost=${v?.lost ?? '?'}`,
    `duplicated=${v?.duplicated ?? '?'}`,
    `out_of_order=${v?.outOfOrder ?? '?'}`,
    `different=${v?.different ?? '?'}`,
    `dead_letters=${v?.deadLetters ?? '?'}/${input.badFrames}`,
    `dead_letter_diffs=${v === undefined ? '?' : v.deadLettersLost + v.deadLettersDuplicated + v.deadLettersWrong}`,
    `alarms=${v?.alarms ?? '?'}/${alarms.length}`,
    `alarm_diffs=${v?.alarmDiffs ?? '?'}`,
    `kpis=${v?.kpis ?? '?'}/${ref.kpis.size}`,
    `kpi_windows=${ref.kpiWindows}`,
    `kpi_diffs=${v === undefined ? '?' : kpiDiffs(v)}`,
    `self_exits=${selfExits.length}`,
    `peak_rss_mb=${peakRssMb}`,
    `seconds=${seconds}`,
  ].join(' ');
  if (!ok) {
    for (const e of v?.examples ?? []) log(`  ${e}`);
    for (const e of selfExits) log(`  ${e}`);
    if (error !== undefined) log(`  error: ${error}`);
    log(`  work directory kept: ${dir} (instance logs, input, reference, alarm-diffs.txt when alarms differ); topics kept on the broker at port ${o.port}`);
  }
  if (ok && !o.keep) {
    await deleteRunTopics(bootstrap, topics).catch((err: Error) => say(`could not delete the run's topics: ${err.message}`));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await stopBroker({ port: o.port, progress: (l) => say(l) }).catch(() => undefined);
  return { ok, summary, verdict, kills, brokerRestarts, selfExits, peakRssMb, seconds, dir, error };
}

/** One broker restart: stopped (or SIGKILLed), left down for the outage, started again and waited for. */
async function brokerRestart(f: Fault, port: number, say: (l: string) => void): Promise<void> {
  const t = Date.now();
  await stopBroker({ port, progress: () => undefined }, { crash: f.crash === true });
  say(`broker ${f.crash === true ? 'SIGKILLed' : 'stopped'}; down for ${f.outageMs} ms`);
  await sleep(f.outageMs ?? 0);
  await startBroker({ port, readyTimeoutMs: RUN_INTERNALS.brokerReadyMs, progress: () => undefined });
  say(`broker back after ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
