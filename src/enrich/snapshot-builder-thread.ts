// The reference-data builder thread: owns the live tables, reads CSV reloads and topic updates, and publishes (base, overlay) versions built off the main thread.
//
// Policy: a change is published as an overlay (changed rows only, milliseconds to build) right after the updates that
// make it arrive; the overlay is merged into a new base when it holds `overlayMaxRows` rows or is `mergeIntervalMs`
// old, or at once when the tables are small. A base build runs in slices (buildSnapshotSteps), so overlays keep
// flowing while a million-row base is built. A CSV (re)load parses in one piece here: overlays wait for it.
import { parentPort, workerData } from 'node:worker_threads';
import { loadRefTables } from './csv-tables.js';
import { RefdataState, type RowCounts } from './refdata-state.js';
import { isBadUpdate, readUpdate, type BadUpdateReason, type RawUpdate } from './refdata-update.js';
import { buildSnapshotSteps, withVersion, type Snapshot } from './snapshot.js';
import { nameThread, THREAD_NAMES } from '../service/thread-name.js';

export interface BuilderOptions {
  /** an overlay this large is merged into a new base */
  readonly overlayMaxRows: number;
  /** an overlay this old (ms) is merged into a new base */
  readonly mergeIntervalMs: number;
  /** tables with fewer rows than this are rebuilt whole on each change (no overlay) */
  readonly smallTableRows: number;
  /** longest slice of a sliced base build before other messages are served (ms) */
  readonly sliceMs: number;
}

export type BuilderRequest =
  | { readonly type: 'load'; readonly id: number; readonly dir: string }
  | { readonly type: 'updates'; readonly topic: string; readonly batch: readonly RawUpdate[] }
  /** publish from now on (sent once the topic replay is applied) */
  | { readonly type: 'release' }
  | { readonly type: 'stop' };

export interface BadUpdateReport {
  readonly partition: number;
  readonly offset: number;
  readonly reason: BadUpdateReason;
  readonly message: string;
}

export type BuilderReply =
  /** a load request is parsed (error: the CSV error; the previous rows stay) */
  | { readonly type: 'loaded'; readonly id: number; readonly error: string | null; readonly ms: number }
  | {
      readonly type: 'version';
      readonly version: number;
      readonly base: SharedArrayBuffer;
      readonly baseVersion: number;
      readonly overlay: SharedArrayBuffer | null;
      readonly overlayRows: number;
      readonly rows: RowCounts;
      /** load requests whose rows this version is the first to hold */
      readonly loads: readonly number[];
      /** topic updates applied since the previous version */
      readonly updates: number;
      /** newest Kafka timestamp among them (0: none) */
      readonly newestUpdateMs: number;
      /** what the build took on this thread (ms); sliced base builds count their whole wall time */
      readonly buildMs: number;
      readonly merged: boolean;
    }
  | { readonly type: 'bad'; readonly topic: string; readonly items: readonly BadUpdateReport[] }
  | { readonly type: 'failed'; readonly message: string };

const port = parentPort;
nameThread(THREAD_NAMES.refdata);
if (port === null) throw new Error('snapshot-builder-thread must run as a worker thread');
const options = workerData as BuilderOptions;
const state = new RefdataState();

let version = 0;
let base: Snapshot | null = null;
let held = true;
let scheduled = false;
let stopped = false;
/** load ids parsed but not yet in a published version */
let pendingLoads: number[] = [];
/** a load that arrived during a sliced rebuild, parsed once it ends */
const queuedLoads: { id: number; dir: string }[] = [];
let updatesSince = 0;
let newestUpdateMs = 0;
let mergeTimer: NodeJS.Timeout | undefined;

function post(reply: BuilderReply): void {
  port!.postMessage(reply);
}

port.on('message', (req: BuilderRequest) => {
  try {
    switch (req.type) {
      case 'load':
        if (state.rebuilding) queuedLoads.push({ id: req.id, dir: req.dir });
        else load(req.id, req.dir);
        break;
      case 'updates':
        applyUpdates(req.topic, req.batch);
        break;
      case 'release':
        held = false;
        schedule();
        break;
      case 'stop':
        stopped = true;
        clearTimeout(mergeTimer);
        port!.close();
        break;
    }
  } catch (e) {
    post({ type: 'failed', message: (e as Error).stack ?? String(e) });
  }
});

function load(id: number, dir: string): void {
  const t0 = performance.now();
  try {
    state.setCsv(loadRefTables(dir));
  } catch (e) {
    post({ type: 'loaded', id, error: (e as Error).message, ms: performance.now() - t0 });
    return;
  }
  pendingLoads.push(id);
  post({ type: 'loaded', id, error: null, ms: performance.now() - t0 });
  schedule();
}

function applyUpdates(topic: string, batch: readonly RawUpdate[]): void {
  const bad: BadUpdateReport[] = [];
  for (const m of batch) {
    const u = readUpdate(m.key, m.value);
    if (isBadUpdate(u)) {
      bad.push({ partition: m.partition, offset: m.offset, reason: u.reason, message: u.message });
      continue;
    }
    state.apply(u);
    updatesSince++;
    if (m.timestamp !== undefined && m.timestamp > newestUpdateMs) newestUpdateMs = m.timestamp;
  }
  if (bad.length > 0) post({ type: 'bad', topic, items: bad });
  if (batch.length > bad.length) schedule();
}

/** Coalesces the messages already queued into one version. */
function schedule(): void {
  if (scheduled || held || stopped) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    publish();
  });
}

function publish(): void {
  if (held || stopped) return;
  if (state.rebuilding) {
    // overlays of the base in force keep flowing while the new base is built, unless that base is stale (CSV reload)
    if (!state.needsRebuild && state.changedRows > 0 && (updatesSince > 0 || pendingLoads.length > 0)) publishOverlay();
    return;
  }
  if (state.needsRebuild || base === null) {
    rebuild();
    return;
  }
  if (state.changedRows === 0) return;
  const c = state.counts();
  if (c.equipment + c.error_codes + c.interventions < options.smallTableRows) {
    const t0 = performance.now();
    base = state.rebuildNow(++version);
    emit(null, performance.now() - t0, true);
    return;
  }
  publishOverlay();
  if (state.changedRows >= options.overlayMaxRows || Date.now() - state.changedSince >= options.mergeIntervalMs) rebuild();
  else armMerge();
}

function publishOverlay(): void {
  const t0 = performance.now();
  const overlay = state.overlay(++version);
  emit(overlay, performance.now() - t0, false);
}

/** A sliced base build; overlays are served between slices. */
function rebuild(): void {
  clearTimeout(mergeTimer);
  const t0 = performance.now();
  const { tables, options: buildOptions } = state.beginRebuild();
  const steps = buildSnapshotSteps(tables, buildOptions);
  const slice = (): void => {
    if (stopped) return;
    const until = performance.now() + options.sliceMs;
    for (;;) {
      const r = steps.next();
      if (r.done === true) {
        base = withVersion(r.value, ++version);
        state.endRebuild(base);
        // changes made while it was built are this base's overlay, published with it
        const overlay = state.overlay(version);
        emit(overlay, performance.now() - t0, true);
        for (const q of queuedLoads.splice(0)) load(q.id, q.dir);
        if (overlay !== null) armMerge();
        schedule();
        return;
      }
      if (performance.now() >= until) break;
    }
    setImmediate(slice);
  };
  slice();
}

function armMerge(): void {
  clearTimeout(mergeTimer);
  const due = state.changedSince + options.mergeIntervalMs - Date.now();
  mergeTimer = setTimeout(() => {
    if (!state.rebuilding && state.changedRows > 0 && Date.now() - state.changedSince >= options.mergeIntervalMs) rebuild();
  }, Math.max(0, due));
  mergeTimer.unref();
}

function emit(overlay: Snapshot | null, buildMs: number, merged: boolean): void {
  const b = base as Snapshot;
  post({
    type: 'version',
    version,
    base: b.buffer,
    baseVersion: b.version,
    overlay: overlay?.buffer ?? null,
    overlayRows: state.changedRows,
    rows: state.counts(),
    loads: pendingLoads,
    updates: updatesSince,
    newestUpdateMs,
    buildMs,
    merged,
  });
  pendingLoads = [];
  updatesSince = 0;
}
