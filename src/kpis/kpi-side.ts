// The KPI side of every transaction: the partials of the batches it holds go to the partials topic, and the merge of the owned shards writes its closed windows (SPEC section 7), KPI alarms, state and partials offsets — all in the same transaction.
import type { Message } from '../kafka/client.js';
import type { SideInput } from '../pipeline.js';
import type { DecodedPass } from '../transport/inflight.js';
import type { SideMessage, SideOutput, TransactionContext, TransactionSide } from '../sink/transaction-side.js';
import type { EquipmentObject } from '../alarms/alarm-json.js';
import { kpiAlarmJson, kpiAlarmKey, kpiAlarmValue, type KpiAlarmJson } from './kpi-json.js';
import type { KpiEngine } from './kpi-thread.js';
import type { KpiPrepared } from './merge-core.js';
import type { TransactionPartials } from './transaction-partials.js';

export interface KpiSideOptions {
  engine: KpiEngine;
  partials: TransactionPartials;
  topics: { kpis: string; partials: string; state: string; alarms: string };
  /** prefix of the state keys (`<group_id>:kpis:`): every instance of the group reads and writes the same keys */
  statePrefix: string;
  /** the equipment object of SPEC section 3, for KPI alarms of the equipment dimension */
  equipment: (equipmentId: number) => EquipmentObject | null;
  /** is the equipment under maintenance at that time (suppressed KPI alarms) */
  maintenance: (equipmentId: number, timeMs: number) => boolean;
  /** the committed state values of shards (kpi-state-reader.ts), read when they are assigned */
  readState: (shards: readonly number[]) => Promise<ReadonlyMap<number, Uint8Array[]>>;
  /** after a commit: what it made visible (webhook, metrics, status page) */
  onCommitted?: (committed: { kpis: ReadonlyArray<{ key: string; value: Buffer }>; alarms: readonly KpiAlarmJson[]; prepared: KpiPrepared }) => void;
}

/** The state-topic key of a value the merge returns (keys relative to the group's prefix). */
export function kpiStateKey(prefix: string, relative: string): string {
  return `${prefix}${relative}`;
}

export class KpiSide implements TransactionSide, SideInput {
  readonly name = 'kpis';
  readonly topic: string;
  private readonly o: KpiSideOptions;
  private prepared: { kpis: Array<{ key: string; value: Buffer }>; alarms: KpiAlarmJson[]; prepared: KpiPrepared } | undefined;
  private preparedPartials = false;

  constructor(options: KpiSideOptions) {
    this.o = options;
    this.topic = options.topics.partials;
  }

  // ── the raw side: what the transaction's batches add

  /** A decoded pass was written into the open transaction: its batch's partials (first pass only) go with it. */
  written(pass: DecodedPass): void {
    const bytes = pass.result.kpis;
    if (bytes !== undefined) this.o.partials.add(bytes, Date.now());
  }

  /** Raw partitions assigned or revoked: they are announced (marks, idleness) by their owner only. */
  rawAssigned(partitions: readonly number[]): void {
    this.o.partials.assign(partitions, Date.now());
  }

  rawRevoked(partitions: readonly number[]): void {
    this.o.partials.revoke(partitions);
  }

  // ── the merge side: the partials topic as an input

  receive(messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.value === null || m.value === undefined) continue;
      this.o.engine.receive(m.partition, m.offset, m.value);
    }
  }

  /** Shards assigned: their committed state is handed to the merge before any of their messages is read. */
  async assigned(shards: number[]): Promise<void> {
    const values = await this.o.readState(shards);
    for (const shard of shards) await this.o.engine.assign(shard, values.get(shard) ?? []);
  }

  async revoked(shards: number[]): Promise<void> {
    for (const shard of shards) await this.o.engine.forget(shard);
  }

  // ── the transaction

  async prepare(_context: TransactionContext): Promise<SideOutput> {
    const now = Date.now();
    const { topics, statePrefix } = this.o;
    const messages: SideMessage[] = [];
    for (const m of this.o.partials.prepare(now)) messages.push({ topic: topics.partials, key: null, value: m.value, partition: m.shard });
    this.preparedPartials = true;
    const prepared = await this.o.engine.prepare(now);
    for (const k of prepared.kpis) messages.push({ topic: topics.kpis, key: k.key, value: k.value });
    const alarms = prepared.alarms.map((d) => {
      const equipmentId = d.dimension === 'equipment' ? Number(d.key) : undefined;
      const equipment = equipmentId === undefined ? null : this.o.equipment(equipmentId);
      const suppressed = equipmentId === undefined ? false : this.o.maintenance(equipmentId, d.windowEndMs);
      return kpiAlarmJson(d, equipment, suppressed, now);
    });
    for (const a of alarms) messages.push({ topic: topics.alarms, key: kpiAlarmKey(a), value: kpiAlarmValue(a) });
    for (const s of prepared.state) messages.push({ topic: topics.state, key: kpiStateKey(statePrefix, s.key), value: s.value });
    this.prepared = { kpis: prepared.kpis, alarms, prepared };
    return {
      messages,
      offsets: prepared.offsets.map((o) => ({ topic: topics.partials, partition: o.shard, offset: o.offset })),
      alarms: alarms.length,
    };
  }

  async settle(): Promise<void> {
    if (this.preparedPartials) this.o.partials.settle(true);
    this.preparedPartials = false;
    const done = this.prepared;
    this.prepared = undefined;
    if (done === undefined) return;
    await this.o.engine.settle(true);
    this.o.onCommitted?.(done);
  }

  async discard(): Promise<void> {
    // the partials of the aborted transaction's batches are dropped with it (they come again with the rewound records)
    this.o.partials.settle(false);
    this.preparedPartials = false;
    this.prepared = undefined;
    await this.o.engine.discard();
  }

  due(): boolean {
    return this.o.engine.due || this.o.partials.due(Date.now());
  }
}
