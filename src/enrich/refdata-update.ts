// One message of the reference-data topic (SPEC section 2) read into a row upsert or delete, or a bad update with its reason.
//
// Readings of the spec that this file fixes:
// - The key is `<table>:<key>`; error codes are `error_codes:<vendor_id>:<cause_code>`, split at the LAST colon so a
//   vendor_id may itself hold colons. Keys are compared in canonical form (equipment `007` is equipment 7).
// - The value is a JSON object with the table's columns, read by the same field readers as the CSV cells: an absent or
//   null column is an empty cell, numbers are accepted for text columns, unknown members are ignored. Key columns may be
//   omitted (the message key supplies them); when present they must name the same row as the message key.
// - A null value (tombstone) deletes the row; its key must still be well formed.
import {
  equipmentFromFields,
  equipmentKey,
  errorCodeFromFields,
  errorCodeKey,
  interventionFromFields,
  interventionKey,
  vendorFromFields,
  vendorKey,
  type EquipmentRow,
  type ErrorCodeRow,
  type FieldFault,
  type InterventionRow,
  type RowFields,
  type TableName,
  type VendorRow,
} from './csv-tables.js';

/** Why an update was skipped (the `reason` label of the bad-update counter). */
export type BadUpdateReason = 'bad_key' | 'unknown_table' | 'invalid_json' | 'not_an_object' | 'bad_value' | 'key_mismatch';

export const BAD_UPDATE_REASONS: readonly BadUpdateReason[] = ['bad_key', 'unknown_table', 'invalid_json', 'not_an_object', 'bad_value', 'key_mismatch'];

/** A message as the topic consumer hands it on: text key and value (null: tombstone) and where it was read. */
export interface RawUpdate {
  readonly key: string | null;
  readonly value: string | null;
  readonly partition: number;
  readonly offset: number;
  /** the message's timestamp (ms), when the broker gave one */
  readonly timestamp?: number;
}

export type RowUpdate =
  | { readonly table: 'equipment'; readonly key: string; readonly row: EquipmentRow | null }
  | { readonly table: 'vendors'; readonly key: string; readonly row: VendorRow | null }
  | { readonly table: 'error_codes'; readonly key: string; readonly row: ErrorCodeRow | null }
  | { readonly table: 'interventions'; readonly key: string; readonly row: InterventionRow | null };

export interface BadUpdate {
  readonly reason: BadUpdateReason;
  readonly message: string;
}

class UpdateFault extends Error {
  constructor(
    readonly reason: BadUpdateReason,
    message: string,
  ) {
    super(message);
  }
}

const TABLES: ReadonlySet<string> = new Set<TableName>(['equipment', 'vendors', 'error_codes', 'interventions']);

/** Reads one message. Never throws: a bad message comes back as `{reason, message}`. */
export function readUpdate(key: string | null, value: string | null): RowUpdate | BadUpdate {
  try {
    return read(key, value);
  } catch (e) {
    if (e instanceof UpdateFault) return { reason: e.reason, message: e.message };
    throw e;
  }
}

export function isBadUpdate(u: RowUpdate | BadUpdate): u is BadUpdate {
  return (u as BadUpdate).reason !== undefined;
}

function read(key: string | null, value: string | null): RowUpdate {
  if (key === null || key === '') throw new UpdateFault('bad_key', 'message has no key (expected <table>:<key>)');
  const colon = key.indexOf(':');
  if (colon <= 0) throw new UpdateFault('bad_key', `key ${JSON.stringify(key)} is not <table>:<key>`);
  const table = key.slice(0, colon);
  const rest = key.slice(colon + 1);
  if (!TABLES.has(table)) throw new UpdateFault('unknown_table', `unknown table ${JSON.stringify(table)} in key ${JSON.stringify(key)}`);
  const keyFields = fieldsOfKey(table as TableName, rest, key);
  const keyFault: FieldFault = (column, message) => {
    throw new UpdateFault('bad_key', `key ${JSON.stringify(key)}: ${column ?? 'key'}: ${message}`);
  };
  const wanted = canonicalKey(table as TableName, keyFields, keyFault);

  let fields: RowFields | null = null;
  if (value !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      throw new UpdateFault('invalid_json', `value is not valid JSON: ${(e as Error).message}`);
    }
    if (parsed === null) {
      fields = null; // a JSON null reads as a tombstone
    } else if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UpdateFault('not_an_object', `value is not a JSON object: ${value.length > 80 ? `${value.slice(0, 80)}…` : value}`);
    } else {
      fields = parsed as RowFields;
    }
  }
  if (fields === null) return { table, key: wanted, row: null } as RowUpdate;

  // key columns absent from the value come from the message key
  const merged: Record<string, unknown> = { ...fields };
  for (const [column, v] of Object.entries(keyFields)) if (merged[column] === undefined || merged[column] === null) merged[column] = v;
  const fault: FieldFault = (column, message) => {
    throw new UpdateFault('bad_value', `${column === undefined ? '' : `column ${column}: `}${message}`);
  };
  const update = rowOf(table as TableName, merged, fault);
  if (update.key !== wanted) {
    throw new UpdateFault('key_mismatch', `key ${JSON.stringify(key)} names row ${wanted} but the value is row ${update.key}`);
  }
  return update;
}

/** The key columns that the part after `<table>:` spells. */
function fieldsOfKey(table: TableName, rest: string, key: string): Record<string, string> {
  if (rest.trim() === '') throw new UpdateFault('bad_key', `key ${JSON.stringify(key)} has an empty row key`);
  switch (table) {
    case 'equipment':
      return { equipment_id: rest };
    case 'vendors':
      return { vendor_id: rest };
    case 'error_codes': {
      const last = rest.lastIndexOf(':');
      if (last <= 0) throw new UpdateFault('bad_key', `key ${JSON.stringify(key)} is not error_codes:<vendor_id>:<cause_code>`);
      return { vendor_id: rest.slice(0, last), cause_code: rest.slice(last + 1) };
    }
    case 'interventions':
      return { ticket: rest };
  }
}

/** Canonical row key from the key columns alone (the other columns are not checked). */
function canonicalKey(table: TableName, keyFields: Record<string, string>, fault: FieldFault): string {
  switch (table) {
    case 'equipment':
      return equipmentKey(equipmentFromFields(keyFields, fault));
    case 'vendors':
      return vendorKey(vendorFromFields(keyFields, fault));
    case 'error_codes':
      return errorCodeKey(errorCodeFromFields(keyFields, fault));
    case 'interventions':
      return keyFields.ticket;
  }
}

function rowOf(table: TableName, f: RowFields, fault: FieldFault): RowUpdate {
  switch (table) {
    case 'equipment': {
      const row = equipmentFromFields(f, fault);
      return { table, key: equipmentKey(row), row };
    }
    case 'vendors': {
      const row = vendorFromFields(f, fault);
      return { table, key: vendorKey(row), row };
    }
    case 'error_codes': {
      const row = errorCodeFromFields(f, fault);
      return { table, key: errorCodeKey(row), row };
    }
    case 'interventions': {
      const row = interventionFromFields(f, fault);
      return { table, key: interventionKey(row), row };
    }
  }
}
