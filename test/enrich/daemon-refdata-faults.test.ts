// Bad reference data under load, through the whole daemon: malformed CSV files on SIGHUP and malformed updates on the reference-data topic while records flow keep the last good version in force, are counted in /metrics and logged where they are (file, row, column; topic/partition@offset), and never stop the pipeline: every record is still enriched exactly once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { consumeAll, produceFrames } from '../kafka-helpers.js';
import { REFDATA, daemonTopics, makeFrames, sleep, startDaemon, writeConfig, type RunningDaemon } from '../pipeline/daemon-harness.js';

/** The daemon logs its HTTP address at start (port 0 picks a free one). */
async function httpUrl(d: RunningDaemon): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const m = /"url":"(http:\/\/[^"]+)"/.exec(d.output());
    if (m !== null) return m[1];
    await sleep(100);
  }
  throw new Error('no http url in the daemon log');
}

/** One Prometheus sample by its full name with labels, 0 when absent. */
async function sample(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return 0;
}

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The reference-data component's log lines (pino JSON) whose msg matches (the daemon repeats reload outcomes without `dir`). */
function logLines(d: RunningDaemon, msg: RegExp): Array<Record<string, unknown>> {
  return d
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.component === 'refdata' && msg.test(String(l.msg)) && (l.topic !== undefined || l.dir !== undefined));
}

const EQUIPMENT = 5;
const BATCH = 300;

it('keeps the last good reference data through malformed CSV reloads and topic updates under load, counting and locating each, with every record enriched once', async () => {
  const topics = await daemonTopics('refdata-faults', 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-ref-faults-'));
  for (const f of fs.readdirSync(REFDATA)) fs.copyFileSync(path.join(REFDATA, f), path.join(dir, f));
  const original = (file: string) => fs.readFileSync(path.join(REFDATA, file), 'utf8');
  const rename = (csv: string, eq: number, name: string) =>
    csv
      .split('\n')
      .map((l) => (l.startsWith(`${eq},`) ? l.split(',').map((c, i) => (i === 1 ? name : c)).join(',') : l))
      .join('\n');
  const config = writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t` });
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(`dir: ${REFDATA}`, `dir: ${dir}`));
  const d = startDaemon(config);

  // traffic all along: a batch of frames every few hundred ms until told to stop
  let batches = 0;
  let traffic = true;
  const producing = (async () => {
    while (traffic) {
      await produceFrames(topics.raw, makeFrames(BATCH, { equipment: EQUIPMENT, seqBase: batches * BATCH, timeOffsetMs: batches * BATCH * 10, badEvery: 97 }));
      batches++;
      await sleep(200);
    }
  })();
  try {
    const url = await httpUrl(d);
    await until('records flowing', async () => (await sample(url, 'lux_records_produced_total')) >= 1000);

    // ── malformed updates on the topic, around one good one
    const acks = await produceFrames(topics.refdata, [
      { key: 'equipment:1', value: '{"name":' },
      { key: 'sites:1', value: '{}' },
      { key: 'equipment:2', value: JSON.stringify({ name: 'LIVE-0002', model: 'M', vendor_id: 'NOK', site: 'S', region: 'R' }) },
      { key: 'equipment:3', value: '{"name":{"x":1}}' },
      { key: 'equipment:4', value: '{"equipment_id":5,"name":"wrong row"}' },
      { key: 'no-colon', value: '{}' },
      { key: 'equipment:1', value: '[]' },
    ]);
    const reasons = ['invalid_json', 'unknown_table', 'bad_value', 'key_mismatch', 'bad_key', 'not_an_object'];
    await until('the bad updates counted', async () => {
      let n = 0;
      for (const r of reasons) n += await sample(url, `lux_refdata_bad_updates_total{reason="${r}"}`);
      return n === reasons.length;
    });
    for (const r of reasons) expect(await sample(url, `lux_refdata_bad_updates_total{reason="${r}"}`), r).toBe(1);
    const skipped = logLines(d, /^bad reference-data update at /);
    expect(skipped.map((l) => `${l.topic as string}/${l.partition as number}@${l.offset as number} ${l.reason as string}`)).toEqual(
      [0, 1, 3, 4, 5, 6].map((i, k) => `${topics.refdata}/${acks[i].partition}@${acks[i].offset} ${reasons[k]}`),
    );

    // ── malformed CSV files on SIGHUP: a bad id in equipment.csv (with a rename that must never show), then an
    // unclosed quote in interventions.csv
    fs.writeFileSync(path.join(dir, 'equipment.csv'), rename(original('equipment.csv'), 1, 'BAD-0001').replace(/^7,ENB/m, '7x,ENB'));
    d.child.kill('SIGHUP');
    await until('the first refused reload', () => logLines(d, /reload failed/).length === 1);
    fs.writeFileSync(path.join(dir, 'equipment.csv'), original('equipment.csv'));
    fs.writeFileSync(path.join(dir, 'interventions.csv'), `${original('interventions.csv')}CHG-9,5,kind,"2020-01-01T00:00:00Z,,x\n`);
    d.child.kill('SIGHUP');
    await until('the second refused reload', () => logLines(d, /reload failed/).length === 2);
    const refused = logLines(d, /reload failed/).map((l) => String(l.err));
    expect(refused[0]).toMatch(/equipment\.csv: row 8, column equipment_id: "7x" is not an integer/);
    expect(refused[1]).toMatch(/interventions\.csv: row 12: not valid CSV/);
    expect(await sample(url, 'lux_refdata_reload_failures_total')).toBe(2);
    expect(d.child.exitCode).toBeNull();

    // ── a good reload afterwards still works, and keeps the topic's update above the CSV rows
    fs.writeFileSync(path.join(dir, 'interventions.csv'), original('interventions.csv'));
    fs.writeFileSync(path.join(dir, 'equipment.csv'), rename(original('equipment.csv'), 3, 'FIXED-0003'));
    d.child.kill('SIGHUP');
    await until('the good reload', () => logLines(d, /^reference data reloaded$/).length === 1);
    const fixedFrom = batches;
    await until('two more batches after the good reload', () => batches >= fixedFrom + 2);
    traffic = false;
    await producing;

    // ── every record once, each enriched against a good version
    const frames = batches * BATCH;
    const bad = batches * Math.floor(BATCH / 97); // makeFrames breaks every 97th frame of each batch
    const expected = (frames - bad) * 2;
    const out = await consumeAll(topics.enriched, { isolation: 'read_committed', expected, timeoutMs: 120_000 });
    await sleep(1500);
    expect(await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 30_000 })).toHaveLength(expected);
    const records = out.map((m) => JSON.parse(m.value?.toString() ?? '{}') as { equipment_id: number; frame_seq: number; record_index: number; equipment: { name: string } | null });
    expect(new Set(records.map((r) => `${r.equipment_id}:${r.frame_seq}:${r.record_index}`)).size).toBe(expected);
    expect(await consumeAll(topics.dlq, { isolation: 'read_committed', timeoutMs: 30_000 })).toHaveLength(bad);
    const names = (eq: number) => records.filter((r) => r.equipment_id === eq).map((r) => r.equipment?.name);
    const base = (eq: number) => original('equipment.csv').split('\n').find((l) => l.startsWith(`${eq},`))?.split(',')[1];
    // nothing from a refused file or update was ever in force
    expect(new Set(names(1))).toEqual(new Set([base(1)]));
    expect(new Set(names(4))).toEqual(new Set([base(4)]));
    expect(new Set(names(5))).toEqual(new Set([base(5)]));
    // the good update and the good reload took over at one point each, in record order, and stayed
    const switched = (list: (string | undefined)[], from: string | undefined, to: string) => {
      const at = list.indexOf(to);
      return at > 0 && list.slice(0, at).every((n) => n === from) && list.slice(at).every((n) => n === to);
    };
    expect(switched(names(2), base(2), 'LIVE-0002'), 'equipment 2: the topic update').toBe(true);
    expect(switched(names(3), base(3), 'FIXED-0003'), 'equipment 3: the good reload').toBe(true);
  } catch (err) {
    process.stderr.write(`--- daemon log ---\n${d.output()}\n--- end of daemon log ---\n`);
    throw err;
  } finally {
    traffic = false;
    await producing.catch(() => undefined);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  }
}, 300_000);
