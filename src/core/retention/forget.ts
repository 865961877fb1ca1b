// Forget: removes the snapshot records a retention policy (and a size budget) let go; prune frees their data.
// Invariant: pinned and labelled snapshots (automatically labelled ones while their label keeps them, policy.ts)
// and the newest of each workspace are never removed, and a pin or label set elsewhere while we decide is
// honoured (each record is read again just before it is removed).

import { BackupError, isBackupError } from '../errors';
import { listArchives } from '../records/archiveRecord';
import type { MetaStore } from '../records/metaStore';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { Decision, RetentionPolicy } from './policy';
import { applyPolicy, labelKeeps } from './policy';
import { blobCosts, keySizes, markReachable } from './prune';

/** What forget needs of the store (#13): its records, the index and trees (the size budget), its lock, the archive records (what they build on is kept). */
export type ForgetRepo = Pick<
  Repository,
  | 'files'
  | 'indexed'
  | 'locate'
  | 'loadTree'
  | 'listSnapshots'
  | 'loadSnapshot'
  | 'removeSnapshot'
  | 'lock'
  | 'refreshIndex'
> &
  MetaStore;

export interface ForgetOptions {
  policy: RetentionPolicy;
  /** Only this workspace's snapshots are considered; others are untouched (but their data counts toward maxSize). */
  workspaceId?: string;
  /** Decide and report; remove nothing (takes no lock). */
  dryRun?: boolean;
  now: Date;
  /**
   * Bytes: when the store would still be over this after pruning what the policy removes, also remove the
   * oldest unpinned snapshots without a user's label (never the newest of a workspace) until the data only they hold
   * brings it under, or none is left to remove. Estimated with the index.
   */
  maxSize?: number;
  signal?: AbortSignal;
}

export interface ForgetReport {
  /** One per snapshot considered, oldest first; a snapshot removed for the size budget has keep false and no reasons. */
  decisions: Decision[];
  /** Removed (or, in a dry run, to be removed) because the policy keeps them for no reason. */
  removed: SnapshotRecord[];
  /** Removed (or to be removed) for the size budget, oldest first. */
  removedForSize: SnapshotRecord[];
  /** Bytes of packs, index files and snapshot records now. */
  storeBytes: number;
  /** With maxSize: the estimated size once prune has removed what the remaining snapshots do not need. */
  projectedBytes?: number;
}

function isProtected(decision: Decision): boolean {
  return (
    decision.reasons.includes('latest') ||
    decision.reasons.includes('pinned') ||
    decision.reasons.includes('labelled') ||
    decision.reasons.includes('archive-base')
  );
}

/**
 * Removes the snapshot records the policy (and the size budget) let go; takes a shared lock, so snapshots go
 * on meanwhile. Throws USAGE for a malformed policy or budget, REPO_LOCKED when prune holds the store.
 */
export async function forget(repo: ForgetRepo, options: ForgetOptions): Promise<ForgetReport> {
  if (options.maxSize !== undefined && !(Number.isFinite(options.maxSize) && options.maxSize >= 0)) {
    throw new BackupError(
      'USAGE',
      `The size budget must be a number of bytes of 0 or more (got ${String(options.maxSize)}).`,
    );
  }
  const lock = options.dryRun ? undefined : await repo.lock(false, 'forget');
  try {
    // Reload: pins and labels may have changed in another window since we last read the records.
    const all = await repo.listSnapshots({ reload: true, onDamaged: () => undefined });
    const inScope = options.workspaceId === undefined ? all : all.filter((s) => s.workspace.id === options.workspaceId);
    const decisions = applyPolicy(inScope, options.policy, options.now);
    // The snapshots the next differential and incremental archives are relative to must stay, or those
    // exports would have no base.
    const bases = new Set<string>();
    const archives = await listArchives(repo, options.workspaceId).catch(() => []);
    for (const workspace of new Set(archives.map((r) => r.workspace.id))) {
      const mine = archives.filter((r) => r.workspace.id === workspace);
      const lastFull = [...mine].reverse().find((r) => r.kind === 'full');
      if (lastFull) bases.add(lastFull.snapshot);
      if (mine.length) bases.add(mine[mine.length - 1].snapshot);
    }
    for (const d of decisions) {
      if (bases.has(d.snapshot.id)) {
        d.keep = true;
        d.reasons.push('archive-base');
      }
    }
    const removed = decisions.filter((d) => !d.keep).map((d) => d.snapshot);

    await repo.refreshIndex();
    const storeKeys = [
      ...(await repo.files.keys('data')),
      ...(await repo.files.keys('index')),
      ...(await repo.files.keys('snapshots')),
    ];
    const storeBytes = [...(await keySizes(repo, storeKeys)).values()].reduce((a, b) => a + b, 0);

    let removedForSize: SnapshotRecord[] = [];
    let projectedBytes: number | undefined;
    if (options.maxSize !== undefined) {
      const budget = await sizeBudget(repo, all, decisions, storeBytes, options.maxSize, options.signal);
      removedForSize = budget.remove;
      projectedBytes = budget.projectedBytes;
      const forSize = new Set(removedForSize);
      for (const d of decisions) {
        if (forSize.has(d.snapshot)) {
          d.keep = false;
          d.reasons = [];
        }
      }
    }

    if (!options.dryRun) {
      if (options.signal?.aborted)
        throw new BackupError('CANCELLED', 'Forget was cancelled before it removed anything.');
      const byId = new Map(decisions.map((d) => [d.snapshot.id, d]));
      for (const snapshot of [...removed, ...removedForSize]) {
        const fresh = await repo.loadSnapshot(snapshot.id).catch((error: unknown) => {
          if (isBackupError(error, 'SNAPSHOT_NOT_FOUND')) return undefined; // removed by someone else meanwhile
          throw error;
        });
        // (An automatic label past its time keeps nothing, here as in the policy.)
        const labelled = fresh !== undefined && labelKeeps(fresh, options.now, options.policy.keepAutoLabelled);
        if (fresh && (fresh.pinned || labelled)) {
          // Pinned or labelled since we listed: it stays after all.
          const decision = byId.get(snapshot.id) as Decision;
          decision.keep = true;
          decision.reasons = [
            ...(fresh.pinned ? ['pinned'] : []),
            ...(labelled ? [fresh.autoLabel ? 'auto-labelled' : 'labelled'] : []),
          ];
          continue;
        }
        if (fresh) await repo.removeSnapshot(snapshot.id);
      }
    }
    const stillGoing = new Set(decisions.filter((d) => !d.keep).map((d) => d.snapshot));
    return {
      decisions: [...decisions].sort((a, b) =>
        a.snapshot.time < b.snapshot.time
          ? -1
          : a.snapshot.time > b.snapshot.time
            ? 1
            : a.snapshot.id < b.snapshot.id
              ? -1
              : 1,
      ),
      removed: removed.filter((s) => stillGoing.has(s)),
      removedForSize: removedForSize.filter((s) => stillGoing.has(s)),
      storeBytes,
      ...(projectedBytes !== undefined ? { projectedBytes } : {}),
    };
  } finally {
    await lock?.release();
  }
}

/**
 * Which kept snapshots must also go to bring the store under `maxSize`, oldest first. The store after
 * prune is estimated as what the index cannot account for (pack headers, index files, records, garbage
 * already there) plus the cost of the blobs the remaining snapshots reach. Marking runs from the newest
 * candidate down to the oldest, so every tree is read once whatever the number of snapshots.
 */
async function sizeBudget(
  repo: ForgetRepo,
  all: readonly SnapshotRecord[],
  decisions: readonly Decision[],
  storeBytes: number,
  maxSize: number,
  signal: AbortSignal | undefined,
): Promise<{ remove: SnapshotRecord[]; projectedBytes: number }> {
  const cost = blobCosts(repo);
  let indexed = 0;
  for (const at of repo.indexed()) indexed += cost(at.id); // the in-memory index lists each blob once
  const overhead = Math.max(0, storeBytes - indexed);

  const decided = new Map(decisions.map((d) => [d.snapshot, d]));
  const candidates = decisions
    .filter((d) => d.keep && !isProtected(d))
    .map((d) => d.snapshot)
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
  // Stays whatever happens: out of scope, or protected. Goes whatever happens: removed by the policy.
  const fixed = all.filter((s) => {
    const d = decided.get(s);
    return !d || (d.keep && isProtected(d));
  });

  const marked = new Set<string>();
  let bytes = 0;
  const markOptions = { signal, onMark: (id: string) => (bytes += cost(id)), onUnreadable: () => undefined };
  await markReachable(
    repo,
    fixed.map((s) => s.tree),
    marked,
    markOptions,
  );
  // sizes[k]: the store after removing the k oldest candidates.
  const sizes: number[] = new Array(candidates.length + 1);
  sizes[candidates.length] = overhead + bytes;
  for (let k = candidates.length - 1; k >= 0; k--) {
    await markReachable(repo, [candidates[k].tree], marked, markOptions);
    sizes[k] = overhead + bytes;
  }
  let k = 0;
  while (k < candidates.length && sizes[k] > maxSize) k++;
  return { remove: candidates.slice(0, k), projectedBytes: Math.round(sizes[k]) };
}
