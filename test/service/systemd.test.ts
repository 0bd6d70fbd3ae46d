// systemd integration: sd_notify messages through systemd-notify, the watchdog interval, and the unit file passing systemd-analyze verify.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemdNotifier, watchdogInterval } from '../../src/service/systemd.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-systemd-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in for systemd-notify that appends its arguments to a file. */
function fakeNotify(): { command: string; calls: () => string[][] } {
  const log = path.join(dir, `calls-${Math.random().toString(36).slice(2)}`);
  const command = `${log}.sh`;
  fs.writeFileSync(command, `#!/bin/sh\nprintf '%s\\t' "$@" >> '${log}'\necho >> '${log}'\n`, { mode: 0o755 });
  return {
    command,
    calls: () =>
      fs.existsSync(log)
        ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.replace(/\t$/, '').split('\t'))
        : [],
  };
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

describe('SystemdNotifier', () => {
  it('does nothing without NOTIFY_SOCKET', async () => {
    const fake = fakeNotify();
    const n = new SystemdNotifier({ env: {}, command: fake.command });
    expect(n.enabled).toBe(false);
    expect(await n.ready()).toBe(false);
    expect(fake.calls()).toEqual([]);
  });

  it('sends READY, RELOADING, WATCHDOG and STOPPING with our pid as MAINPID', async () => {
    const fake = fakeNotify();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/fake' }, command: fake.command });
    expect(await n.ready()).toBe(true);
    await n.reloading();
    await n.watchdog();
    await n.stopping();
    const calls = fake.calls();
    expect(calls.map((c) => c[0])).toEqual(Array(4).fill(`--pid=${process.pid}`));
    expect(calls[0]!.slice(1)).toEqual(['READY=1', 'STATUS=processing']);
    expect(calls[1]![1]).toBe('RELOADING=1');
    expect(calls[1]![2]).toMatch(/^MONOTONIC_USEC=\d+$/);
    expect(calls[2]!.slice(1)).toEqual(['WATCHDOG=1']);
    expect(calls[3]!.slice(1)).toEqual(['STOPPING=1', 'STATUS=draining']);
  });

  it('logs a failed notification instead of throwing', async () => {
    const warnings: string[] = [];
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/fake' },
      command: path.join(dir, 'missing-systemd-notify'),
      log: { warn: (_o, msg) => warnings.push(msg) },
    });
    expect(await n.ready()).toBe(false);
    expect(warnings[0]).toMatch(/^sd_notify through .*missing-systemd-notify failed$/);
  });

  it('reaches a real notify socket through systemd-notify, waiting on the barrier', async (ctx) => {
    if (!have('systemd-notify') || !have('python3')) {
      ctx.skip(); // reason: needs systemd-notify and python3 (to stand in for PID 1's socket)
      return;
    }
    const socket = path.join(dir, 'notify.sock');
    const out = path.join(dir, 'notify.out');
    // Receives datagrams like PID 1 would, closing each barrier fd after reading it.
    const receiver = `
import socket, os, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(${JSON.stringify(socket)}); s.settimeout(10)
with open(${JSON.stringify(out)}, 'w') as f:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
        for lvl, t, data in anc:
            if lvl == socket.SOL_SOCKET and t == socket.SCM_RIGHTS:
                a = array.array('i'); a.frombytes(data[:len(data) - len(data) % 4]); [os.close(x) for x in a]
        f.write(msg.decode() + '\\n---\\n'); f.flush()
        if b'BARRIER=1' in msg: break`;
    const py = spawn('python3', ['-c', receiver], { stdio: 'ignore' });
    // listened for from the start: the receiver exits as soon as it has read the barrier, which can be before
    // ready() below returns (a listener added after that would wait for an exit already past)
    const exited = new Promise((r) => py.once('exit', r));
    // python3 can take seconds to start on a loaded machine: the socket must exist before anything is sent to it
    for (let i = 0; i < 600 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(socket), 'the stand-in for PID 1 never bound its socket').toBe(true);
    const n = new SystemdNotifier({ env: { ...process.env, NOTIFY_SOCKET: socket } });
    expect(await n.ready('up')).toBe(true);
    await exited;
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toContain(`MAINPID=${process.pid}\nREADY=1\nSTATUS=up`);
    expect(text).toContain('BARRIER=1'); // systemd-notify waited for the message to be read
  });
});

describe('watchdogInterval', () => {
  it('is half of WATCHDOG_USEC, for this process only', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000' })).toBe(15_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) })).toBe(15_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' })).toBe(0);
    expect(watchdogInterval({})).toBe(0);
    expect(watchdogInterval({ WATCHDOG_USEC: 'x' })).toBe(0);
  });
});

describe('deploy/lux.service', () => {
  const unit = path.join(import.meta.dirname, '../../deploy/lux.service');

  it('passes systemd-analyze verify without a warning', (ctx) => {
    if (!have('systemd-analyze')) {
      ctx.skip(); // reason: systemd-analyze is not installed (apt-get install -y systemd)
      return;
    }
    // verify checks that ExecStart's program exists: /usr/bin/env always does; node need not be on this host.
    const copy = path.join(dir, 'lux.service');
    fs.copyFileSync(unit, copy);
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('keeps the drain inside TimeoutStopSec and runs the installed entry point', () => {
    const text = fs.readFileSync(unit, 'utf8');
    expect(text).toMatch(/^Type=notify$/m);
    expect(text).toMatch(/^NotifyAccess=all$/m);
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/env node \/opt\/lux\/bin\/lux\.js run --config \/etc\/lux\/lux\.yaml$/m);
    const stop = Number(/^TimeoutStopSec=(\d+)s$/m.exec(text)?.[1]);
    expect(stop * 1000).toBeGreaterThan(30_000); // pipeline.drain_timeout_ms default
  });
});
