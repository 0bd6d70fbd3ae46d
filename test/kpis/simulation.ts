// A daemon's KPI path without Kafka: instances owning raw partitions fold decoded batches and write one partials message per shard per transaction into an in-memory log; mergers read the log per shard, prepare, commit or abort, crash and restart from what they committed.
import type { Snapshot } from '../../src/enrich/snapshot.js';
import type { KpiAlarmDecision } from '../../src/kpis/kpi-json.js';
import { KpiMergeCore, type KpiMergeOptions, type KpiPrepared } from '../../src/kpis/merge-core.js';
import { TransactionPartials } from '../../src/kpis/transaction-partials.js';
import { batchPartials, DecodeBatches } from './harness.js';

export interface ProduceOptions {
  windowMs: number;
  rawPartitions: number;
  shards: number;
  /** the raw partitions of each instance */
  instances: number[][];
  /** frames each instance takes from each of its partitions per transaction */
  framesPerPartition: number;
  idleTimeoutMs: number;
  /** wall clock of the first transaction, advancing 100 ms per transaction */
  startMs?: number;
}

/** The partials topic: per shard, its messages by offset. */
export type PartialsLog = Buffer[][];

/** The raw partition of a frame: its equipment_id (header bytes 8..11) modulo the partition count. */
export function partitionOf(frame: Uint8Array, partitions: number): number {
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).readUInt32BE(8) % partitions;
}

/**
 * Runs the instances over `frames` (each raw partition in input order) and returns the partials log they wrote,
 * ending with a round in which every partition has gone idle.
 */
export function producePartials(frames: readonly Uint8Array[], snapshot: Snapshot, o: ProduceOptions): PartialsLog {
  const queues: Uint8Array[][] = Array.from({ length: o.rawPartitions }, () => []);
  for (const f of frames) queues[partitionOf(f, o.rawPartitions)].push(f);
  const log: PartialsLog = Array.from({ length: o.shards }, () => []);
  let now = o.startMs ?? 1_000_000;
  const decode = new DecodeBatches();
  const instances = o.instances.map((owned) => {
    const tp = new TransactionPartials({ windowMs: o.windowMs, shards: o.shards, idleTimeoutMs: o.idleTimeoutMs });
    tp.assign(owned, now);
    return { owned, tp, partials: batchPartials(snapshot, o.windowMs, o.shards) };
  });
  const at = new Array<number>(o.rawPartitions).fill(0);
  const commit = (tp: TransactionPartials): void => {
    for (const m of tp.prepare(now)) log[m.shard].push(m.value);
    tp.settle(true);
  };
  for (;;) {
    let left = false;
    for (const inst of instances) {
      const batch: Uint8Array[] = [];
      const parts: number[] = [];
      for (const p of inst.owned) {
        const take = queues[p].slice(at[p], at[p] + o.framesPerPartition);
        at[p] += take.length;
        for (const f of take) {
          batch.push(f);
          parts.push(p);
        }
        if (at[p] < queues[p].length) left = true;
      }
      if (batch.length > 0) inst.tp.add(decode.fold(inst.partials, batch, parts), now);
      commit(inst.tp);
    }
    now += 100;
    if (!left) break;
  }
  now += o.idleTimeoutMs;
  for (const inst of instances) {
    if (!inst.tp.due(now)) throw new Error('the idle announcement should be due');
    commit(inst.tp);
  }
  return log;
}

/** The committed output of a merger (or of several runs of it across crashes). */
export interface MergeOutput {
  /** every committed KPI message, in order */
  kpis: Array<{ key: string; value: string }>;
  alarms: KpiAlarmDecision[];
}

/** One merger over some shards of a log: receives, prepares, commits or aborts, like the daemon's KPI side. */
export class MergeDriver {
  readonly core: KpiMergeCore;
  /** the next offset to read, per shard */
  readonly position = new Map<number, number>();
  /** the offsets committed, per shard */
  readonly committedOffsets = new Map<number, number>();
  /** the compacted state topic as committed: key → value */
  readonly state: Map<string, Buffer>;
  readonly output: MergeOutput;
  last: KpiPrepared | null = null;

  constructor(
    private readonly log: PartialsLog,
    readonly shards: readonly number[],
    options: KpiMergeOptions,
    from?: { state: Map<string, Buffer>; offsets: Map<number, number>; output: MergeOutput },
  ) {
    this.core = new KpiMergeCore(options);
    this.state = from === undefined ? new Map() : new Map(from.state);
    this.output = from?.output ?? { kpis: [], alarms: [] };
    for (const s of shards) {
      const values = [...this.state].filter(([k]) => k === `s${s}` || k.startsWith(`s${s}:`)).map(([, v]) => v);
      this.core.assign(s, values);
      const offset = from?.offsets.get(s) ?? 0;
      this.position.set(s, offset);
      this.committedOffsets.set(s, offset);
    }
  }

  /** Receives up to `n` more messages of each shard; returns how many. */
  receive(n: number): number {
    let got = 0;
    for (const s of this.shards) {
      let p = this.position.get(s)!;
      for (let i = 0; i < n && p < this.log[s].length; i++, p++, got++) this.core.receive(s, p, this.log[s][p]);
      this.position.set(s, p);
    }
    return got;
  }

  /** Everything left, then one transaction. */
  drain(commit = true): KpiPrepared {
    this.receive(Infinity);
    return this.transaction(commit);
  }

  /** Prepares and settles one transaction; an abort rewinds every shard to its committed offset. */
  transaction(commit: boolean, nowMs = 0): KpiPrepared {
    const p = this.core.prepare(nowMs);
    this.last = p;
    this.core.settle(commit);
    if (commit) {
      for (const k of p.kpis) this.output.kpis.push({ key: k.key, value: k.value.toString('utf8') });
      this.output.alarms.push(...p.alarms);
      for (const v of p.state) {
        if (v.value === null) this.state.delete(v.key);
        else this.state.set(v.key, Buffer.from(v.value));
      }
      for (const o of p.offsets) this.committedOffsets.set(o.shard, o.offset);
    } else {
      for (const s of this.shards) this.position.set(s, this.committedOffsets.get(s)!);
    }
    return p;
  }

  /** What a restarted merger starts from: the state and offsets committed, and the output so far. */
  crash(): { state: Map<string, Buffer>; offsets: Map<number, number>; output: MergeOutput } {
    return { state: this.state, offsets: this.committedOffsets, output: this.output };
  }
}

/** KPI objects of an output by `<window_start> <dimension>:<key>`; throws on a (window, dimension, key) written twice. */
export function kpisById(output: MergeOutput): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const k of output.kpis) {
    const o = JSON.parse(k.value) as { window_start: string; dimension: string; key: string };
    const id = `${o.window_start} ${o.dimension}:${o.key}`;
    if (out.has(id)) throw new Error(`${id} written twice`);
    if (k.key !== `${o.dimension}:${o.key}`) throw new Error(`${id} written under key ${k.key}`);
    out.set(id, o);
  }
  return out;
}
