// The damage a verify finds: one record per damaged or missing object (the first reason found stands, so
// each is reported once), and for each blob or tree id that cannot be read, the record that explains it (its
// own, or its pack's). Memory grows with the damage found, not with the store.

export interface Damage {
  /** blob id, or a store key such as data/ab/<pack>, index/<id>, snapshots/<id> */
  object: string;
  kind: 'missing' | 'damaged';
  reason: string;
  /** ids of snapshots that depend on it */
  snapshots: string[];
  /** "<snapshot id 8>:<path>" of files (or folders) that depend on it */
  files: string[];
}

/** A Damage while it is being found: the snapshots and paths that need it are added as they turn up. */
export interface DamageRecord {
  object: string;
  kind: Damage['kind'];
  reason: string;
  snapshots: Set<string>;
  files: Set<string>;
}

export class DamageLedger {
  private readonly records = new Map<string, DamageRecord>();
  private readonly unreadable = new Map<string, DamageRecord>();

  /** The one record of `object`, made on first report. */
  record(object: string, kind: Damage['kind'], reason: string): DamageRecord {
    let record = this.records.get(object);
    if (!record) this.records.set(object, (record = { object, kind, reason, snapshots: new Set(), files: new Set() }));
    return record;
  }

  /** Whether `object` has a record already. */
  has(object: string): boolean {
    return this.records.has(object);
  }

  /** Notes that blob or tree `id` cannot be read, explained by `damage`; the first explanation stands. */
  markUnreadable(id: string, damage: DamageRecord): void {
    if (!this.unreadable.has(id)) this.unreadable.set(id, damage);
  }

  isUnreadable(id: string): boolean {
    return this.unreadable.has(id);
  }

  /** The damage that makes `id` unreadable; undefined when it reads. */
  explain(id: string): DamageRecord | undefined {
    return this.unreadable.get(id);
  }

  get anyUnreadable(): boolean {
    return this.unreadable.size > 0;
  }

  /** The records as reported, each one's snapshots in `order` (snapshot id to its place in history). */
  list(order: ReadonlyMap<string, number>): Damage[] {
    return [...this.records.values()].map((d) => ({
      object: d.object,
      kind: d.kind,
      reason: d.reason,
      snapshots: [...d.snapshots].sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1)),
      files: [...d.files],
    }));
  }
}
