// Reading reference-data topic messages: good upserts and tombstones, and each kind of bad update with its reason.
import { describe, expect, it } from 'vitest';
import { isBadUpdate, readUpdate } from '../../src/enrich/refdata-update.js';

const ok = (key: string | null, value: string | null) => {
  const u = readUpdate(key, value);
  if (isBadUpdate(u)) throw new Error(`${u.reason}: ${u.message}`);
  return u;
};
const reason = (key: string | null, value: string | null): string => {
  const u = readUpdate(key, value);
  return isBadUpdate(u) ? u.reason : 'ok';
};

describe('readUpdate', () => {
  it('reads an upsert of each table, key columns optional in the value', () => {
    expect(ok('equipment:7', '{"equipment_id":7,"name":"E7","model":null,"vendor_id":"nok","site":"S","region":"R"}')).toEqual({
      table: 'equipment',
      key: '7',
      row: { equipmentId: 7, name: 'E7', model: null, vendorId: 'nok', site: 'S', region: 'R' },
    });
    expect(ok('equipment:007', '{"name":"E7"}').row).toMatchObject({ equipmentId: 7, name: 'E7', vendorId: null });
    expect(ok('vendors:nok', '{"name":"Nokia"}')).toEqual({ table: 'vendors', key: 'nok', row: { vendorId: 'nok', name: 'Nokia' } });
    expect(ok('error_codes:a:b:17', '{"label":"x","severity":"major","category":"radio"}')).toMatchObject({
      table: 'error_codes',
      key: 'a:b:17',
      row: { vendorId: 'a:b', causeCode: 17, label: 'x' },
    });
    expect(ok('interventions:CHG-1', '{"equipment_id":"5","kind":"repair","start":"2024-01-01T00:00:00Z","end":null}').row).toMatchObject({
      ticket: 'CHG-1',
      equipmentId: 5,
      startMs: Date.UTC(2024, 0, 1),
      endMs: Infinity,
    });
  });

  it('reads a null value (and a JSON null) as a delete', () => {
    expect(ok('equipment:7', null)).toEqual({ table: 'equipment', key: '7', row: null });
    expect(ok('error_codes:nok:0017', 'null')).toEqual({ table: 'error_codes', key: 'nok:17', row: null });
  });

  it('names the reason of each bad update', () => {
    expect(reason(null, '{}')).toBe('bad_key');
    expect(reason('equipment', '{}')).toBe('bad_key');
    expect(reason('equipment:x', null)).toBe('bad_key');
    expect(reason('equipment:4294967296', null)).toBe('bad_key');
    expect(reason('error_codes:nok', null)).toBe('bad_key');
    expect(reason('error_codes:nok:70000', null)).toBe('bad_key');
    expect(reason('sites:1', '{}')).toBe('unknown_table');
    expect(reason('equipment:1', '{"name":')).toBe('invalid_json');
    expect(reason('equipment:1', '[1]')).toBe('not_an_object');
    expect(reason('equipment:1', '"E1"')).toBe('not_an_object');
    expect(reason('equipment:1', '{"name":{"a":1}}')).toBe('bad_value');
    expect(reason('equipment:1', '{"equipment_id":-1}')).toBe('bad_value');
    expect(reason('interventions:T', '{"equipment_id":1,"start":"yesterday"}')).toBe('bad_value');
    expect(reason('interventions:T', '{"equipment_id":1}')).toBe('bad_value');
    expect(reason('equipment:1', '{"equipment_id":2}')).toBe('key_mismatch');
    expect(reason('error_codes:nok:1', '{"vendor_id":"eri","cause_code":1}')).toBe('key_mismatch');
    expect(reason('interventions:T1', '{"ticket":"T2","equipment_id":1,"start":"2024-01-01"}')).toBe('key_mismatch');
  });
});
