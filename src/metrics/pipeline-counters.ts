// The pipeline's counters: plain numbers the stages bump per batch and per transaction, read by the metrics feed, the demo and the status page.

export class PipelineCounters {
  framesIn = 0;
  recordsOut = 0;
  deadLetters = 0;
  readonly deadLettersByReason = new Map<string, number>();
  transactions = 0;
  aborts = 0;
  /** alarms written to the alarm topic in committed transactions */
  alarms = 0;
  lastTransactionMs = 0;
  decodeNs = 0;
  enrichNs = 0;
  /** slots in use right now */
  inflight = 0;
  paused = false;
}
