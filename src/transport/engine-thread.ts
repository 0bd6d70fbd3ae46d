// A dedicated engine thread (the alarm thread, the KPI thread) as the main thread sees it: started with its data, asked by numbered requests, dead for good when it fails or exits unasked, stopped once.
import { Worker } from 'node:worker_threads';
import { LuxError } from '../errors.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A request to the thread without its id (the id is numbered here). */
export type RequestOf<ToThread> = DistributiveOmit<Extract<ToThread, { id: number }>, 'id'>;

export interface EngineThreadEvents<FromThread> {
  /** the thread's first message, which must be its 'ready' */
  ready(m: Extract<FromThread, { type: 'ready' }>): void;
  /** every later message; answers are passed back with `answer` */
  message(m: FromThread): void;
  /** the thread threw (it is then dead) */
  error?(err: Error): void;
}

export class EngineThread<ToThread extends { type: string }, FromThread extends { type: string }> {
  /** e.g. 'alarm thread': starts every error message */
  private readonly name: string;
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  private stopped: Promise<void> | null = null;
  /** why the thread is gone (fatal: every later message fails with it), or null while it runs */
  private deadError: (Error & { isFatal: true }) | null = null;

  constructor(name: string) {
    this.name = name;
  }

  get started(): boolean {
    return this.worker !== null;
  }

  /** Starts `file` with `data`; resolves at its 'ready' message, rejects if it fails or exits before. Once only. */
  start(file: string, data: unknown, on: EngineThreadEvents<FromThread>): Promise<void> {
    if (this.worker !== null) return Promise.resolve();
    const worker = new Worker(file, { workerData: data });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const died = (err: Error): void => {
        // Without its thread no transaction can settle what the engine holds: every later request fails fatally,
        // and the pipeline ends for systemd to restart it from the last commit.
        this.deadError = Object.assign(err, { isFatal: true as const });
        if (!ready) reject(err);
        for (const w of this.waiting.values()) w.reject(this.deadError);
        this.waiting.clear();
      };
      worker.on('message', (m: FromThread) => {
        if (!ready && m.type === 'ready') {
          ready = true;
          on.ready(m as Extract<FromThread, { type: 'ready' }>);
          resolve();
        } else on.message(m);
      });
      worker.on('error', (err) => {
        died(new LuxError('E_INTERNAL', `${this.name} failed: ${err.message}`));
        on.error?.(err);
      });
      worker.on('exit', (code) => {
        if (this.stopped === null) died(new LuxError('E_INTERNAL', `${this.name} exited with code ${code}`));
      });
    });
  }

  /** A message that wants no answer; false before start(). */
  post(message: ToThread, transfer?: ArrayBuffer[]): boolean {
    if (this.worker === null) return false;
    this.worker.postMessage(message, transfer);
    return true;
  }

  /** A message that wants no answer, to a thread that must be running: throws when it is dead or not started. */
  send(message: ToThread, transfer?: ArrayBuffer[]): void {
    this.running(message.type).postMessage(message, transfer);
  }

  /** A numbered request, answered through `answer(id, …)` by the message handler. */
  request<T>(message: RequestOf<ToThread>, transfer?: ArrayBuffer[]): Promise<T> {
    let w: Worker;
    try {
      w = this.running(message.type);
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: never) => void, reject });
      w.postMessage({ ...message, id }, transfer);
    });
  }

  /** The worker, for a message of type `what`; throws when the thread is dead (fatal) or not started. */
  private running(what: string): Worker {
    if (this.deadError !== null) throw this.deadError;
    if (this.worker === null) throw new LuxError('E_INTERNAL', `${this.name}: ${what} before start()`);
    return this.worker;
  }

  answer(id: number, value: unknown, error?: Error): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    if (error !== undefined) w.reject(error);
    else (w.resolve as (v: unknown) => void)(value);
  }

  /** Sends `stop` and resolves once the thread has exited; at once when it never started or is dead (it has exited). */
  stop(stop: ToThread): Promise<void> {
    const w = this.worker;
    if (w === null || this.deadError !== null) return Promise.resolve();
    this.stopped ??= new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.postMessage(stop);
    });
    return this.stopped;
  }
}
