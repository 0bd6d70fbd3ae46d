// The process logger: pino JSON lines on standard output, which journald keeps; per batch or per event, never per record.
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/schema.js';

export type Logger = PinoLogger;

/**
 * The root logger. Fields: `level` as a word (journalctl -o cat reads better), `time` ISO-8601, `component`
 * on children. journald adds the host, unit and PID, so pino's own `hostname` is left out.
 */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A child logger for one pipeline component (`source`, `sink`, `alarms`, `http`, ...). */
export function componentLogger(root: Logger, component: string): Logger {
  return root.child({ component });
}
