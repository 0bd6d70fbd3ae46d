// Forwards alarms to an Alertmanager-compatible receiver (POST <url>/api/v2/alerts), from a bounded queue with retries; suppressed alarms are never sent.
//
// Choices: the queue drops its oldest alert when full (counter `dropped`) rather than pushing back, so a dead receiver
// never stalls the alarm path; 5xx answers and network errors are retried with exponential backoff (and jitter) up to
// `maxAttempts`, then the batch is given up (counter `failed`); 4xx answers are not retried. Labels are the same for
// an episode's raised and cleared alarms (alarm_id among them), so Alertmanager resolves the alert it opened; a cleared
// alarm carries endsAt = its window end. Raised alerts are sent once: the receiver's resolve_timeout should exceed the
// longest expected episode (or a caller re-sends open alarms).

import { LuxError } from '../errors.js';
import { DEFAULTS } from '../config/defaults.js';
import { WEBHOOK_INTERNALS } from '../config/internals.js';
import type { AlarmJson } from './alarm-json.js';

/** Delivery defaults: the configuration's (alarms.webhook.*) where it has a key, the internal table's otherwise. */
const WEBHOOK_DEFAULTS = {
  ...WEBHOOK_INTERNALS,
  maxQueue: DEFAULTS.alarms.webhook.max_queue,
  maxAttempts: DEFAULTS.alarms.webhook.max_retries + 1,
  timeoutMs: DEFAULTS.alarms.webhook.timeout_ms,
} as const;

export interface WebhookOptions {
  /** receiver base URL, e.g. http://alertmanager:9093 */
  readonly url: string;
  readonly maxQueue?: number;
  readonly batchSize?: number;
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly timeoutMs?: number;
  /** extra labels on every alert (e.g. cluster) */
  readonly labels?: Readonly<Record<string, string>>;
  readonly generatorURL?: string;
  readonly onError?: (err: WebhookError) => void;
}

export class WebhookError extends LuxError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super('E_INTERNAL', message, options);
    this.status = status;
    this.name = 'WebhookError';
  }
}

/** One alert of the Alertmanager v2 API. */
export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

/** A KPI alarm (SPEC section 7) as the webhook takes it. */
export interface KpiAlertInput {
  alarm_id: string;
  rule: string;
  state: 'raised' | 'cleared';
  dimension: string;
  key: string;
  kpi: string;
  value: number | null;
  threshold: number;
  attempts: number;
  window_start: string;
  window_end: string;
  suppressed: boolean;
  equipment: AlarmJson['equipment'];
}

/** Any alarm the webhook forwards: a failure alarm (SPEC section 4) or a KPI alarm (section 7). */
export type WebhookAlarm = AlarmJson | KpiAlertInput;

/** The Alertmanager alert of a KPI alarm: labelled by its dimension and key, the KPI's value against its threshold. */
function kpiAlert(alarm: KpiAlertInput, extraLabels: Readonly<Record<string, string>>, generatorURL?: string): Alert {
  const raisedAt = Number(alarm.alarm_id.slice(alarm.alarm_id.lastIndexOf(':') + 1));
  const labels: Record<string, string> = { ...extraLabels, alertname: alarm.rule, rule: alarm.rule, dimension: alarm.dimension, key: alarm.key, kpi: alarm.kpi, alarm_id: alarm.alarm_id };
  if (alarm.dimension === 'equipment') labels.equipment_id = alarm.key;
  const annotations: Record<string, string> = {
    summary: `${alarm.rule}: ${alarm.kpi} ${alarm.value} (threshold ${alarm.threshold}, ${alarm.attempts} attempts) for ${alarm.dimension} ${alarm.key} in ${alarm.window_start} .. ${alarm.window_end}`,
    state: alarm.state,
    value: String(alarm.value),
    threshold: String(alarm.threshold),
    attempts: String(alarm.attempts),
    window_start: alarm.window_start,
    window_end: alarm.window_end,
  };
  const alert: Alert = { labels, annotations, startsAt: Number.isFinite(raisedAt) ? new Date(raisedAt).toISOString() : alarm.window_end };
  if (alarm.state === 'cleared') alert.endsAt = alarm.window_end;
  if (generatorURL !== undefined) alert.generatorURL = generatorURL;
  return alert;
}

/** The Alertmanager alert for an alarm. */
export function toAlert(alarm: WebhookAlarm, extraLabels: Readonly<Record<string, string>> = {}, generatorURL?: string): Alert {
  if ('kpi' in alarm) return kpiAlert(alarm, extraLabels, generatorURL);
  // the raise's window end is the last part of the alarm_id; the same on the cleared alarm
  const raisedAt = Number(alarm.alarm_id.slice(alarm.alarm_id.lastIndexOf(':') + 1));
  const labels: Record<string, string> = {
    ...extraLabels,
    alertname: alarm.rule,
    rule: alarm.rule,
    equipment_id: String(alarm.equipment_id),
    alarm_id: alarm.alarm_id,
  };
  const eq = alarm.equipment;
  if (eq !== null) {
    if (eq.site !== null) labels.site = eq.site;
    if (eq.region !== null) labels.region = eq.region;
  }
  const annotations: Record<string, string> = {
    summary: `${alarm.rule}: ${alarm.count} failures on equipment ${alarm.equipment_id}${eq?.name ? ` (${eq.name})` : ''} in ${alarm.window_start} .. ${alarm.window_end}`,
    state: alarm.state,
    count: String(alarm.count),
    threshold: String(alarm.threshold),
    window_start: alarm.window_start,
    window_end: alarm.window_end,
  };
  if (eq !== null) {
    for (const k of ['name', 'model', 'vendor'] as const) if (eq[k] !== null) annotations[`equipment_${k}`] = eq[k]!;
  }
  const alert: Alert = {
    labels,
    annotations,
    startsAt: Number.isFinite(raisedAt) ? new Date(raisedAt).toISOString() : alarm.window_end,
  };
  if (alarm.state === 'cleared') alert.endsAt = alarm.window_end;
  if (generatorURL !== undefined) alert.generatorURL = generatorURL;
  return alert;
}

/** Sends alarms to Alertmanager in the background. */
export class AlertmanagerWebhook {
  readonly endpoint: string;
  private readonly o: Required<Omit<WebhookOptions, 'generatorURL' | 'onError' | 'labels'>> & WebhookOptions;
  private queue: Alert[] = [];
  private head = 0;
  private sending: Promise<void> | null = null;
  private closed = false;
  private idle: Array<() => void> = [];
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  /** alerts delivered, dropped (queue full), given up after retries or on 4xx, retries, suppressed alarms skipped */
  sent = 0;
  dropped = 0;
  failed = 0;
  retries = 0;
  skipped = 0;

  constructor(options: WebhookOptions) {
    this.o = { ...WEBHOOK_DEFAULTS, ...options };
    this.endpoint = `${options.url.replace(/\/+$/, '')}/api/v2/alerts`;
    try {
      new URL(this.endpoint);
    } catch (err) {
      throw new LuxError('E_CONFIG', `alarms.webhook.url: not a URL: ${JSON.stringify(options.url)}`, { cause: err });
    }
  }

  /** Alerts waiting to be sent. */
  queued(): number {
    return this.queue.length - this.head;
  }

  /** Queues a batch of alarms (suppressed ones are skipped) and starts sending. */
  send(alarms: readonly WebhookAlarm[]): void {
    if (this.closed) return;
    for (const a of alarms) {
      if (a.suppressed) {
        this.skipped++;
        continue;
      }
      if (this.queued() >= this.o.maxQueue) {
        this.head++;
        this.dropped++;
      }
      this.queue.push(toAlert(a, this.o.labels, this.o.generatorURL));
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.sending === null && this.queued() > 0) this.sending = this.pump();
  }

  /** Resolves once the queue is empty (delivered, dropped or given up). */
  flush(): Promise<void> {
    if (this.sending === null && this.queued() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops retrying: waits for the request in flight, abandons the rest (counted as dropped). */
  async close(): Promise<void> {
    this.closed = true;
    this.sleeping?.wake();
    await this.sending;
    this.dropped += this.queued();
    this.queue = [];
    this.head = 0;
    for (const f of this.idle.splice(0)) f();
  }

  private async pump(): Promise<void> {
    while (this.queued() > 0 && !this.closed) {
      const batch = this.queue.slice(this.head, this.head + this.o.batchSize);
      this.head += batch.length;
      await this.deliver(batch);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.sending = null;
    for (const f of this.idle.splice(0)) f();
  }

  private async deliver(batch: Alert[]): Promise<void> {
    const body = JSON.stringify(batch);
    for (let attempt = 1; ; attempt++) {
      let err: WebhookError;
      try {
        const res = await fetch(this.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.sent += batch.length;
          return;
        }
        err = new WebhookError(`POST ${this.endpoint}: HTTP ${res.status}`, res.status);
        if (res.status < 500 && res.status !== 429) {
          this.failed += batch.length;
          this.o.onError?.(err);
          return;
        }
      } catch (cause) {
        err = new WebhookError(`POST ${this.endpoint}: ${(cause as Error).message}`, undefined, { cause });
      }
      if (attempt >= this.o.maxAttempts || this.closed) {
        this.failed += batch.length;
        this.o.onError?.(err);
        return;
      }
      this.retries++;
      const backoff = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempt - 1));
      await this.sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeping = null;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping = { timer, wake };
    });
  }
}
