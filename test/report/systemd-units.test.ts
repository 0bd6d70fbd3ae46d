// deploy/lux-report.service and deploy/lux-report.timer pass systemd-analyze verify, and the service runs the daily report from the installed entry point.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const DEPLOY = path.resolve(import.meta.dirname, '../../deploy');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-report-units-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

describe('deploy/lux-report.service and .timer', () => {
  it('pass systemd-analyze verify without a warning', (ctx) => {
    if (!have('systemd-analyze')) {
      ctx.skip(); // reason: systemd-analyze is not installed (apt-get install -y systemd)
      return;
    }
    // verify checks the timer's Unit= and ExecStart's program (/usr/bin/env): both units side by side
    for (const f of ['lux-report.service', 'lux-report.timer']) fs.copyFileSync(path.join(DEPLOY, f), path.join(dir, f));
    const r = spawnSync('systemd-analyze', ['verify', path.join(dir, 'lux-report.timer'), path.join(dir, 'lux-report.service')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs the report daily over the last 24 hours into the state directory', () => {
    const service = fs.readFileSync(path.join(DEPLOY, 'lux-report.service'), 'utf8');
    const timer = fs.readFileSync(path.join(DEPLOY, 'lux-report.timer'), 'utf8');
    expect(service).toMatch(/^Type=oneshot$/m);
    expect(service).toMatch(/^ExecStart=\/usr\/bin\/env node \/opt\/lux\/bin\/lux\.js report --config \/etc\/lux\/lux\.yaml --since 24h --out \/var\/lib\/lux\/reports \$LUX_REPORT_ARGS$/m);
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* 00:10:00$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(timer).toMatch(/^Unit=lux-report\.service$/m);
    const r = spawnSync('systemd-analyze', ['calendar', '*-*-* 00:10:00'], { encoding: 'utf8' });
    if (r.status === 0) expect(r.stdout).toMatch(/Next elapse/);
  });
});
