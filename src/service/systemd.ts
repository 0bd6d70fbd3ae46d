// sd_notify from Node (which has no unix datagram sockets): READY/WATCHDOG/STOPPING/RELOADING sent through the `systemd-notify` tool.
import { execFile } from 'node:child_process';

/**
 * Why this is reliable enough for Type=notify:
 * - The message comes from a child process, so the unit needs NotifyAccess=all (deploy/lux.service sets it).
 * - A child that exits before PID 1 reads its datagram cannot be attributed to the unit and is dropped.
 *   systemd-notify (systemd >= 246) closes that race itself: unless --no-block is given it waits on a
 *   notification barrier until PID 1 has processed the message. We never pass --no-block.
 * - --pid=<our pid> adds MAINPID=, so the node process, not the short-lived child, stays the main PID.
 * On systemd < 246 (e.g. RHEL 8) the race remains: use Type=exec there (docs/service.md).
 * A failed notification is logged, never fatal: READY lost means systemd times out the start and restarts us.
 */

/** What the notifier reports about failures (the daemon passes its logger). */
export interface NotifyLog {
  warn(obj: object, msg: string): void;
}

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  log?: NotifyLog;
  /** The tool; tests point it at a fake. */
  command?: string;
}

export class SystemdNotifier {
  /** False when not started by systemd with a notify socket: every call is then a no-op. */
  readonly enabled: boolean;
  /** Half of WATCHDOG_USEC in ms (systemd's advice), or 0 when no watchdog is configured for this process. */
  readonly watchdogIntervalMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: NotifyLog | undefined;
  private readonly command: string;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private watchdogInFlight = false;

  constructor(options: NotifierOptions = {}) {
    this.env = options.env ?? process.env;
    this.log = options.log;
    this.command = options.command ?? 'systemd-notify';
    this.enabled = (this.env.NOTIFY_SOCKET ?? '') !== '';
    this.watchdogIntervalMs = watchdogInterval(this.env);
  }

  /** Start-up done: the consumer has its assignment and the producer is initialised. */
  ready(status = 'processing'): Promise<boolean> {
    return this.send(['READY=1', `STATUS=${status}`]);
  }

  /** SIGHUP received: reloading the config and the reference data; call ready() when done. */
  reloading(): Promise<boolean> {
    // MONOTONIC_USEC lets Type=notify-reload (systemd >= 253) match the reload; older versions ignore it.
    const usec = process.hrtime.bigint() / 1000n;
    return this.send(['RELOADING=1', `MONOTONIC_USEC=${usec}`, 'STATUS=reloading']);
  }

  /** SIGTERM received: draining. */
  stopping(): Promise<boolean> {
    this.stopWatchdog();
    return this.send(['STOPPING=1', 'STATUS=draining']);
  }

  status(text: string): Promise<boolean> {
    return this.send([`STATUS=${text}`]);
  }

  /** One keep-alive; skipped while the previous one is still on its way. */
  watchdog(): Promise<boolean> {
    if (this.watchdogInFlight) return Promise.resolve(false);
    this.watchdogInFlight = true;
    return this.send(['WATCHDOG=1']).finally(() => {
      this.watchdogInFlight = false;
    });
  }

  /**
   * Pings every watchdogIntervalMs from this thread's event loop: if the loop wedges, the pings stop and
   * systemd kills and restarts the service (WatchdogSec=). `alive` can veto a ping (e.g. the main loop has not beaten).
   */
  startWatchdog(alive: () => boolean = () => true): void {
    if (!this.enabled || this.watchdogIntervalMs === 0 || this.watchdogTimer !== undefined) return;
    this.watchdogTimer = setInterval(() => {
      if (alive()) void this.watchdog();
    }, this.watchdogIntervalMs);
    this.watchdogTimer.unref();
  }

  stopWatchdog(): void {
    if (this.watchdogTimer !== undefined) clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }

  private send(assignments: string[]): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    const args = [`--pid=${process.pid}`, ...assignments];
    return new Promise((resolve) => {
      execFile(this.command, args, { env: this.env, timeout: 10_000 }, (error, _stdout, stderr) => {
        if (error !== null) {
          this.log?.warn(
            { err: error.message, stderr: stderr.trim(), message: assignments.join(' ') },
            `sd_notify through ${this.command} failed`,
          );
          resolve(false);
        } else {
          resolve(true);
        }
      });
    });
  }
}

/** WATCHDOG_USEC / 2 in ms when the watchdog is meant for this process (WATCHDOG_PID absent or ours), else 0. */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid = process.pid): number {
  const usec = Number(env.WATCHDOG_USEC ?? '');
  if (!Number.isFinite(usec) || usec <= 0) return 0;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return 0;
  return Math.max(1, Math.floor(usec / 2000));
}
