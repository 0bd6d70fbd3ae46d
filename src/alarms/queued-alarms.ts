// Alarms decided outside the alarm thread (the latency SLA's): queued for the next transaction, and queued again when that one aborts.
import type { SideOutput, TransactionSide } from '../sink/transaction-side.js';
import type { AlarmJson } from './alarm-json.js';
import { alarmMessages } from './alarm-side.js';

export class QueuedAlarms implements TransactionSide {
  readonly name = 'queued alarms';
  private readonly topic: string;
  private readonly onCommitted: ((alarms: readonly AlarmJson[]) => void) | undefined;
  private readonly queue: AlarmJson[] = [];
  /** written into the open transaction */
  private written: AlarmJson[] = [];

  constructor(topic: string, onCommitted?: (alarms: readonly AlarmJson[]) => void) {
    this.topic = topic;
    this.onCommitted = onCommitted;
  }

  enqueue(alarms: readonly AlarmJson[]): void {
    for (const a of alarms) this.queue.push(a);
  }

  async prepare(): Promise<SideOutput> {
    this.written = this.queue.splice(0);
    return { messages: alarmMessages(this.topic, this.written), alarms: this.written.length };
  }

  async settle(): Promise<void> {
    const alarms = this.written;
    this.written = [];
    if (alarms.length > 0) this.onCommitted?.(alarms);
  }

  async discard(): Promise<void> {
    this.queue.unshift(...this.written);
    this.written = [];
  }

  due(): boolean {
    return this.queue.length > 0;
  }
}
