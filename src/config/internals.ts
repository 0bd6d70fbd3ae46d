// The daemon's internal timings and sizes, one typed table per stage: what an operator should not need to set (what they may set is in schema.ts).
//
// A value that has a configuration key is never repeated here: it is read from the config, or from schema.ts's
// DEFAULTS where a component runs without a config (tests, tools).
import { DEFAULTS } from './defaults.js';

/** The consumer of the input topics (source/). */
export const SOURCE_INTERNALS = {
  /** librdkafka fetch.wait.max.ms: a fetch returns within this even when little is there */
  fetchWaitMaxMs: 20,
  /** a crashed instance's partitions move after this (dynamic membership) */
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 2_000,
  reconnectBackoffMaxMs: 5_000,
  /** per-message wait inside a batch read: a batch returns at the first message that takes longer */
  consumeTimeoutMs: 10,
  /**
   * The native read's wait for each message after a batch's first: 0, a batch is what librdkafka has fetched, handed
   * over at once (node-rdkafka's consume(n) ends every batch that is not full with a last consumeTimeoutMs wait).
   */
  consumeRestMs: 0,
  /** reading the committed offsets and seeking, during a rewind */
  committedTimeoutMs: 10_000,
  seekTimeoutMs: 5_000,
  /** between attempts to read where newly assigned partitions start (the broker away, a transaction open on them) */
  startRetryPauseMs: 500,
} as const;

/** The transactional producer and the transaction cycle (sink/). */
export const SINK_INTERNALS = {
  lingerMs: 5,
  batchNumMessages: 10_000,
  queueBufferingMaxMessages: 500_000,
  /** librdkafka's own queue, before the memory budget sets it (a quarter of pipeline.memory_budget_mb) */
  queueBufferingMaxKbytes: 1_048_576,
  compression: 'lz4',
  reconnectBackoffMaxMs: 5_000,
  /**
   * librdkafka's protocol retry backoff (default 100 ms, growing to 1 s): right after a commit the coordinator answers
   * the next transaction's first AddPartitionsToTxn with CONCURRENT_TRANSACTIONS while it writes the markers, and the
   * retry waits this long — with the default, every transaction but the first starts 100 ms late.
   */
  retryBackoffMs: 5,
  retryBackoffMaxMs: 100,
  /**
   * A transaction with records commits as soon as the previous commit has returned and at least this long has passed
   * since (pipeline.commit_interval_ms stays the upper bound): the cadence follows the broker's commit time, not a
   * timer.
   */
  commitMinGapMs: 0,
  /**
   * ... but while the input is behind (the last read filled its batch), at least this long: with a backlog a record
   * waits for the backlog anyway, and each commit stops the writing for its round trip — at full speed a commit every
   * 40 ms kept the loop waiting 40 % of the time (2 cores, 1M frames: 103,000–110,000 records/s; with this gap
   * 121,000–126,000, and the broker's CPU 0.46 → 0.30 core).
   */
  commitBacklogGapMs: 60,
  /** how often node-rdkafka polls the producer for its events */
  pollIntervalMs: 50,
  /** timeout of init/commit/abort/sendOffsets: the transaction timeout, kept within these bounds */
  callTimeoutMinMs: 10_000,
  callTimeoutMaxMs: 60_000,
  /** backoff of a retried transactional call and of a retried recovery: base × 2^attempt, at most max */
  retryBaseMs: 250,
  retryMaxMs: 5_000,
  /** connecting a producer that replaces one that failed fatally */
  renewConnectMs: 30_000,
  /** replacing a producer that failed fatally: at most `max` times within `windowMs`, else the pipeline ends */
  renewals: { max: 3, windowMs: 10 * 60_000 },
  /** the producer's queue is full: wait this long for librdkafka to send before trying again */
  queueFullWaitMs: 1,
  /** decimal keys of equipment ids kept ready (cleared when it grows past this) */
  keyCacheEntries: 100_000,
} as const;

/** The loop that drives the stages (pipeline.ts). */
export const PIPELINE_INTERNALS = {
  /** consume batch size: starts here, doubles while batches come full, shrinks to twice a short one, never below min */
  batchStart: 64,
  batchMin: 16,
  /**
   * before subscribing, each decode worker runs `rounds` passes over `frames` synthetic frames (transport/warm-up.ts):
   * cold, a worker took 50–80 ms for 1,000 frames it then serializes in 3–5 ms
   */
  warmUp: { frames: 1_000, rounds: 8 },
  /** pause after a loop step failed and was recovered */
  stepFailedPauseMs: 100,
  /** pause after a consume call failed */
  consumeFailedPauseMs: 200,
  /** connecting the clients at start */
  connectTimeoutMs: 30_000,
  /** disconnecting the clients at stop */
  disconnectTimeoutMs: 5_000,
} as const;

/** The shared-memory batch ring (transport/). */
export const TRANSPORT_INTERNALS = {
  /** output JSON area per slot, as a multiple of its frame area: enriched JSON runs ~10× the frame bytes */
  jsonPerFrameByte: 12,
  /** a worker ships its latency histograms with a result at most this often */
  latencyReportMs: 250,
} as const;

/** The daemon's wiring (daemon.ts, metrics/, service/). */
export const DAEMON_INTERNALS = {
  /** counters into Prometheus, SLA check, readiness heartbeat */
  tickMs: 1_000,
  /**
   * After a stop signal, the daemon kills itself if stopping has not finished within pipeline.drain_timeout_ms plus
   * this: the drain is bounded by its timeout and each client's close by its own, so only a hang gets here, and an
   * open transaction left behind is aborted by the broker (the restart resumes from the last commit).
   */
  stopGraceMs: 30_000,
  /** latency histograms rotate their sliding window this often */
  latencyRotateMs: 10_000,
  /** the watchdog and /health call the daemon stalled after this long without a heartbeat */
  stallMs: 30_000,
  /** brokers unreachable at start: retry with backoff base × 2^attempt, at most max */
  startRetryBaseMs: 1_000,
  startRetryMaxMs: 30_000,
  /** topic checks at start */
  topicsTimeoutMs: 5_000,
  /** reading a state topic back when partitions are assigned */
  stateReadTimeoutMs: 30_000,
} as const;

/** The alarm thread and its feed (alarms/). */
export const ALARM_INTERNALS = {
  /** entries per feed ring (one ring per decode worker) */
  feedRingEntries: 64 * 1024,
  /** entries popped from one ring per poll */
  pollEntries: 16 * 1024,
  /** how long the idle thread sleeps between polls when no flush wakes it */
  pollMs: 50,
  /** how often the thread reports its counters */
  countersMs: 1_000,
  /** wall-clock time without records after which a partition stops holding the watermark back */
  idleTimeoutMs: DEFAULTS.alarms.idle_partition_ms,
  /** window store: equipment slots at start, and the hard cap (memory bound) */
  initialEquipment: 1024,
  maxEquipment: 8 * 1024 * 1024,
} as const;

/** Alertmanager webhook delivery (alarms/webhook.ts); timeout, queue and retries are configuration keys. */
export const WEBHOOK_INTERNALS = {
  batchSize: 100,
  baseDelayMs: 200,
  maxDelayMs: 30_000,
} as const;

/** Reference data (enrich/): the builder's policy and the topic reader. */
export const REFDATA_INTERNALS = {
  /** an overlay larger than this is merged into a new base */
  overlayMaxRows: 50_000,
  /** an overlay is merged into a new base at least this often */
  mergeIntervalMs: 60_000,
  /** tables smaller than this are rebuilt whole rather than overlaid */
  smallTableRows: 20_000,
  /** the builder thread yields after this much work */
  sliceMs: 8,
  /** quiet time after a file change before reloading */
  watchDebounceMs: 500,
  topicBatchSize: 500,
  /** how often to look for the topic (absent at start) or for new partitions */
  topicMetadataIntervalMs: 10_000,
  topicTimeoutMs: 30_000,
} as const;
