// The newest snapshot of a workspace without reading every record (#16): what a record's id stands for and
// never changes (its time and its workspace: a label or pin rewrites a record, never these) is kept in a
// sealed, disposable cache, so a run reads the listing of snapshots/, that cache, the records it has not
// seen, and the one record it answers with. A CLI run's cost no longer grows with the number of snapshots.
// Invariant: the answer equals listSnapshots()' newest of those workspaces; the record returned is read
// fresh from the store, and a stamp it contradicts (a record edited in place) makes it ask listSnapshots.

import { isBackupError } from '../errors';
import type { BackupError } from '../errors';
import type { SnapshotRecord } from './snapshotRecord';

const CACHE_NAME = 'snapshot-stamps';
const LOAD_AT_ONCE = 8;
const REWRITE_AFTER = 16;

export interface Stamp {
  time: string;
  workspace: string;
}

/** What the search needs of the store: the Repository gives these. */
export interface StampSource {
  listIds(): Promise<string[]>;
  /** A record read from the store (SNAPSHOT_NOT_FOUND, OBJECT_DAMAGED as loadSnapshot throws them). */
  load(id: string): Promise<SnapshotRecord>;
  /** Stamps known in memory already (the records a long-lived process has read). */
  known(id: string): Stamp | undefined;
  loadCache(name: string): Promise<Buffer | undefined>;
  saveCache(name: string, data: Buffer): Promise<void>;
  /** The slow, sure answer: every record. */
  listAll(onDamaged: (key: string, error: BackupError) => void): Promise<SnapshotRecord[]>;
  /** Where a long-lived process keeps the stamps between calls, so a save does not read the cache again. */
  memo: { stamps?: Map<string, Stamp> };
}

function decodeStamps(data: Buffer | undefined): Map<string, Stamp> {
  const stamps = new Map<string, Stamp>();
  if (!data) return stamps;
  try {
    const rows: unknown = JSON.parse(data.toString('utf8'));
    if (!Array.isArray(rows)) return stamps;
    for (const row of rows) {
      if (Array.isArray(row) && row.length === 3 && row.every((v) => typeof v === 'string'))
        stamps.set(row[0], { time: row[1], workspace: row[2] });
    }
  } catch {
    // a damaged cache is no cache
  }
  return stamps;
}

function encodeStamps(stamps: ReadonlyMap<string, Stamp>): Buffer {
  return Buffer.from(JSON.stringify([...stamps].map(([id, s]) => [id, s.time, s.workspace])), 'utf8');
}

function newer(a: { id: string; time: string }, b: { id: string; time: string }): boolean {
  return a.time > b.time || (a.time === b.time && a.id > b.id);
}

/** The newest readable snapshot of any of `workspaces`, or undefined when they have none. */
export async function newestSnapshot(
  source: StampSource,
  workspaces: ReadonlySet<string>,
): Promise<SnapshotRecord | undefined> {
  const ids = await source.listIds();
  const cached = source.memo.stamps ?? decodeStamps(await source.loadCache(CACHE_NAME));
  const stamps = new Map<string, Stamp>();
  let loadedNow = 0;
  const unknown: string[] = [];
  for (const id of ids) {
    const stamp = cached.get(id) ?? source.known(id);
    if (stamp) stamps.set(id, stamp);
    else unknown.push(id);
  }
  for (let i = 0; i < unknown.length; i += LOAD_AT_ONCE) {
    const loaded = await Promise.all(
      unknown.slice(i, i + LOAD_AT_ONCE).map((id) => source.load(id).catch((error: unknown) => error)),
    );
    for (const record of loaded) {
      if (isBackupError(record, 'SNAPSHOT_NOT_FOUND') || isBackupError(record, 'OBJECT_DAMAGED')) continue; // passed over, as listSnapshots does
      // Anything else (a record this user may not read, an I/O error) fails the run, as listSnapshots would:
      // passing it over could make an older snapshot the parent.
      if (record instanceof Error || !record || typeof record !== 'object') throw record;
      const r = record as SnapshotRecord;
      stamps.set(r.id, { time: r.time, workspace: r.workspace.id });
      loadedNow++;
    }
  }
  // A few records the cache lacks (the last runs' own) are cheaper to read than the cache is to rewrite.
  if (loadedNow >= REWRITE_AFTER) await source.saveCache(CACHE_NAME, encodeStamps(stamps)).catch(() => undefined);
  source.memo.stamps = stamps;

  const candidates = [...stamps]
    .filter(([, s]) => workspaces.has(s.workspace))
    .map(([id, s]) => ({ id, time: s.time }));
  candidates.sort((a, b) => (newer(a, b) ? -1 : newer(b, a) ? 1 : 0));
  for (const candidate of candidates) {
    let record: SnapshotRecord;
    try {
      record = await source.load(candidate.id);
    } catch (error) {
      if (isBackupError(error, 'SNAPSHOT_NOT_FOUND') || isBackupError(error, 'OBJECT_DAMAGED')) continue;
      throw error;
    }
    if (record.time !== candidate.time || !workspaces.has(record.workspace.id)) break; // a stamp out of date: ask every record
    return record;
  }
  if (candidates.length === 0) return undefined;
  const all = await source.listAll(() => undefined);
  for (let i = all.length - 1; i >= 0; i--) if (workspaces.has(all[i].workspace.id)) return all[i];
  return undefined;
}
