// The live reference tables (CSV rows with the topic's updates above them) and the changes since the base in force, from which overlays are built.
//
// Layers: the CSV directory gives the rows; the topic's latest value per key is applied above them (an upsert replaces,
// a tombstone deletes), so a CSV reload keeps every topic update, and a restart (CSV load, then topic replay) gives
// the same tables. A row deleted by a tombstone comes back only if the topic produces it again.
// Order: within a table, a row's position is the order of its last change (CSV order first); only interventions'
// order is observable (equal starts on one equipment: the later row wins), and base and overlay agree on it.
import type { EquipmentRow, ErrorCodeRow, InterventionRow, RefTables, VendorRow } from './csv-tables.js';
import type { RowUpdate } from './refdata-update.js';
import { buildSnapshot, type Snapshot, type SnapshotOptions } from './snapshot.js';

/** Rows per table in the live state. */
export interface RowCounts {
  equipment: number;
  vendors: number;
  error_codes: number;
  interventions: number;
}

/** Rows changed since some point: what an overlay must hold. */
class Changes {
  readonly equipment = new Set<number>();
  readonly errorCodes = new Map<string, { vendorId: string; causeCode: number }>();
  /** equipment whose intervention list changed */
  readonly interventionEquipment = new Set<number>();
  vendors = false;
  /** Date.now() of the first change, 0 when none */
  since = 0;

  get size(): number {
    return this.equipment.size + this.errorCodes.size + this.interventionEquipment.size + (this.vendors ? 1 : 0);
  }

  touch(): void {
    if (this.since === 0) this.since = Date.now();
  }
}

const EMPTY: RefTables = { equipment: [], vendors: [], errorCodes: [], interventions: [] };

export class RefdataState {
  private csv: RefTables = EMPTY;
  /** latest topic update per `<table>:<key>`, in the order of their last arrival */
  private readonly topic = new Map<string, RowUpdate>();
  private readonly equipment = new Map<number, EquipmentRow>();
  private readonly vendors = new Map<string, VendorRow>();
  private readonly errorCodes = new Map<string, ErrorCodeRow>();
  private readonly interventions = new Map<string, InterventionRow>();
  private readonly ticketsOf = new Map<number, Set<string>>();
  /** vendor_id by vendor index, append-only: a base and its overlays agree on indexes (from the last base built) */
  private vendorOrder: readonly string[] = [];
  /** changes since the base in force */
  private changes = new Changes();
  /** changes since the running rebuild took its rows, or null */
  private sinceRebuild: Changes | null = null;
  /** bumped by each CSV load: a base from an older generation cannot take overlays of the new one */
  private generation = 0;
  private rebuildGeneration = -1;
  private baseGeneration = -1;

  /** Replaces the CSV layer; the topic's updates stay above it. A full rebuild is then needed. */
  setCsv(tables: RefTables): void {
    this.csv = tables;
    this.generation++;
    this.equipment.clear();
    this.vendors.clear();
    this.errorCodes.clear();
    this.interventions.clear();
    this.ticketsOf.clear();
    for (const r of tables.equipment) this.equipment.set(r.equipmentId, r);
    for (const r of tables.vendors) this.vendors.set(r.vendorId, r);
    for (const r of tables.errorCodes) this.errorCodes.set(`${r.vendorId}:${r.causeCode}`, r);
    for (const r of tables.interventions) this.putIntervention(r.ticket, r);
    for (const u of this.topic.values()) this.applyLive(u);
  }

  /** Applies one topic update above the CSV rows. */
  apply(u: RowUpdate): void {
    const k = `${u.table}:${u.key}`;
    this.topic.delete(k);
    this.topic.set(k, u);
    this.applyLive(u);
  }

  /** Whether the base in force cannot take an overlay (none built yet, or CSV reloaded since). */
  get needsRebuild(): boolean {
    return this.baseGeneration !== this.generation;
  }

  get rebuilding(): boolean {
    return this.sinceRebuild !== null;
  }

  /** Rows changed since the base in force (what an overlay would hold). */
  get changedRows(): number {
    return this.changes.size;
  }

  /** Date.now() of the oldest change not in the base, 0 when none. */
  get changedSince(): number {
    return this.changes.since;
  }

  counts(): RowCounts {
    return { equipment: this.equipment.size, vendors: this.vendors.size, error_codes: this.errorCodes.size, interventions: this.interventions.size };
  }

  /** All live rows as tables (a full build's input). */
  tables(): RefTables {
    return {
      equipment: [...this.equipment.values()],
      vendors: [...this.vendors.values()],
      errorCodes: [...this.errorCodes.values()],
      interventions: [...this.interventions.values()],
    };
  }

  /**
   * Starts a base rebuild: returns its input rows and build options; changes from now on are also tracked apart, to be
   * the overlay of the new base. Finish with `endRebuild`.
   */
  beginRebuild(): { tables: RefTables; options: SnapshotOptions } {
    this.sinceRebuild = new Changes();
    this.rebuildGeneration = this.generation;
    return { tables: this.tables(), options: { vendorOrder: this.vendorOrder } };
  }

  /** The rebuild's base is now in force: only changes made while it ran are left for its overlay. */
  endRebuild(base: Snapshot): void {
    if (this.sinceRebuild === null) throw new Error('endRebuild without beginRebuild');
    this.changes = this.sinceRebuild;
    this.sinceRebuild = null;
    this.vendorOrder = base.vendorIdList();
    this.baseGeneration = this.rebuildGeneration;
  }

  /** A whole base now (small tables, tests). */
  rebuildNow(version: number): Snapshot {
    const { tables, options } = this.beginRebuild();
    const base = buildSnapshot(tables, { ...options, version });
    this.endRebuild(base);
    return base;
  }

  /** The overlay of the changes since the base in force, or null when there are none. */
  overlay(version: number): Snapshot | null {
    const c = this.changes;
    if (c.size === 0) return null;
    const equipment: EquipmentRow[] = [];
    const deletedEquipment: number[] = [];
    for (const id of c.equipment) {
      const row = this.equipment.get(id);
      if (row === undefined) deletedEquipment.push(id);
      else equipment.push(row);
    }
    const errorCodes: ErrorCodeRow[] = [];
    const deletedErrorCodes: { vendorId: string; causeCode: number }[] = [];
    for (const [key, at] of c.errorCodes) {
      const row = this.errorCodes.get(key);
      if (row === undefined) deletedErrorCodes.push(at);
      else errorCodes.push(row);
    }
    const interventions: InterventionRow[] = [];
    for (const id of c.interventionEquipment) {
      for (const ticket of this.ticketsOf.get(id) ?? []) interventions.push(this.interventions.get(ticket) as InterventionRow);
    }
    return buildSnapshot(
      { equipment, vendors: [...this.vendors.values()], errorCodes, interventions },
      {
        version,
        vendorOrder: this.vendorOrder,
        overlay: { deletedEquipment, deletedErrorCodes, interventionEquipment: [...c.interventionEquipment] },
      },
    );
  }

  private applyLive(u: RowUpdate): void {
    switch (u.table) {
      case 'equipment': {
        const id = u.row?.equipmentId ?? Number(u.key);
        this.equipment.delete(id);
        if (u.row !== null) this.equipment.set(id, u.row);
        this.mark((c) => c.equipment.add(id));
        break;
      }
      case 'vendors':
        this.vendors.delete(u.key);
        if (u.row !== null) this.vendors.set(u.key, u.row);
        this.mark((c) => (c.vendors = true));
        break;
      case 'error_codes': {
        this.errorCodes.delete(u.key);
        if (u.row !== null) this.errorCodes.set(u.key, u.row);
        const cut = u.key.lastIndexOf(':');
        const at = { vendorId: u.key.slice(0, cut), causeCode: Number(u.key.slice(cut + 1)) };
        this.mark((c) => c.errorCodes.set(u.key, at));
        break;
      }
      case 'interventions': {
        const old = this.interventions.get(u.key);
        if (old !== undefined) {
          this.ticketsOf.get(old.equipmentId)?.delete(u.key);
          this.interventions.delete(u.key);
          this.mark((c) => c.interventionEquipment.add(old.equipmentId));
        }
        const row = u.row;
        if (row !== null) {
          this.putIntervention(u.key, row);
          this.mark((c) => c.interventionEquipment.add(row.equipmentId));
        }
        break;
      }
    }
  }

  private putIntervention(ticket: string, row: InterventionRow): void {
    const old = this.interventions.get(ticket);
    if (old !== undefined) this.ticketsOf.get(old.equipmentId)?.delete(ticket);
    this.interventions.delete(ticket);
    this.interventions.set(ticket, row);
    let set = this.ticketsOf.get(row.equipmentId);
    if (set === undefined) this.ticketsOf.set(row.equipmentId, (set = new Set()));
    set.add(ticket);
  }

  private mark(f: (c: Changes) => void): void {
    this.changes.touch();
    f(this.changes);
    if (this.sinceRebuild !== null) {
      this.sinceRebuild.touch();
      f(this.sinceRebuild);
    }
  }
}
