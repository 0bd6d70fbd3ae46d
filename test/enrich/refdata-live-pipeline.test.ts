// End to end: a reference-data update lands while `lux run` enriches under load; every record is enriched against either the old or the new version, never a mix.
import { describe, expect, it } from 'vitest';
import { loadRefTables } from '../../src/enrich/csv-tables.js';
import { consumeAll, produceFrames } from '../kafka-helpers.js';
import { REFDATA, daemonTopics, makeFrames, sleep, startDaemon, writeConfig } from '../pipeline/daemon-harness.js';

interface Enriched {
  equipment_id: number;
  cause_code: number;
  equipment: { name: string | null; model: string | null; vendor: string | null; site: string | null; region: string | null } | null;
  cause: { label: string | null } | null;
}

describe('live reference data in the running pipeline', () => {
  it('updates while the pipeline runs under load: every record enriched against either the old or the new version, never a mix', async () => {
    const topics = await daemonTopics('refdata-live', 3);
    const refTopic = topics.refdata;
    const tables = loadRefTables(REFDATA);
    const old = tables.equipment.find((e) => e.equipmentId === 1);
    if (old === undefined || old.vendorId === null) throw new Error('examples/refdata: equipment 1 with a vendor expected');
    const otherVendor = tables.vendors.find((v) => v.vendorId !== old.vendorId);
    if (otherVendor === undefined) throw new Error('examples/refdata: a second vendor expected');
    const vendorName = (id: string): string | null => tables.vendors.find((v) => v.vendorId === id)?.name ?? null;
    const label = (vendor: string, code: number): string | null =>
      tables.errorCodes.find((c) => c.vendorId === vendor && c.causeCode === code)?.label ?? null;
    // one message changes every field of equipment 1, its vendor included (so its vendor name and causes change too)
    const next = { name: 'ENB-RENAMED', model: 'New Model', vendor_id: otherVendor.vendorId, site: 'Nowhere', region: 'Nord' };

    const d = startDaemon(writeConfig(topics, { group: `${topics.raw}-g`, transactionalId: `${topics.raw}-t`, workers: 2 }));
    const perChunk = 1500;
    let chunks = 0;
    // a new-version record of equipment 1 committed yet? (the update is applied asynchronously: on a loaded machine
    // it can land after a fixed amount of traffic has gone through, so traffic goes on until it shows, bounded)
    const newSeen = async (): Promise<boolean> =>
      (await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 60_000 })).some((m) => m.value?.toString().includes(`"name":"${next.name}"`));
    try {
      for (; chunks < 10 || (chunks < 60 && (chunks % 5 !== 0 || !(await newSeen()))); chunks++) {
        await produceFrames(topics.raw, makeFrames(perChunk, { equipment: 20, seqBase: chunks * perChunk }));
        if (chunks === 4) {
          // only once a record of equipment 1 is committed, enriched with the old version (under load the daemon can
          // take a while to join, and the first records committed may all be of another partition)
          const deadline = Date.now() + 120_000;
          const oldSeen = async (): Promise<boolean> =>
            (await consumeAll(topics.enriched, { isolation: 'read_committed', timeoutMs: 60_000 })).some(
              (m) => (JSON.parse(m.value?.toString() ?? 'null') as Enriched).equipment_id === 1,
            );
          while (!(await oldSeen())) {
            if (Date.now() > deadline) throw new Error('no record of equipment 1 committed within 120 s');
            await sleep(500);
          }
          await produceFrames(refTopic, [{ key: 'equipment:1', value: JSON.stringify(next) }]);
        }
        await sleep(200);
      }
      const out = await consumeAll(topics.enriched, { isolation: 'read_committed', expected: chunks * perChunk * 2, timeoutMs: 120_000 });
      let seenOld = 0;
      let seenNew = 0;
      let afterNew = false;
      for (const m of out) {
        const r = JSON.parse(m.value?.toString() ?? 'null') as Enriched;
        if (r.equipment_id !== 1) continue;
        const e = r.equipment;
        const isOld = e !== null && e.name === old.name && e.site === old.site && e.vendor === vendorName(old.vendorId);
        const isNew = e !== null && e.name === next.name && e.site === next.site && e.vendor === vendorName(next.vendor_id) && e.model === next.model;
        expect(isOld || isNew, `a mixed record: ${m.value?.toString()}`).toBe(true);
        // the cause follows the same version's vendor
        const want = r.cause_code === 0 ? null : label(isNew ? next.vendor_id : old.vendorId, r.cause_code);
        expect(r.cause?.label ?? null, m.value?.toString()).toBe(want);
        // records of equipment 1 share one partition, in order: once new, never old again
        if (isNew) afterNew = true;
        else expect(afterNew, 'an old record after a new one').toBe(false);
        if (isNew) seenNew++;
        else seenOld++;
      }
      expect(seenOld).toBeGreaterThan(0);
      expect(seenNew).toBeGreaterThan(0);
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });
});
