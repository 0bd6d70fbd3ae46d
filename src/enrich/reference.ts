// One version of the reference data as the workers see it: a base snapshot and an optional overlay of live changes, consulted first.
//
// A record is enriched against exactly one Reference (one base, one overlay), so it never sees a half-applied update:
// the main thread publishes (base, overlay) pairs whole, and a worker swaps its Reference only between batches.
import { LuxError } from '../errors.js';
import { EQ_VENDOR, EQ_WORDS, NO_VENDOR, NULL_STRING, openSnapshot, type Snapshot } from './snapshot.js';

/** What the main thread hands each batch: the version number and its shared buffers (overlay null when none). */
export interface ReferenceVersion {
  readonly version: number;
  readonly base: SharedArrayBuffer;
  readonly overlay: SharedArrayBuffer | null;
}

/** A base snapshot with an optional overlay. Lookups mirror `RecordJsonWriter.write`; the JSON helpers allocate (tests, tools, alarms). */
export class Reference {
  readonly base: Snapshot;
  readonly overlay: Snapshot | null;
  /** The overlay's version when there is one (it is always newer than its base), else the base's. */
  readonly version: number;
  /** Upper bounds of the three reference objects in bytes, for output sizing. */
  readonly maxEquipmentJson: number;
  readonly maxCauseJson: number;
  readonly maxMaintenanceJson: number;

  constructor(base: Snapshot, overlay: Snapshot | null = null) {
    if (base.isOverlay) throw new LuxError('E_INTERNAL', 'a reference base must be a whole snapshot, not an overlay');
    if (overlay !== null && !overlay.isOverlay) throw new LuxError('E_INTERNAL', 'a reference overlay must be built as an overlay');
    this.base = base;
    this.overlay = overlay;
    this.version = overlay?.version ?? base.version;
    // the overlay's vendor table is complete and supersedes the base's names
    const vendorJson = overlay?.maxVendorJson ?? base.maxVendorJson;
    this.maxEquipmentJson = Math.max(base.maxEquipmentFieldsJson, overlay?.maxEquipmentFieldsJson ?? 0) + vendorJson;
    this.maxCauseJson = Math.max(base.maxCauseJson, overlay?.maxCauseJson ?? 0);
    this.maxMaintenanceJson = Math.max(base.maxMaintenanceJson, overlay?.maxMaintenanceJson ?? 0);
  }

  /** The `equipment` JSON value for an equipment_id (`null` when unknown or deleted). */
  equipmentJson(equipmentId: number): string {
    const [snap, row] = this.equipment(equipmentId);
    if (snap === null) return 'null';
    const names = this.overlay ?? this.base;
    const vendor = snap.u32[snap.eqBase + row * EQ_WORDS + EQ_VENDOR];
    const whole = JSON.parse(snap.equipmentJson(row)) as Record<string, unknown>;
    whole.vendor = JSON.parse(names.stringJson(vendor === NO_VENDOR ? NULL_STRING : names.vendorNameId(vendor)));
    return JSON.stringify(whole);
  }

  /** The `cause` JSON value for (equipment_id, cause_code) (`null` when none). */
  causeJson(equipmentId: number, causeCode: number): string {
    const [snap, row] = this.equipment(equipmentId);
    if (snap === null || causeCode === 0) return 'null';
    const vendor = snap.equipmentVendor(row);
    if (vendor === NO_VENDOR) return 'null';
    const ov = this.overlay;
    if (ov !== null) {
      const r = ov.errorCodeRow(vendor, causeCode);
      if (r >= 0) return ov.errorCodeDeleted(r) ? 'null' : ov.causeJson(r);
    }
    return this.base.causeJson(this.base.errorCodeRow(vendor, causeCode));
  }

  /** The `maintenance` JSON value for an equipment_id at a time (`null` when none). */
  maintenanceJson(equipmentId: number, timeMs: number): string {
    const ov = this.overlay;
    if (ov !== null) {
      const r = ov.interventionLookup(equipmentId, timeMs);
      if (r !== -2) return ov.maintenanceJson(r);
    }
    return this.base.maintenanceJson(this.base.interventionAt(equipmentId, timeMs));
  }

  /** Where an equipment_id's row lives: [snapshot, row], or [null, -1] when unknown or deleted. */
  private equipment(equipmentId: number): [Snapshot | null, number] {
    const ov = this.overlay;
    if (ov !== null) {
      const r = ov.equipmentRow(equipmentId);
      if (r >= 0) return ov.equipmentDeleted(r) ? [null, -1] : [ov, r];
    }
    const r = this.base.equipmentRow(equipmentId);
    return r >= 0 ? [this.base, r] : [null, -1];
  }
}

// A worker keeps the base it opened last: an overlay-only change reopens nothing but the (small) overlay. A buffer
// posted again arrives as a new SharedArrayBuffer object over the same memory, so the base is recognised by its
// version (unique per process) and size, not by identity.
let lastBase: Snapshot | null = null;
const VERSION_WORD = 2;

/**
 * Opens a published version in a worker: what `RecordJsonWriter.use` takes. Cheap: views over the shared buffers, no
 * copy; the base's views are reused while the base is unchanged.
 */
export function openReference(base: SharedArrayBuffer, overlay: SharedArrayBuffer | null): Reference {
  if (lastBase === null || lastBase.buffer.byteLength !== base.byteLength || lastBase.version !== new Uint32Array(base, 0, 4)[VERSION_WORD]) {
    lastBase = openSnapshot(base);
  }
  return new Reference(lastBase, overlay === null ? null : openSnapshot(overlay));
}
