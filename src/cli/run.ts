// `lux run --config FILE`: the daemon in the foreground, stopped by SIGTERM/SIGINT (drain and commit) and reloaded by SIGHUP.
import { parseOptions, required } from './args.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../service/logger.js';
import { startDaemon } from '../daemon.js';
import { DAEMON_INTERNALS } from '../config/internals.js';

const USAGE = 'usage: lux run --config FILE';

export async function runCommand(argv: string[]): Promise<number> {
  const opts = parseOptions('run', argv, { config: { type: 'string' } });
  if (opts.help) {
    process.stdout.write(`${USAGE}\n\nRuns the daemon: raw topic → decode → enrich → enriched and dead-letter topics, exactly once.\nSIGTERM or SIGINT drains in-flight batches, commits and exits 0; SIGHUP reloads the reference data.\n`);
    return 0;
  }
  const config = loadConfig(required('run', 'config', opts.config));
  const log = createLogger(config.log.level);
  const daemon = await startDaemon(config, log);

  /**
   * Every stop — a signal, the pipeline failing, an uncaught error — is bounded: a stop that hangs (a client close
   * that never returns) must not keep the service up forever. The deadline says where, and kills the process: SIGKILL,
   * not process.exit, since a consumer close blocked inside librdkafka holds a libuv pool thread and a normal exit
   * joins that pool (seen hanging for good — gdb: uv__threadpool_cleanup → rd_kafka_consumer_close).
   */
  const deadlineMs = config.pipeline.drain_timeout_ms + DAEMON_INTERNALS.stopGraceMs;
  let stopping: Promise<void> | undefined;
  const stop = (why: Record<string, unknown>): Promise<void> =>
    (stopping ??= (() => {
      setTimeout(() => {
        log.error({ ...why, deadlineMs, waitingOn: daemon.stopStage() }, 'stop did not finish in time: killing the process; the open transaction, if any, is aborted by the broker and the restart resumes from the last commit');
        process.kill(process.pid, 'SIGKILL');
      }, deadlineMs).unref();
      return daemon.stop();
    })());
  /** After the stop: a Kafka client whose close never returned would hold a normal exit forever (see above). */
  const exit = (code: number): number => {
    const unclosed = daemon.pipeline.unclosed;
    if (unclosed.length > 0) {
      log.error({ clients: unclosed, code }, 'stopped, but a Kafka client\'s close never returned: killing the process, as a normal exit would wait on it for good');
      process.kill(process.pid, 'SIGKILL');
    }
    return code;
  };

  let signalled = false;
  const onStop = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: killing the process now; the open transaction is aborted by the broker');
      process.kill(process.pid, 'SIGKILL');
    }
    signalled = true;
    log.info({ signal }, 'stopping: draining in-flight batches');
    void stop({ signal });
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', () => void daemon.reload());
  // An error nothing caught is a bug: said in the log with its stack (not only on stderr), then the daemon stops as on
  // a failure — bounded by the same deadline — and exits 70, rather than dying inside Node's exit with Kafka clients open.
  let uncaught: Error | undefined;
  const onUncaught = (err: unknown, origin: string) => {
    const e = err instanceof Error ? err : new Error(String(err));
    log.fatal({ err: e.message, stack: e.stack, origin }, 'internal error nothing caught: stopping');
    uncaught ??= e;
    void stop({ origin });
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', (reason) => onUncaught(reason, 'unhandledRejection'));

  try {
    await daemon.done;
  } catch (err) {
    log.error({ err: (err as Error).message }, 'pipeline failed');
    await stop({ failed: (err as Error).message }).catch(() => undefined);
    return exit(1);
  }
  await stop({});
  if (uncaught !== undefined) return exit(70);
  log.info({}, 'stopped');
  return exit(0);
}
