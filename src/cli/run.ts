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

  let signalled = false;
  const onStop = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting now; the open transaction is aborted by the broker');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'stopping: draining in-flight batches');
    // a stop that hangs (a client close that never returns) must not keep the service up forever: say where, and go
    const deadlineMs = config.pipeline.drain_timeout_ms + DAEMON_INTERNALS.stopGraceMs;
    setTimeout(() => {
      log.error({ signal, deadlineMs, waitingOn: daemon.stopStage() }, 'stop did not finish in time: killing the process; the open transaction, if any, is aborted by the broker and the restart resumes from the last commit');
      // SIGKILL, not process.exit: a consumer close blocked inside librdkafka holds a libuv pool thread, and a normal
      // exit joins that pool — seen hanging for good (gdb: uv__threadpool_cleanup → rd_kafka_consumer_close)
      process.kill(process.pid, 'SIGKILL');
    }, deadlineMs).unref();
    void daemon.stop();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', () => void daemon.reload());

  try {
    await daemon.done;
  } catch (err) {
    log.error({ err: (err as Error).message }, 'pipeline failed');
    await daemon.stop().catch(() => undefined);
    return 1;
  }
  await daemon.stop();
  log.info({}, 'stopped');
  return 0;
}
