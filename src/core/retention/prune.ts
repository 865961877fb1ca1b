// Prune: removes what no snapshot needs (unused blobs, their packs and index entries, old temp files).
// Invariant: write new, then delete old. Live blobs are copied out and one index naming exactly them is durable
// before any old index or pack goes, so a crash at any instant leaves every snapshot restorable.

import { BackupError, isBackupError } from '../errors';
import { yieldEvery, yieldIfBusy } from '../eventLoop';
import { formatBytes, plural } from '../format';
import { PACK_SIZE } from '../repository/blobWriter';
import type { IndexedPack } from '../repository/indexFile';
import { ENTRY_SIZE, packKey } from '../repository/pack';
import type { PackEntry } from '../repository/pack';
import type { IndexLocation, Repository } from '../repository/repository';

export interface PruneOptions {
  /** Work out and report what would go; change nothing (takes no lock). */
  dryRun?: boolean;
  /** The time temp files are aged against (default: the repository's clock). */
  now?: Date;
  /** Temp files older than this go (default 1 h); younger ones may belong to a writer at work. */
  tempOlderThanMs?: number;
  /** Honoured until the new index is written; after that prune finishes, since deleting is quick. */
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** How long to wait for snapshots in flight to release their shared locks (default 10 min). */
  lockWaitMs?: number;
  /** Dry run only: count these snapshots as forgotten already (`forget --dry-run --prune`). */
  assumeForgotten?: readonly string[];
}

export interface PruneReport {
  dryRun: boolean;
  /** Packs removed because no snapshot needs anything in them (including packs no index names). */
  packsDeleted: number;
  /** Partly used packs whose live blobs were copied into new packs before they were removed. */
  packsRewritten: number;
  /** Indexed blobs no snapshot needs. */
  blobsRemoved: number;
  /** bytesBefore - bytesAfter. */
  bytesFreed: number;
  tempFilesRemoved: number;
  /** Bytes of packs, index files and temp files; `bytesAfter` is an estimate in a dry run. */
  bytesBefore: number;
  bytesAfter: number;
  /** Blobs some snapshot needs that no pack on disk holds (damage for verify to report; unindexed packs are then kept). */
  missingBlobs: number;
}

/**
 * What prune needs of the store (#13): its snapshots and trees (what is live), its index, a writer for the
 * copies, the exclusive lock, and its files below the index (`files`: packs, index files, temp files).
 */
export type PruneRepo = Pick<
  Repository,
  | 'files'
  | 'indexed'
  | 'listSnapshots'
  | 'loadBlobAt'
  | 'loadTree'
  | 'locate'
  | 'lock'
  | 'newWriter'
  | 'now'
  | 'refreshIndex'
  | 'reloadIndex'
>;

const HOUR = 3_600_000;
const LOCK_WAIT_MS = 10 * 60_000;
/** A pack is rewritten when more than this share of it is unused... */
const REPACK_SHARE = 0.1;
/** ...or when it is this small (on-save snapshots write many small packs) and anything in it is unused. */
const SMALL_PACK = PACK_SIZE / 16;
const TRAILER_TAIL = 8;

// ---- reachability -----------------------------------------------------------------------------------------

export interface MarkOptions {
  signal?: AbortSignal;
  /** Called once for every newly marked blob id (trees and data). */
  onMark?: (id: string) => void;
  /** A tree that cannot be read (missing or damaged); without this handler the error is thrown. */
  onUnreadable?: (treeId: string, error: BackupError) => void;
}

/**
 * Adds to `marked` every blob reachable from the trees `roots`: the trees themselves, their subtrees and
 * file contents. Each tree is read once, however many snapshots share it; trees already in `marked` are
 * taken as walked. Throws CANCELLED when `signal` aborts.
 */
export async function markReachable(
  repo: Pick<Repository, 'loadTree'>,
  roots: Iterable<string>,
  marked: Set<string>,
  options: MarkOptions = {},
): Promise<void> {
  const mark = (id: string): boolean => {
    if (marked.has(id)) return false;
    marked.add(id);
    options.onMark?.(id);
    return true;
  };
  const stack: string[] = [];
  for (const root of roots) if (mark(root)) stack.push(root);
  let walked = 0;
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (++walked % 256 === 0 && options.signal?.aborted)
      throw new BackupError('CANCELLED', 'Cancelled before anything was removed.');
    let tree;
    try {
      tree = await repo.loadTree(id);
    } catch (error) {
      if (
        !options.onUnreadable ||
        !isBackupError(error) ||
        (error.code !== 'OBJECT_MISSING' && error.code !== 'OBJECT_DAMAGED')
      )
        throw error;
      options.onUnreadable(id, error);
      continue;
    }
    const turn = yieldIfBusy();
    if (turn) await turn;
    for (const entry of tree.entries) {
      if (entry.type === 'file') for (const blob of entry.content) mark(blob);
      else if (entry.type === 'dir' && mark(entry.tree)) stack.push(entry.tree);
    }
  }
}

/**
 * What keeping a blob costs in its pack: a unit of its own costs its stored length, a blob in a bundle its
 * share of the bundle by plaintext size. Built from the repository's in-memory index.
 */
export function blobCosts(repo: Pick<Repository, 'indexed' | 'locate'>): (id: string) => number {
  const unitRaw = new Map<string, number>();
  for (const at of repo.indexed()) {
    if (at.inner === undefined) continue;
    const key = `${at.packId}:${at.offset}`;
    unitRaw.set(key, (unitRaw.get(key) ?? 0) + at.rawLength);
  }
  return (id) => {
    const at = repo.locate(id);
    if (!at) return 0;
    if (at.inner === undefined) return at.length;
    const total = unitRaw.get(`${at.packId}:${at.offset}`) ?? at.rawLength;
    return total > 0 ? (at.length * at.rawLength) / total : 0;
  };
}

/** Sizes of the given keys (absent ones left out), a few stats at a time. */
export function keySizes(repo: Pick<Repository, 'files'>, keys: readonly string[]): Promise<Map<string, number>> {
  return repo.files.sizes(keys);
}

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BackupError('CANCELLED', 'Prune was cancelled before it removed anything.');
}

/** How many of `values` pass `test` (no array of 200,000 ids made to count them). */
async function countWhere<T>(values: Iterable<T>, test: (value: T) => boolean): Promise<number> {
  let count = 0;
  let seen = 0;
  for (const value of values) {
    if (test(value)) count++;
    if ((++seen & 1023) === 0) {
      const turn = yieldIfBusy();
      if (turn) await turn;
    }
  }
  return count;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

// ---- the store as prune sees it ------------------------------------------------------------------------------

interface IndexState {
  keys: string[];
  /** pack id -> blob id -> entry (a blob listed twice for one pack is one entry). */
  packs: Map<string, Map<string, PackEntry>>;
}

/** Every entry of every index file, duplicates included (the in-memory index keeps one location per blob). */
async function readIndexFiles(repo: PruneRepo): Promise<IndexState> {
  for (let attempt = 0; ; attempt++) {
    const keys = await repo.files.keys('index');
    const packs = new Map<string, Map<string, PackEntry>>();
    let vanished = false;
    for (const key of keys) {
      let decoded: IndexedPack[];
      try {
        // One that cannot be read: the packs it names would look unused, and deleting them could destroy snapshots.
        decoded = await repo.files.readIndex(
          key,
          (error) =>
            new BackupError('REPO_CORRUPT', `Prune stopped before changing anything: ${error.message} Run verify.`, {
              key,
            }),
        );
      } catch (error) {
        // Only a dry run (no lock) can see a snapshot compact the index meanwhile: list again.
        if (isBackupError(error, 'OBJECT_MISSING') && attempt < 4) {
          vanished = true;
          break;
        }
        throw error;
      }
      for (const pack of decoded) {
        const turn = yieldIfBusy();
        if (turn) await turn;
        let entries = packs.get(pack.packId);
        if (!entries) packs.set(pack.packId, (entries = new Map()));
        let n = 0;
        for (const entry of pack.entries) {
          if (!entries.has(entry.id)) entries.set(entry.id, entry);
          const inner = yieldEvery(++n);
          if (inner) await inner;
        }
      }
    }
    if (!vanished) return { keys, packs };
  }
}

function packIdOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** Bytes of the pack's live blobs: whole units for blobs of their own, a share of a bundle by plaintext size. */
async function liveBytes(entries: Iterable<PackEntry>, live: ReadonlySet<string>): Promise<number> {
  const units = new Map<number, { length: number; raw: number; liveRaw: number; bundled: boolean }>();
  let n = 0;
  for (const e of entries) {
    const turn = yieldEvery(++n);
    if (turn) await turn;
    let unit = units.get(e.offset);
    if (!unit) units.set(e.offset, (unit = { length: e.length, raw: 0, liveRaw: 0, bundled: e.inner !== undefined }));
    unit.raw += e.rawLength;
    if (live.has(e.id)) unit.liveRaw += e.rawLength;
  }
  let used = 0;
  for (const unit of units.values()) {
    if (unit.liveRaw === 0) continue;
    used += unit.bundled && unit.raw > 0 ? (unit.length * unit.liveRaw) / unit.raw : unit.length;
  }
  return used;
}

/** Bytes of a pack's trailer (header and tail), or undefined when the pack does not end like a pack. */
async function trailerBytes(repo: PruneRepo, packId: string, size: number): Promise<number | undefined> {
  if (size < TRAILER_TAIL) return undefined;
  try {
    const tail = await repo.files.packTail(packId, size, TRAILER_TAIL);
    if (tail.toString('ascii', 4, 8) !== 'PBP1') return undefined;
    const header = tail.readUInt32LE(0);
    return header + TRAILER_TAIL <= size ? header + TRAILER_TAIL : undefined;
  } catch (error) {
    if (isBackupError(error)) return undefined;
    throw error;
  }
}

interface TempFile {
  file: string;
  size: number;
  old: boolean;
}

async function tempFiles(repo: PruneRepo, now: number, olderThanMs: number): Promise<TempFile[]> {
  return (await repo.files.temps()).map((t) => ({ file: t.file, size: t.size, old: now - t.mtimeMs > olderThanMs }));
}

// ---- prune ---------------------------------------------------------------------------------------------------

type Fate = 'keep' | 'rewrite' | 'delete';

/**
 * Removes every blob no snapshot needs, under the exclusive lock (it waits for snapshots in flight); see the
 * module comment for the order that keeps it crash-safe. Reloads the repository's index when done.
 * Throws REPO_LOCKED when snapshots keep the store busy beyond `lockWaitMs`, REPO_CORRUPT (before changing
 * anything) when a snapshot record, tree or index file cannot be read, CANCELLED when `signal` aborts first.
 */
export async function prune(repo: PruneRepo, options: PruneOptions = {}): Promise<PruneReport> {
  const dryRun = options.dryRun === true;
  if (options.assumeForgotten?.length && !dryRun) {
    throw new BackupError('USAGE', 'Prune can assume snapshots forgotten only in a dry run.');
  }
  checkCancelled(options.signal);
  const lock = dryRun ? undefined : await repo.lock(true, 'prune', options.lockWaitMs ?? LOCK_WAIT_MS);
  try {
    // Markers of interrupted writers (storage/lock.ts): prune removes every pack no index names, so what
    // they point at is gone once it finishes; those seen under our lock can go then.
    const markers = lock ? await repo.files.interruptedMarkers() : [];
    const report = await pruneLocked(repo, options, dryRun);
    for (const key of markers) await repo.files.remove(key);
    return report;
  } finally {
    await lock?.release();
  }
}

async function pruneLocked(repo: PruneRepo, options: PruneOptions, dryRun: boolean): Promise<PruneReport> {
  const progress = options.onProgress ?? (() => undefined);
  const signal = options.signal;
  await repo.refreshIndex();

  // 1. What is live: every blob reachable from every snapshot.
  const damaged: string[] = [];
  const snapshots = await repo.listSnapshots({ reload: true, onDamaged: (key) => damaged.push(key) });
  if (damaged.length > 0) {
    throw new BackupError(
      'REPO_CORRUPT',
      `Prune stopped before changing anything: ${plural(damaged.length, 'snapshot record')} (${damaged[0]}${damaged.length > 1 ? ', …' : ''}) cannot be read, so what they need is unknown. Run verify.`,
      { keys: damaged },
    );
  }
  const forgotten = new Set(options.assumeForgotten ?? []);
  const roots = snapshots.filter((s) => !forgotten.has(s.id)).map((s) => s.tree);
  progress(`marking what ${plural(roots.length, 'snapshot')} use`);
  const live = new Set<string>();
  const unreadable = new Map<string, BackupError>();
  await markReachable(repo, roots, live, { signal, onUnreadable: (id, error) => unreadable.set(id, error) });
  if (unreadable.size > 0) {
    const [id, error] = unreadable.entries().next().value as [string, BackupError];
    throw new BackupError(
      'REPO_CORRUPT',
      `Prune stopped before changing anything: ${plural(unreadable.size, 'folder listing')} cannot be read (tree ${id.slice(0, 12)}: ${error.message}), so what it needs is unknown. Run verify.`,
      { trees: [...unreadable.keys()] },
    );
  }
  checkCancelled(signal);

  // 2. Where everything is: every index file, every pack on disk, their sizes, temp files.
  const index = await readIndexFiles(repo);
  const packKeys = await repo.files.keys('data');
  const onDisk = new Map(packKeys.map((key) => [packIdOf(key), key]));
  const sizes = await keySizes(repo, [...packKeys, ...index.keys]);
  const packSize = (packId: string) => sizes.get(packKey(packId)) ?? 0;
  const temps = await tempFiles(repo, (options.now ?? repo.now()).getTime(), options.tempOlderThanMs ?? HOUR);
  const bytesBefore = sum(sizes.values()) + sum(temps.map((t) => t.size));

  // 3. The fate of each pack.
  const fate = new Map<string, Fate>();
  const indexedIds = new Set<string>();
  for (const [packId, entries] of index.packs) {
    const turn = yieldIfBusy();
    if (turn) await turn;
    let anyLive = false;
    let n = 0;
    for (const id of entries.keys()) {
      indexedIds.add(id);
      if (!anyLive && live.has(id)) anyLive = true;
      const inner = yieldEvery(++n);
      if (inner) await inner;
    }
    if (!onDisk.has(packId)) continue;
    if (!anyLive) {
      fate.set(packId, 'delete');
      continue;
    }
    const size = packSize(packId);
    const trailer = await trailerBytes(repo, packId, size);
    if (trailer === undefined) {
      fate.set(packId, 'keep'); // not shaped like a pack: leave it for verify, take nothing from it
      continue;
    }
    const unused = Math.max(0, size - trailer - (await liveBytes(entries.values(), live)));
    fate.set(packId, unused > REPACK_SHARE * size || (size < SMALL_PACK && unused > 0) ? 'rewrite' : 'keep');
  }

  // 4. One copy of each live blob: in a kept pack when one holds it, else copied out of a rewritten one.
  const kept = new Map<string, PackEntry[]>();
  const toCopy: IndexLocation[] = [];
  const unheld: Array<{ packId: string; entry: PackEntry }> = [];
  const placed = new Set<string>();
  for (const [packId, entries] of index.packs) {
    if (fate.get(packId) !== 'keep') continue;
    const turn = yieldIfBusy();
    if (turn) await turn;
    let n = 0;
    for (const entry of entries.values()) {
      const inner = yieldEvery(++n);
      if (inner) await inner;
      if (!live.has(entry.id) || placed.has(entry.id)) continue;
      placed.add(entry.id);
      let list = kept.get(packId);
      if (!list) kept.set(packId, (list = []));
      list.push(entry);
    }
  }
  for (const [packId, entries] of index.packs) {
    if (fate.get(packId) !== 'rewrite') continue;
    const turn = yieldIfBusy();
    if (turn) await turn;
    let n = 0;
    for (const entry of entries.values()) {
      const inner = yieldEvery(++n);
      if (inner) await inner;
      if (!live.has(entry.id) || placed.has(entry.id)) continue;
      placed.add(entry.id);
      toCopy.push({ ...entry, packId });
    }
  }
  for (const [packId, entries] of index.packs) {
    if (onDisk.has(packId)) continue;
    // The index names a pack that is gone: keep naming its live blobs (no worse than before), drop the rest.
    for (const entry of entries.values()) {
      if (!live.has(entry.id) || placed.has(entry.id)) continue;
      placed.add(entry.id);
      unheld.push({ packId, entry });
    }
  }
  const missingBlobs = (await countWhere(live, (id) => !placed.has(id))) + unheld.length;
  // A kept pack whose every live blob has a copy elsewhere holds nothing we index: it goes too.
  for (const [packId, f] of fate) if (f === 'keep' && !kept.has(packId)) fate.set(packId, 'delete');
  // Packs no index names are left by crashed snapshots, unless a live blob is missing: then one may hold it.
  const orphans = missingBlobs > 0 ? [] : [...onDisk.keys()].filter((packId) => !index.packs.has(packId));
  if (missingBlobs > 0)
    progress(
      `${plural(missingBlobs, 'needed blob')} missing from the store; packs no index names are kept (run verify)`,
    );
  const deleted = [...fate].filter(([, f]) => f === 'delete').map(([packId]) => packId);
  const rewritten = [...fate].filter(([, f]) => f === 'rewrite').map(([packId]) => packId);
  const blobsRemoved = await countWhere(indexedIds, (id) => !live.has(id));
  const oldTemps = temps.filter((t) => t.old);

  // In the order the index files had them, so a prune with nothing to do writes the same index again.
  const keptPacks = (): IndexedPack[] => [...kept].map(([packId, entries]) => ({ packId, entries }));
  const unheldPacks = (): IndexedPack[] => {
    const byPack = new Map<string, PackEntry[]>();
    for (const { packId, entry } of unheld) {
      let list = byPack.get(packId);
      if (!list) byPack.set(packId, (list = []));
      list.push(entry);
    }
    return [...byPack].map(([packId, entries]) => ({ packId, entries }));
  };
  const removedPackBytes = sum([...deleted, ...rewritten, ...orphans].map(packSize));
  const report = (bytesAfter: number, tempFilesRemoved: number, orphansRemoved = orphans.length): PruneReport => ({
    dryRun,
    packsDeleted: deleted.length + orphansRemoved,
    packsRewritten: rewritten.length,
    blobsRemoved,
    bytesFreed: bytesBefore - bytesAfter,
    tempFilesRemoved,
    bytesBefore,
    bytesAfter,
    missingBlobs,
  });
  progress(
    `${plural(deleted.length + orphans.length, 'pack')} to delete, ${plural(rewritten.length, 'pack')} to rewrite (${plural(toCopy.length, 'blob')} to copy), ${plural(blobsRemoved, 'unused blob')}`,
  );

  if (dryRun) {
    let copied = 0;
    for (const packId of rewritten) copied += await liveBytes(index.packs.get(packId)?.values() ?? [], live);
    const newPackBytes = toCopy.length ? copied + toCopy.length * ENTRY_SIZE + TRAILER_TAIL : 0;
    const placeholder = toCopy.length ? [{ packId: '0'.repeat(64), entries: toCopy }] : [];
    const newIndexBytes = await repo.files.indexBytes([...keptPacks(), ...placeholder, ...unheldPacks()]);
    const oldIndexBytes = sum(index.keys.map((key) => sizes.get(key) ?? 0));
    const after =
      bytesBefore - removedPackBytes + newPackBytes - oldIndexBytes + newIndexBytes - sum(oldTemps.map((t) => t.size));
    return report(Math.max(0, Math.round(after)), oldTemps.length);
  }

  // 5. Write new: copy live blobs out of the packs being rewritten (grouped, so a bundle is read once).
  const newPacks: IndexedPack[] = [];
  let writerIndex: string | undefined;
  if (toCopy.length > 0) {
    progress(`copying ${plural(toCopy.length, 'still-used blob')} out of ${plural(rewritten.length, 'pack')}`);
    toCopy.sort((a, b) => (a.packId < b.packId ? -1 : a.packId > b.packId ? 1 : a.offset - b.offset));
    const writer = repo.newWriter({ keepPacks: true });
    let copied = 0;
    for (const at of toCopy) {
      if (++copied % 64 === 0) checkCancelled(signal);
      let plain: Buffer;
      try {
        plain = await repo.loadBlobAt(at);
      } catch (error) {
        if (!isBackupError(error) || (error.code !== 'OBJECT_DAMAGED' && error.code !== 'OBJECT_MISSING')) throw error;
        throw new BackupError(
          'REPO_CORRUPT',
          `Prune stopped before removing anything: a still-needed object cannot be read (${error.message}). Run verify.`,
          { id: at.id, pack: at.packId },
        );
      }
      await writer.add(at.type, plain, { rewrite: true });
    }
    await writer.finish();
    newPacks.push(...writer.packs);
    writerIndex = writer.indexKey;
  }
  checkCancelled(signal);

  // 6. One index naming exactly the live blobs, durable before anything old goes.
  const survivors = [...keptPacks(), ...newPacks, ...unheldPacks()];
  const indexKey = await repo.files.saveIndex(survivors, index.keys);

  // 7. Delete old: index files first (nothing may name a pack that is gone), then packs, then temp files.
  const oldIndexes = [...index.keys, ...(writerIndex ? [writerIndex] : [])].filter((key) => key !== indexKey);
  for (const key of oldIndexes) await repo.files.remove(key);
  // A copy can come out byte-identical to a pack an interrupted prune wrote but never indexed (an "orphan"
  // above): packs are named by content, so it is the same file. Never delete what the new index names.
  const named = new Set(survivors.map((p) => p.packId));
  const doomed = [...deleted, ...rewritten, ...orphans].filter((packId) => !named.has(packId));
  progress(`removing ${plural(doomed.length, 'pack')} (${formatBytes(removedPackBytes)})`);
  for (const packId of doomed) await repo.files.remove(packKey(packId));
  let tempFilesRemoved = 0;
  // One renamed into place or removed by someone else meanwhile: nothing to do.
  for (const temp of oldTemps) if (await repo.files.removeTemp(temp.file)) tempFilesRemoved++;
  await repo.reloadIndex();

  const afterKeys = [...(await repo.files.keys('data')), ...(await repo.files.keys('index'))];
  const remainingTemps = await tempFiles(repo, 0, Number.POSITIVE_INFINITY);
  const bytesAfter = sum((await keySizes(repo, afterKeys)).values()) + sum(remainingTemps.map((t) => t.size));
  return report(bytesAfter, tempFilesRemoved, orphans.filter((packId) => !named.has(packId)).length);
}
