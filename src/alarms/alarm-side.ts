// The alarm side of every transaction: the alarms the thread decided and the window state they changed go into the transaction that holds their records; the webhook hears of them once it commits.
import type { SideOutput, TransactionContext, TransactionSide, SideMessage } from '../sink/transaction-side.js';
import { alarmKey, alarmValue, type AlarmJson } from './alarm-json.js';
import type { AlarmEngine } from './alarm-thread.js';
import { changelogKey } from './changelog.js';

export interface AlarmSideOptions {
  engine: AlarmEngine;
  alarmTopic: string;
  /** the compacted alarm state topic */
  stateTopic: string;
  /** prefix of the state keys (every instance of the group reads and writes the same keys) */
  groupId: string;
  /** after a commit: the alarms it made visible (the webhook is told, never of a suppressed one) */
  onCommitted?: (alarms: readonly AlarmJson[]) => void;
}

/** Alarm messages for the alarm topic (SPEC section 4: key = equipment_id). */
export function alarmMessages(topic: string, alarms: readonly AlarmJson[]): SideMessage[] {
  return alarms.map((a) => ({ topic, key: alarmKey(a), value: alarmValue(a) }));
}

export class AlarmSide implements TransactionSide {
  readonly name = 'alarms';
  private readonly o: AlarmSideOptions;
  /** the alarms of the prepared transaction */
  private prepared: AlarmJson[] = [];

  constructor(options: AlarmSideOptions) {
    this.o = options;
  }

  async prepare({ throughSeq, owned }: TransactionContext): Promise<SideOutput> {
    // The window state moves with this transaction: the batches it holds count, nothing dispatched after them.
    const { alarms, entries } = await this.o.engine.prepare(throughSeq, owned);
    this.prepared = alarms;
    const messages = alarmMessages(this.o.alarmTopic, alarms);
    for (const e of entries) messages.push({ topic: this.o.stateTopic, key: changelogKey(this.o.groupId, e), value: e.state });
    return { messages, alarms: alarms.length };
  }

  async settle(): Promise<void> {
    await this.o.engine.settle(true);
    const alarms = this.prepared;
    this.prepared = [];
    if (alarms.length > 0) this.o.onCommitted?.(alarms);
  }

  async discard(): Promise<void> {
    this.prepared = [];
    await this.o.engine.discard();
  }

  due(): boolean {
    return this.o.engine.due;
  }
}
