// Live reference data on the main thread: the CSV directory (watched, reloaded on demand) and the compacted topic feed the builder thread; `current()` is the version each new batch uses.
//
// The main thread only moves messages: topic batches go to the builder thread as plain text, versions come back as
// SharedArrayBuffers (shared, never copied). A version is a (base, overlay) pair published whole: each batch takes
// the pair current when it is dispatched, so no record sees a half-applied update, and an old pair is garbage once
// no batch in flight holds it.
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { distModule } from '../paths.js';
import { LuxError } from '../errors.js';
import { REFDATA_INTERNALS } from '../config/internals.js';
import type { Logger } from '../service/logger.js';
import type { ReferenceVersion } from './reference.js';
import type { RowCounts } from './refdata-state.js';
import { RefdataTopic } from './refdata-topic.js';
import type { BadUpdateReason, RawUpdate } from './refdata-update.js';
import type { BuilderOptions, BuilderReply, BuilderRequest } from './snapshot-builder-thread.js';

export type { ReferenceVersion } from './reference.js';

/** What the service reports to Prometheus; LuxMetrics has `refdataSnapshot`, `refdataBadUpdate` is optional. */
export interface RefdataMetrics {
  refdataSnapshot(version: number, rowsByTable: Readonly<Record<string, number>>, atMs?: number): void;
  refdataBadUpdate?(reason: BadUpdateReason): void;
  refdataReloadFailed?(): void;
}

export interface RefdataServiceOptions {
  /** the CSV directory (SPEC section 2) */
  readonly dir: string;
  /** reload when a file in `dir` changes */
  readonly watch: boolean;
  /** bootstrap servers; with `topic`, updates are read from the topic */
  readonly brokers?: string;
  readonly topic?: string;
  readonly log: Logger;
  readonly metrics?: RefdataMetrics;
  /** quiet time after a file change before reloading, ms (default 500) */
  readonly watchDebounceMs?: number;
  /** builder policy (defaults: REFDATA_INTERNALS) */
  readonly builder?: Partial<BuilderOptions>;
  /** extra librdkafka settings for the topic consumer */
  readonly kafkaExtra?: Readonly<Record<string, string | number | boolean>>;
}

/** The builder policy's defaults (config/internals.ts). */
const BUILDER_DEFAULTS: BuilderOptions = {
  overlayMaxRows: REFDATA_INTERNALS.overlayMaxRows,
  mergeIntervalMs: REFDATA_INTERNALS.mergeIntervalMs,
  smallTableRows: REFDATA_INTERNALS.smallTableRows,
  sliceMs: REFDATA_INTERNALS.sliceMs,
};

/** Counters of the service (also fed to `metrics`). */
export interface RefdataCounters {
  version: number;
  rows: RowCounts;
  /** Date.now() when the last version holding a topic update or a reload was received, 0: none yet */
  lastAppliedMs: number;
  /** produced → visible: newest update's Kafka timestamp to the version's arrival on the main thread, ms (last value) */
  lastUpdateLagMs: number;
  updates: number;
  badUpdates: Record<BadUpdateReason, number>;
  reloads: number;
  reloadFailures: number;
  /** rows in the overlay in force (0: the base alone) */
  overlayRows: number;
  /** bases built (merges and reloads included) */
  bases: number;
  /** longest main-thread callback of the service (topic batch handed on, builder reply handled), ms */
  longestCallbackMs: number;
}

export class RefdataService {
  private readonly opts: RefdataServiceOptions;
  private readonly log: Logger;
  private worker: Worker | undefined;
  private topicReader: RefdataTopic | undefined;
  private currentVersion: ReferenceVersion | undefined;
  private baseVersion = -1;
  private nextLoadId = 1;
  private readonly loadWaiters = new Map<number, { parsed: (error: string | null) => void; published?: () => void }>();
  private readonly versionWaiters: Array<(v: ReferenceVersion) => void> = [];
  private watcher: fs.FSWatcher | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private failed: ((e: Error) => void) | undefined;
  private stopped = false;
  /** the message of the last failed reload, null after a good one */
  lastReloadError: string | null = null;
  readonly counters: RefdataCounters = {
    version: 0,
    rows: { equipment: 0, vendors: 0, error_codes: 0, interventions: 0 },
    lastAppliedMs: 0,
    lastUpdateLagMs: 0,
    updates: 0,
    badUpdates: { bad_key: 0, unknown_table: 0, invalid_json: 0, not_an_object: 0, bad_value: 0, key_mismatch: 0 },
    reloads: 0,
    reloadFailures: 0,
    overlayRows: 0,
    bases: 0,
    longestCallbackMs: 0,
  };
  /** called on the main thread for each new version (after `current()` returns it) */
  onVersion: ((v: ReferenceVersion) => void) | undefined;

  constructor(opts: RefdataServiceOptions) {
    this.opts = opts;
    this.log = opts.log;
  }

  /**
   * Loads the CSV directory and replays the topic (when configured) up to its high watermarks, then publishes the first
   * version. Rejects on a CSV error (E_REFDATA, naming file, row and column) or when the broker cannot be reached.
   */
  async start(): Promise<void> {
    const t0 = performance.now();
    const builder: BuilderOptions = { ...BUILDER_DEFAULTS, ...this.opts.builder };
    const worker = new Worker(distModule('enrich/snapshot-builder-thread.js'), { workerData: builder, name: 'lux-refdata-builder' });
    this.worker = worker;
    const fatal = new Promise<never>((_, reject) => (this.failed = reject));
    fatal.catch(() => undefined);
    worker.on('message', (m: BuilderReply) => this.timed(() => this.onReply(m)));
    worker.on('error', (e) => this.fail(new LuxError('E_INTERNAL', `reference-data builder thread failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => {
      if (!this.stopped) this.fail(new LuxError('E_INTERNAL', `reference-data builder thread exited (code ${code})`));
    });

    const loadId = this.nextLoadId++;
    const parsed = new Promise<string | null>((resolve) => this.loadWaiters.set(loadId, { parsed: resolve }));
    this.send({ type: 'load', id: loadId, dir: this.opts.dir });
    const first = new Promise<ReferenceVersion>((resolve) => this.versionWaiters.push(resolve));
    try {
      const topic = this.opts.topic;
      if (this.opts.brokers !== undefined && topic !== undefined) {
        this.topicReader = new RefdataTopic({
          brokers: this.opts.brokers,
          topic,
          log: this.log,
          extra: this.opts.kafkaExtra,
          onBatch: (batch: RawUpdate[]) => this.send({ type: 'updates', topic, batch }),
          onCallbackMs: (ms) => this.noteCallback(ms),
        });
        await Promise.race([this.topicReader.start(), fatal]);
      }
      const error = await Promise.race([parsed, fatal]);
      if (error !== null) throw new LuxError('E_REFDATA', error);
      this.send({ type: 'release' });
      const v = await Promise.race([first, fatal]);
      this.log.info(
        { dir: this.opts.dir, topic: topic ?? null, version: v.version, ...this.counters.rows, updates: this.counters.updates, ms: Math.round(performance.now() - t0) },
        'reference data loaded',
      );
    } catch (e) {
      await this.stop();
      throw e;
    }
    if (this.opts.watch) this.startWatch();
  }

  /** The version in force: the one to send with the next batch. Cheap (a field read). */
  current(): ReferenceVersion {
    if (this.currentVersion === undefined) throw new LuxError('E_INTERNAL', 'reference data not started');
    return this.currentVersion;
  }

  /**
   * Reloads the CSV directory (SIGHUP, or a watched change) and resolves once a version holding it is in force. A bad
   * file is logged (file, row, column) and counted, and the last good version stays in force; the promise still resolves.
   */
  async reload(): Promise<void> {
    if (this.worker === undefined || this.stopped) return;
    const id = this.nextLoadId++;
    const t0 = performance.now();
    let published!: () => void;
    const done = new Promise<void>((resolve) => (published = resolve));
    const error = await new Promise<string | null>((resolve) => {
      this.loadWaiters.set(id, { parsed: resolve, published });
      this.send({ type: 'load', id, dir: this.opts.dir });
    });
    if (error !== null) {
      this.loadWaiters.delete(id);
      this.counters.reloadFailures++;
      this.opts.metrics?.refdataReloadFailed?.();
      this.lastReloadError = error;
      this.log.error({ dir: this.opts.dir, err: error }, 'reference data reload failed; the last good version stays in force');
      return;
    }
    this.lastReloadError = null;
    await done;
    this.counters.reloads++;
    this.log.info({ dir: this.opts.dir, version: this.counters.version, ...this.counters.rows, ms: Math.round(performance.now() - t0) }, 'reference data reloaded');
  }

  /** Resolves with the first version newer than `version` (tests, benchmarks). */
  nextVersion(version = this.counters.version): Promise<ReferenceVersion> {
    if (this.currentVersion !== undefined && this.currentVersion.version > version) return Promise.resolve(this.currentVersion);
    return new Promise((resolve) => {
      const wait = (v: ReferenceVersion): void => {
        if (v.version > version) resolve(v);
        else this.versionWaiters.push(wait);
      };
      this.versionWaiters.push(wait);
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.watcher?.close();
    clearTimeout(this.watchTimer);
    await this.topicReader?.stop();
    if (this.worker !== undefined) {
      this.send({ type: 'stop' });
      await this.worker.terminate();
    }
  }

  private timed(f: () => void): void {
    const t0 = performance.now();
    f();
    this.noteCallback(performance.now() - t0);
  }

  private noteCallback(ms: number): void {
    if (ms > this.counters.longestCallbackMs) this.counters.longestCallbackMs = ms;
  }

  private send(req: BuilderRequest): void {
    if (!this.stopped || req.type === 'stop') this.worker?.postMessage(req);
  }

  private fail(e: Error): void {
    this.log.error({ err: e.message }, 'reference data stopped');
    this.failed?.(e);
  }

  private onReply(m: BuilderReply): void {
    switch (m.type) {
      case 'loaded': {
        const w = this.loadWaiters.get(m.id);
        if (w !== undefined) {
          if (w.published === undefined || m.error !== null) this.loadWaiters.delete(m.id);
          w.parsed(m.error);
        }
        break;
      }
      case 'version':
        this.onVersionReply(m);
        break;
      case 'bad':
        for (const b of m.items) {
          this.counters.badUpdates[b.reason]++;
          this.opts.metrics?.refdataBadUpdate?.(b.reason);
          this.log.warn(
            { topic: m.topic, partition: b.partition, offset: b.offset, reason: b.reason, err: b.message },
            `bad reference-data update at ${m.topic}/${b.partition}@${b.offset} skipped: ${b.message}`,
          );
        }
        break;
      case 'failed':
        this.fail(new LuxError('E_INTERNAL', `reference-data builder thread: ${m.message}`));
        break;
    }
  }

  private onVersionReply(m: Extract<BuilderReply, { type: 'version' }>): void {
    const now = Date.now();
    // keep the base object the batches already hold when only the overlay changed
    const base = m.baseVersion === this.baseVersion && this.currentVersion !== undefined ? this.currentVersion.base : m.base;
    if (m.baseVersion !== this.baseVersion) this.counters.bases++;
    this.baseVersion = m.baseVersion;
    const v: ReferenceVersion = { version: m.version, base, overlay: m.overlay };
    this.currentVersion = v;
    const c = this.counters;
    c.version = m.version;
    c.rows = m.rows;
    c.overlayRows = m.overlay === null ? 0 : m.overlayRows;
    c.updates += m.updates;
    if (m.updates > 0 || m.loads.length > 0 || c.lastAppliedMs === 0) c.lastAppliedMs = now;
    if (m.newestUpdateMs > 0 && m.updates > 0) c.lastUpdateLagMs = now - m.newestUpdateMs;
    this.opts.metrics?.refdataSnapshot(m.version, { ...m.rows }, c.lastAppliedMs);
    this.log.debug({ version: m.version, overlayRows: c.overlayRows, merged: m.merged, updates: m.updates, buildMs: Math.round(m.buildMs) }, 'reference data version published');
    for (const id of m.loads) {
      const w = this.loadWaiters.get(id);
      this.loadWaiters.delete(id);
      w?.published?.();
    }
    for (const wait of this.versionWaiters.splice(0)) wait(v);
    this.onVersion?.(v);
  }

  private startWatch(): void {
    const debounce = this.opts.watchDebounceMs ?? REFDATA_INTERNALS.watchDebounceMs;
    try {
      this.watcher = fs.watch(this.opts.dir, { persistent: false }, (_event, file) => {
        if (file !== null && !String(file).endsWith('.csv')) return;
        clearTimeout(this.watchTimer);
        this.watchTimer = setTimeout(() => void this.reload(), debounce);
        this.watchTimer.unref();
      });
      this.watcher.on('error', (e) => this.log.warn({ dir: this.opts.dir, err: e.message }, 'reference-data directory watch failed; SIGHUP still reloads'));
    } catch (e) {
      this.log.warn({ dir: this.opts.dir, err: (e as Error).message }, 'cannot watch the reference-data directory; SIGHUP still reloads');
    }
  }
}
