// Reference CSV loading: RFC 4180 quoting, columns by name, and errors that name file, row and column.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRefTables, parseIsoTime } from '../../src/enrich/csv-tables.js';
import { LuxError, RefDataError } from '../../src/errors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-refdata-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;

function refDir(files: Record<string, string>): string {
  const dir = path.join(root, String(dirs++));
  fs.mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const EQUIPMENT = 'equipment_id,name,model,vendor_id,site,region\n1,ENB-1,AirScale,nok,Paris,IDF\n';

function refError(files: Record<string, string>): RefDataError {
  try {
    loadRefTables(refDir(files));
  } catch (e) {
    expect(e).toBeInstanceOf(RefDataError);
    return e as RefDataError;
  }
  throw new Error('expected a RefDataError');
}

describe('loadRefTables', () => {
  it('reads quoted commas, doubled quotes and newlines, shuffled and extra columns, empty cells, BOM and CRLF', () => {
    const t = loadRefTables(
      refDir({
        'equipment.csv':
          '\ufeffregion,extra,site,vendor_id,model,name,equipment_id\r\n' +
          'IDF,x,"Paris, ""Nord""",nok,AirScale,"ENB\r\nline 2",7\r\n' +
          ',,,,,,4294967295\r\n',
        'vendors.csv': 'name,vendor_id\n"Nokia, Oyj",nok\n',
        'error_codes.csv': 'vendor_id,cause_code,label,severity,category,comment\nnok,17,RRC reject,major,radio,ignored\n',
        'interventions.csv':
          'ticket,equipment_id,kind,start,end\n' +
          'CHG-1,7,upgrade,2024-01-01T00:00:00Z,2024-01-02T00:00:00.500Z\n' +
          'CHG-2,7,,2024-03-01T10:00:00+02:00,\n',
      }),
    );
    expect(t.equipment).toEqual([
      { equipmentId: 7, name: 'ENB\r\nline 2', model: 'AirScale', vendorId: 'nok', site: 'Paris, "Nord"', region: 'IDF' },
      { equipmentId: 4294967295, name: null, model: null, vendorId: null, site: null, region: null },
    ]);
    expect(t.vendors).toEqual([{ vendorId: 'nok', name: 'Nokia, Oyj' }]);
    expect(t.errorCodes).toEqual([{ vendorId: 'nok', causeCode: 17, label: 'RRC reject', severity: 'major', category: 'radio' }]);
    expect(t.interventions).toEqual([
      { ticket: 'CHG-1', equipmentId: 7, kind: 'upgrade', startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 2, 0, 0, 0, 500) },
      { ticket: 'CHG-2', equipmentId: 7, kind: null, startMs: Date.UTC(2024, 2, 1, 8), endMs: Infinity },
    ]);
  });

  it('treats missing optional files as empty tables', () => {
    const t = loadRefTables(refDir({ 'equipment.csv': EQUIPMENT }));
    expect(t.equipment).toHaveLength(1);
    expect(t.vendors).toEqual([]);
    expect(t.errorCodes).toEqual([]);
    expect(t.interventions).toEqual([]);
  });

  it('rejects a missing equipment.csv and a missing directory', () => {
    expect(() => loadRefTables(refDir({ 'vendors.csv': 'vendor_id,name\n' }))).toThrow(/equipment\.csv: required reference file is missing/);
    expect(() => loadRefTables(path.join(root, 'nope'))).toThrow(LuxError);
  });

  it('names the missing header column at row 1', () => {
    const e = refError({ 'equipment.csv': 'equipment_id,name,model,vendor_id,site\n1,a,b,c,d\n' });
    expect(e.file).toMatch(/equipment\.csv$/);
    expect([e.row, e.column]).toEqual([1, 'region']);
    expect(e.message).toMatch(/equipment\.csv: row 1, column region: missing column/);
  });

  it.each([
    ['equipment.csv', 'equipment_id,name,model,vendor_id,site,region\n1,a,b,c,d,e\n,a,b,c,d,e\n', 3, 'equipment_id', /missing key/],
    ['equipment.csv', 'equipment_id,name,model,vendor_id,site,region\n1,a,b,c,d,e\n4294967296,a,b,c,d,e\n', 3, 'equipment_id', /out of range/],
    ['equipment.csv', 'equipment_id,name,model,vendor_id,site,region\n-1,a,b,c,d,e\n', 2, 'equipment_id', /not an integer/],
    ['equipment.csv', 'equipment_id,name,model,vendor_id,site,region\n1.5,a,b,c,d,e\n', 2, 'equipment_id', /not an integer/],
    ['equipment.csv', 'equipment_id,name,model,vendor_id,site,region\n1,a,b,c,d,e\n2,a,b,c,d,e\n1,x,b,c,d,e\n', 4, 'equipment_id', /duplicate key 1 \(first at row 2\)/],
    ['vendors.csv', 'vendor_id,name\nnok,Nokia\n,Nameless\n', 3, 'vendor_id', /missing key/],
    ['vendors.csv', 'vendor_id,name\nnok,Nokia\nnok,Nokia again\n', 3, 'vendor_id', /duplicate key nok/],
    ['error_codes.csv', 'vendor_id,cause_code,label,severity,category\nnok,65536,a,b,c\n', 2, 'cause_code', /out of range 0..65535/],
    ['error_codes.csv', 'vendor_id,cause_code,label,severity,category\nnok,,a,b,c\n', 2, 'cause_code', /missing key/],
    ['error_codes.csv', 'vendor_id,cause_code,label,severity,category\nnok,1,a,b,c\nnok,1,d,e,f\n', 3, 'cause_code', /duplicate key nok:1/],
    ['interventions.csv', 'ticket,equipment_id,kind,start,end\nT1,1,k,yesterday,\n', 2, 'start', /not an ISO-8601/],
    ['interventions.csv', 'ticket,equipment_id,kind,start,end\nT1,1,k,2024-02-30T00:00:00Z,\n', 2, 'start', /not an ISO-8601/],
    ['interventions.csv', 'ticket,equipment_id,kind,start,end\nT1,1,k,,2024-01-01T00:00:00Z\n', 2, 'start', /missing value/],
    ['interventions.csv', 'ticket,equipment_id,kind,start,end\nT1,1,k,2024-01-02T00:00:00Z,2024-01-01T00:00:00Z\n', 2, 'end', /before start/],
    ['interventions.csv', 'ticket,equipment_id,kind,start,end\nT1,1,k,2024-01-01T00:00:00Z,\n,1,k,2024-01-01T00:00:00Z,\n', 3, 'ticket', /missing key/],
  ])('%s: reports row %#', (file, text, row, column, message) => {
    const files: Record<string, string> = { 'equipment.csv': EQUIPMENT, [file]: text };
    const e = refError(files);
    expect(path.basename(e.file)).toBe(file);
    expect(e.row).toBe(row);
    expect(e.column).toBe(column);
    expect(e.message).toMatch(message);
    expect(e.code).toBe('E_REFDATA');
  });

  it('counts rows as a spreadsheet does: a multi-line quoted cell is one row, a blank line is a row', () => {
    const e = refError({
      'equipment.csv': 'equipment_id,name,model,vendor_id,site,region\n1,"two\nlines",b,c,d,e\n\n2,a,b,c,d,e\nx,a,b,c,d,e\n',
    });
    expect([e.row, e.column]).toEqual([5, 'equipment_id']);
  });

  it('reports malformed CSV (unclosed quote, ragged row) with the file and row', () => {
    const ragged = refError({ 'equipment.csv': 'equipment_id,name,model,vendor_id,site,region\n1,a,b,c,d,e\n2,a,b\n' });
    expect(ragged.row).toBe(3);
    expect(ragged.message).toMatch(/not valid CSV/);
    const open = refError({ 'equipment.csv': 'equipment_id,name,model,vendor_id,site,region\n1,"a,b,c,d,e\n' });
    expect(open.message).toMatch(/equipment\.csv: row \d+: not valid CSV/);
  });

  it('keeps equipment whose vendor_id is not in vendors.csv', () => {
    const t = loadRefTables(refDir({ 'equipment.csv': EQUIPMENT, 'vendors.csv': 'vendor_id,name\neri,Ericsson\n' }));
    expect(t.equipment[0].vendorId).toBe('nok');
  });
});

describe('parseIsoTime', () => {
  it('reads ISO-8601 UTC forms and rejects the rest', () => {
    expect(parseIsoTime('2024-05-06T07:08:09.123Z')).toBe(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
    expect(parseIsoTime('2024-05-06T07:08:09Z')).toBe(Date.UTC(2024, 4, 6, 7, 8, 9));
    expect(parseIsoTime('2024-05-06T07:08Z')).toBe(Date.UTC(2024, 4, 6, 7, 8));
    expect(parseIsoTime('2024-05-06T07:08:09')).toBe(Date.UTC(2024, 4, 6, 7, 8, 9));
    expect(parseIsoTime('2024-05-06')).toBe(Date.UTC(2024, 4, 6));
    expect(parseIsoTime('2024-05-06T07:08:09.123456+00:00')).toBe(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
    expect(parseIsoTime('2024-05-06T07:08:09-0130')).toBe(Date.UTC(2024, 4, 6, 8, 38, 9));
    expect(parseIsoTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of ['', 'now', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z', '1704067200000']) {
      expect(parseIsoTime(bad), bad).toBeNaN();
    }
  });
});

describe('examples/refdata', () => {
  it('loads: 200 equipment with ids 1..200, 4 vendors, 40 error codes, ongoing interventions', () => {
    const t = loadRefTables(path.join(import.meta.dirname, '..', '..', 'examples', 'refdata'));
    expect(t.equipment.map((e) => e.equipmentId)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(t.vendors).toHaveLength(4);
    expect(t.errorCodes).toHaveLength(40);
    expect(t.interventions.some((i) => i.endMs === Infinity)).toBe(true);
  });
});
