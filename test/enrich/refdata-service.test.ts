// RefdataService against the real broker: topic replay at start, live updates and deletes, bad updates located and skipped, CSV reloads, a million-row table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/service/logger.js';
import { RefdataService, type RefdataServiceOptions } from '../../src/enrich/refdata-service.js';
import { openReference, type Reference } from '../../src/enrich/reference.js';
import { brokers, createTopics, produceFrames, uniqueTopic } from '../kafka-helpers.js';

const T = Date.UTC(2024, 0, 1);

function refDir(equipmentRows = 20): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-refdata-'));
  const eq = ['equipment_id,name,model,vendor_id,site,region'];
  for (let i = 1; i <= equipmentRows; i++) eq.push(`${i},E${i},M,${i % 2 === 0 ? 'nok' : 'eri'},S${i % 10},R`);
  fs.writeFileSync(path.join(dir, 'equipment.csv'), `${eq.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'vendors.csv'), 'vendor_id,name\nnok,Nokia\neri,Ericsson\n');
  fs.writeFileSync(path.join(dir, 'error_codes.csv'), 'vendor_id,cause_code,label,severity,category\nnok,17,RRC reject,major,radio\neri,17,S1 failure,minor,core\n');
  fs.writeFileSync(path.join(dir, 'interventions.csv'), 'ticket,equipment_id,kind,start,end\nCHG-1,2,upgrade,2024-01-01T00:00:00Z,2024-01-02T00:00:00Z\n');
  return dir;
}

/** A logger whose JSON lines the test can read. */
function capture(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const log = createLogger('info', { write: (s: string) => void out.push(s) });
  return { log, lines: () => out.flatMap((s) => s.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)) };
}

const services: RefdataService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

async function start(opts: Partial<RefdataServiceOptions> & { dir: string; log: Logger }): Promise<RefdataService> {
  const s = new RefdataService({ watch: false, ...opts });
  services.push(s);
  await s.start();
  return s;
}

function ref(s: RefdataService): Reference {
  const v = s.current();
  return openReference(v.base, v.overlay);
}

/** Waits (version by version) until `test` holds on the version in force; returns the ms it took. */
async function until(s: RefdataService, test: (r: Reference) => boolean, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  while (!test(ref(s))) {
    const left = timeoutMs - (performance.now() - t0);
    if (left <= 0) throw new Error(`condition not met within ${timeoutMs} ms (version ${s.counters.version})`);
    await Promise.race([s.nextVersion(), new Promise((r) => setTimeout(r, Math.min(left, 200)))]);
  }
  return performance.now() - t0;
}

const name = (r: Reference, id: number): unknown => (JSON.parse(r.equipmentJson(id)) as { name?: unknown } | null)?.name ?? null;

describe('RefdataService (real broker)', () => {
  it('replays the topic over the CSV rows before start() resolves', async () => {
    const topic = uniqueTopic('lux-refdata');
    await createTopics([topic], 2);
    await produceFrames(topic, [
      { key: 'equipment:3', value: JSON.stringify({ name: 'from topic', vendor_id: 'nok' }) },
      { key: 'equipment:100', value: JSON.stringify({ name: 'new one', vendor_id: 'eri' }) },
      { key: 'equipment:4', value: null },
      { key: 'vendors:nok', value: JSON.stringify({ name: 'Nokia Networks' }) },
      { key: 'error_codes:eri:17', value: null },
      { key: 'equipment:3', value: JSON.stringify({ name: 'from topic, later', vendor_id: 'nok' }) },
    ]);
    const { log } = capture();
    const s = await start({ dir: refDir(), brokers: brokers(), topic, log });
    expect(s.counters.updates).toBe(6);
    const r = ref(s);
    expect(name(r, 3)).toBe('from topic, later');
    expect(name(r, 100)).toBe('new one');
    expect(r.equipmentJson(4)).toBe('null');
    expect(JSON.parse(r.equipmentJson(2)).vendor).toBe('Nokia Networks'); // a rename reaches CSV equipment
    expect(r.causeJson(1, 17)).toBe('null');
    expect(r.causeJson(2, 17)).toBe('{"label":"RRC reject","severity":"major","category":"radio"}');
    expect(s.counters.rows).toEqual({ equipment: 20, vendors: 2, error_codes: 1, interventions: 1 });
  });

  it('applies updates and deletes produced while it runs, each in a new version', async () => {
    const topic = uniqueTopic('lux-refdata');
    await createTopics([topic], 1);
    const { log } = capture();
    const s = await start({ dir: refDir(), brokers: brokers(), topic, log });
    const v0 = s.current().version;
    await produceFrames(topic, [{ key: 'equipment:5', value: JSON.stringify({ name: 'renamed', vendor_id: 'nok', site: 'X' }) }]);
    await until(s, (r) => name(r, 5) === 'renamed');
    expect(s.current().version).toBeGreaterThan(v0);
    await produceFrames(topic, [
      { key: 'equipment:5', value: null },
      { key: 'interventions:CHG-1', value: null },
      { key: 'interventions:CHG-2', value: JSON.stringify({ equipment_id: 7, kind: 'repair', start: '2024-01-01T00:00:00Z' }) },
    ]);
    await until(s, (r) => r.equipmentJson(5) === 'null' && r.maintenanceJson(2, T + 1000) === 'null' && r.maintenanceJson(7, T + 1000) !== 'null');
    expect(ref(s).maintenanceJson(7, T + 1000)).toBe('{"ticket":"CHG-2","kind":"repair"}');
    expect(s.counters.rows.equipment).toBe(19);
  });

  it('skips bad updates with one log line naming topic, partition, offset and reason; the good ones apply', async () => {
    const topic = uniqueTopic('lux-refdata');
    await createTopics([topic], 1);
    const { log, lines } = capture();
    const s = await start({ dir: refDir(), brokers: brokers(), topic, log });
    const acks = await produceFrames(topic, [
      { key: 'equipment:1', value: '{"name":' },
      { key: 'sites:1', value: '{}' },
      { key: 'equipment:1', value: '{"name":{"x":1}}' },
      { key: 'equipment:1', value: '{"equipment_id":2,"name":"wrong row"}' },
      { key: 'no-colon', value: '{}' },
      { key: 'equipment:1', value: '[]' },
      { key: 'equipment:1', value: JSON.stringify({ name: 'good' }) },
    ]);
    await until(s, (r) => name(r, 1) === 'good');
    const bad = lines().filter((l) => l.reason !== undefined);
    expect(bad.map((l) => [l.topic, l.partition, l.offset, l.reason])).toEqual([
      [topic, acks[0].partition, acks[0].offset, 'invalid_json'],
      [topic, acks[1].partition, acks[1].offset, 'unknown_table'],
      [topic, acks[2].partition, acks[2].offset, 'bad_value'],
      [topic, acks[3].partition, acks[3].offset, 'key_mismatch'],
      [topic, acks[4].partition, acks[4].offset, 'bad_key'],
      [topic, acks[5].partition, acks[5].offset, 'not_an_object'],
    ]);
    expect(String(bad[0].msg)).toContain(`${topic}/${acks[0].partition}@${acks[0].offset}`);
    expect(s.counters.badUpdates).toMatchObject({ invalid_json: 1, unknown_table: 1, bad_value: 1, key_mismatch: 1, bad_key: 1, not_an_object: 1 });
    // a batch of bad updates only publishes nothing: the last good version stays
    const v = s.current().version;
    await produceFrames(topic, [{ key: 'equipment:1', value: 'nope' }]);
    await until(s, () => s.counters.badUpdates.invalid_json === 2);
    expect(s.current().version).toBe(v);
    expect(name(ref(s), 1)).toBe('good');
  });

  it('reloads the CSV directory on demand and on a watched change, keeping the last good version on a bad file', async () => {
    const dir = refDir();
    const { log, lines } = capture();
    const s = await start({ dir, log, watch: true, watchDebounceMs: 100 });
    const v = s.current().version;
    fs.appendFileSync(path.join(dir, 'equipment.csv'), '21,E21,M,nok,S,R\n21,dup,M,nok,S,R\n');
    await s.reload();
    expect(s.current().version).toBe(v);
    expect(s.counters.reloadFailures).toBeGreaterThanOrEqual(1);
    expect(s.lastReloadError).toMatch(/equipment\.csv: row 23, column equipment_id: duplicate key 21/);
    expect(lines().some((l) => l.level === 'error' && String(l.err).includes('row 23'))).toBe(true);
    expect(ref(s).equipmentJson(21)).toBe('null');
    // the watcher sees the fix
    fs.writeFileSync(path.join(dir, 'equipment.csv'), 'equipment_id,name,model,vendor_id,site,region\n21,E21,M,nok,S,R\n');
    await until(s, (r) => name(r, 21) === 'E21' && r.equipmentJson(1) === 'null');
    expect(s.counters.rows.equipment).toBe(1);
  });

  it('makes a one-row update of a 1,000,000-row equipment table visible from an overlay, without a rebuild', async () => {
    const topic = uniqueTopic('lux-refdata');
    await createTopics([topic], 1);
    const { log } = capture();
    const t0 = performance.now();
    const s = await start({ dir: refDir(1_000_000), brokers: brokers(), topic, log });
    const loadMs = performance.now() - t0;
    expect(s.counters.rows.equipment).toBe(1_000_000);
    const seen: number[] = [];
    for (let k = 0; k < 3; k++) {
      const id = 1 + k * 333_333;
      await produceFrames(topic, [{ key: `equipment:${id}`, value: JSON.stringify({ name: `live ${k}`, vendor_id: 'nok' }) }]);
      await until(s, (r) => name(r, id) === `live ${k}`, 10_000);
      // from the message's CreateTime (stamped by the producer) to the version holding it on the main thread
      seen.push(s.counters.lastUpdateLagMs);
    }
    console.log(`1M equipment: start ${Math.round(loadMs)} ms; produced → visible ${seen.join(', ')} ms`);
    // The lag printed above is a figure, not an assertion: timed tests fail on a loaded machine (1,104 ms in a CI run
    // while the whole suite ran beside it; `npm run bench` measures it, refdata group); the overlay below is what keeps
    // it far under a rebuild of the table.
    expect(s.counters.overlayRows).toBeGreaterThan(0); // served by an overlay, not by a rebuild
    expect(name(ref(s), 500_000)).toBe('E500000');
  }, 180_000);
});
