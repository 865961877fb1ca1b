// Totals of a snapshot (files, folders, symlinks, bytes) when no scan counted them: kept from the parent
// and moved by what changed, or counted from a stored subtree.

import type { Change } from '../query/diff';
import type { Repository } from '../repository/repository';
import type { SnapshotStats } from '../repository/snapshotRecord';
import type { SubtreeTotals } from '../scan/statCache';

export /** Counts of a stored subtree (for a folder kept from the parent without a stat cache entry). */
async function subtreeTotals(repo: Repository, treeId: string): Promise<SubtreeTotals> {
  const totals: SubtreeTotals = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  for (const entry of (await repo.loadTree(treeId)).entries) {
    if (entry.type === 'file') {
      totals.files++;
      totals.bytes += entry.size;
    } else if (entry.type === 'symlink') totals.symlinks++;
    else {
      const sub = await subtreeTotals(repo, entry.tree);
      totals.dirs += 1 + sub.dirs;
      totals.files += sub.files;
      totals.symlinks += sub.symlinks;
      totals.bytes += sub.bytes;
    }
  }
  return totals;
}

export /** Totals of an incremental snapshot: the parent's, moved by what changed. */
function applyChanges(base: SnapshotStats | undefined, changes: readonly Change[]): SubtreeTotals {
  const totals: SubtreeTotals = {
    files: base?.files ?? 0,
    dirs: base?.dirs ?? 0,
    symlinks: base?.symlinks ?? 0,
    bytes: base?.bytes ?? 0,
  };
  for (const change of changes) {
    const sign = change.kind === 'added' ? 1 : change.kind === 'deleted' ? -1 : 0;
    const entry = change.after ?? change.before;
    if (!entry) continue;
    if (change.kind === 'modified') {
      if (change.before?.type === 'file') {
        totals.bytes -= change.before.size;
        totals.files--;
      } else if (change.before?.type === 'symlink') totals.symlinks--;
      if (change.after?.type === 'file') {
        totals.bytes += change.after.size;
        totals.files++;
      } else if (change.after?.type === 'symlink') totals.symlinks++;
      continue;
    }
    if (entry.type === 'file') {
      totals.files += sign;
      totals.bytes += sign * entry.size;
    } else if (entry.type === 'symlink') totals.symlinks += sign;
    else totals.dirs += sign;
  }
  return totals;
}
