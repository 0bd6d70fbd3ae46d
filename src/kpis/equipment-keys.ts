// A worker's cache equipment_id → (region, vendor name) as small interned ids, for the region and vendor dimensions; dropped when the reference version changes.
//
// The reference snapshot keeps names as pre-escaped JSON literals, per snapshot string id; a KPI key needs the text
// (its shard hash, its chunk's string table). Each equipment is resolved once per reference version, exactly as the
// record serializer resolves it (overlay first, a tombstone hides the base, the vendor's name from the overlay's
// complete vendor table), and each distinct literal is parsed once: the per-record path is one open-addressing probe.
// Interned ids are the worker's own and never leave it (chunks carry their strings).
import { EQ_DELETED, EQ_FLAGS, EQ_REGION, EQ_VENDOR, EQ_WORDS, NO_VENDOR, NULL_STRING, type Snapshot } from '../enrich/snapshot.js';
import type { Reference } from '../enrich/reference.js';
import { DIM_REGION, DIM_VENDOR } from './names.js';
import { hashOfText } from './shard.js';

/** No value for the dimension: unknown equipment, a null or empty region or vendor name. */
export const NO_KEY = -1;

export const EQUIPMENT_KEYS_DEFAULTS = {
  initialEquipment: 4096,
  /** interned strings beyond which a version change starts the string table afresh (names that come and go) */
  maxStrings: 65536,
} as const;

function hashId(id: number, shift: number): number {
  return Math.imul(id, 0x9e3779b1) >>> shift;
}

export class EquipmentKeys {
  private reference: Reference | null = null;
  private version = -1;
  // ── the cache: open addressing on equipment_id (linear probing; filled[s] = 1 for a slot in use)
  private capacity = 0;
  private shift = 32;
  private count = 0;
  private ids = new Uint32Array(0);
  private filled = new Uint8Array(0);
  private region = new Int32Array(0);
  private vendor = new Int32Array(0);
  /** per snapshot (0 base, 1 overlay) and string id: the interned id, NO_KEY for null/empty; per version */
  private literals: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
  // ── interned strings (ids index these)
  private readonly byText = new Map<string, number>();
  readonly strings: string[] = [];
  /** hash of `region:<s>` and `vendor:<s>` per interned id (shard.ts) */
  regionHash = new Uint32Array(64);
  vendorHash = new Uint32Array(64);
  /** result of the last `lookup` */
  regionId = NO_KEY;
  vendorId = NO_KEY;

  constructor(initialEquipment: number = EQUIPMENT_KEYS_DEFAULTS.initialEquipment) {
    this.allocate(Math.max(16, initialEquipment));
  }

  /** The reference records are enriched against; a new version empties the cache. */
  use(reference: Reference): void {
    this.reference = reference;
    if (reference.version === this.version) return;
    this.version = reference.version;
    this.filled.fill(0);
    this.count = 0;
    this.literals[0].clear();
    this.literals[1].clear();
    if (this.strings.length > EQUIPMENT_KEYS_DEFAULTS.maxStrings) {
      this.byText.clear();
      this.strings.length = 0;
    }
  }

  /** Resolves an equipment: sets `regionId` and `vendorId` (NO_KEY when the equipment has no value). */
  lookup(equipmentId: number): void {
    let s = hashId(equipmentId, this.shift);
    const mask = this.capacity - 1;
    for (;;) {
      if (this.filled[s] === 0) break;
      if (this.ids[s] === equipmentId) {
        this.regionId = this.region[s];
        this.vendorId = this.vendor[s];
        return;
      }
      s = (s + 1) & mask;
    }
    this.resolve(equipmentId);
    if ((this.count + 1) * 2 > this.capacity) {
      this.grow();
      s = hashId(equipmentId, this.shift);
      while (this.filled[s] !== 0) s = (s + 1) & (this.capacity - 1);
    }
    this.filled[s] = 1;
    this.ids[s] = equipmentId;
    this.region[s] = this.regionId;
    this.vendor[s] = this.vendorId;
    this.count++;
  }

  /** The text of an interned id. */
  text(id: number): string {
    return this.strings[id];
  }

  private resolve(equipmentId: number): void {
    const ref = this.reference;
    this.regionId = NO_KEY;
    this.vendorId = NO_KEY;
    if (ref === null) return;
    const base = ref.base;
    const ov = ref.overlay;
    let snap: Snapshot = base;
    let row = -1;
    if (ov !== null) {
      row = ov.equipmentRow(equipmentId);
      if (row >= 0) {
        snap = ov;
        if (ov.u32[ov.eqBase + row * EQ_WORDS + EQ_FLAGS] & EQ_DELETED) return;
      }
    }
    if (row === -1) row = base.equipmentRow(equipmentId);
    if (row < 0) return;
    const w = snap.eqBase + row * EQ_WORDS;
    this.regionId = this.intern(snap === base ? 0 : 1, snap, snap.u32[w + EQ_REGION]);
    const v = snap.u32[w + EQ_VENDOR];
    const names = ov ?? base;
    this.vendorId = v === NO_VENDOR ? NO_KEY : this.intern(names === base ? 0 : 1, names, names.vendorNameId(v));
  }

  /** Interned id of a snapshot's string literal; NO_KEY for null and "". */
  private intern(which: 0 | 1, snap: Snapshot, stringId: number): number {
    if (stringId === NULL_STRING) return NO_KEY;
    const known = this.literals[which].get(stringId);
    if (known !== undefined) return known;
    const text = JSON.parse(snap.stringJson(stringId)) as string;
    let id: number = NO_KEY;
    if (text !== '') {
      const had = this.byText.get(text);
      if (had !== undefined) id = had;
      else {
        id = this.strings.length;
        this.strings.push(text);
        this.byText.set(text, id);
        if (id >= this.regionHash.length) {
          const r = new Uint32Array(this.regionHash.length * 2);
          r.set(this.regionHash);
          this.regionHash = r;
          const v = new Uint32Array(this.vendorHash.length * 2);
          v.set(this.vendorHash);
          this.vendorHash = v;
        }
        this.regionHash[id] = hashOfText(DIM_REGION, text);
        this.vendorHash[id] = hashOfText(DIM_VENDOR, text);
      }
    }
    this.literals[which].set(stringId, id);
    return id;
  }

  private allocate(capacity: number): void {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.capacity = cap;
    this.shift = 32 - Math.log2(cap);
    this.ids = new Uint32Array(cap);
    this.filled = new Uint8Array(cap);
    this.region = new Int32Array(cap);
    this.vendor = new Int32Array(cap);
  }

  private grow(): void {
    const { ids, filled, region, vendor } = this;
    const old = this.capacity;
    this.allocate(old * 2);
    const mask = this.capacity - 1;
    for (let i = 0; i < old; i++) {
      if (filled[i] === 0) continue;
      let s = hashId(ids[i], this.shift);
      while (this.filled[s] !== 0) s = (s + 1) & mask;
      this.filled[s] = 1;
      this.ids[s] = ids[i];
      this.region[s] = region[i];
      this.vendor[s] = vendor[i];
    }
  }
}
