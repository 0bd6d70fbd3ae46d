// Every default of the status page and /status.json, in one typed place.

export const STATUS_DEFAULTS = {
  /** the builder samples the source this often (one sample feeds every open page) */
  sampleMs: 1_000,
  /** samples kept for the charts: 5 minutes at one a second */
  historyPoints: 300,
  /** rates are taken over this many seconds of samples */
  rateSeconds: 5,
  /** /status.json is rebuilt at most this often, whatever the number of pages polling it */
  cacheMs: 500,
  /** the sliding window of the latency points (and of `lux demo`'s latency line) */
  latencyWindowMs: 5_000,
  /** dead letters kept as examples */
  deadLetterExamples: 8,
  /** open alarms listed (the count is always whole) */
  openAlarmsListed: 50,
  /** worst cells listed per ranking */
  worstCells: 5,
  /** a cell enters a ranking with at least this many attempts in the KPI's denominator */
  worstCellMinAttempts: 10,
  /** how often the page polls, ms (the page's `?poll=` may change it, 200 ms at the least) */
  pollMs: 1_000,
} as const;
