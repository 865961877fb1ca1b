// `--workspace <name|id|path>`: which workspace of the store a command means. A folder path keeps its old
// meaning (its snapshots, found even when the folder is gone); a name or an id picks one of the workspaces
// the store holds, so a project can be reached from anywhere after its folder was lost.

import * as path from 'node:path';
import { BackupError, isBackupError } from '../core/errors';
import { historyIdsFrom, loadLineageRecords } from '../core/records/lineageRecords';
import type { LineageStore } from '../core/records/lineageRecords';
import { resolveWorkspace, summarize } from '../core/query/workspaces';
import type { WorkspaceSummary } from '../core/query/workspaces';
import type { Repository } from '../core/repository/repository';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import { identifyWorkspace, workspaceIdFor } from '../core/workspace/workspace';
import { nodeFs } from '../core/storage/fsPort';

export interface SelectedWorkspace {
  /** The workspace's ids whose snapshots are its history. */
  ids: string[];
  /** The workspace as the store knows it; undefined when a folder path was given that has no snapshots. */
  summary?: WorkspaceSummary;
}

/** The id a folder path has (its real path when it exists, the path as given when it is gone). */
async function idOfFolder(abs: string): Promise<string> {
  try {
    return (await identifyWorkspace(nodeFs, abs)).id;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    return workspaceIdFor(abs);
  }
}

/**
 * The workspace `given` names among `all` (every snapshot record), with the ids of the history it continues
 * (a moved project: query/lineage.ts). `strict` refuses a folder path that has no snapshots (restore, ls:
 * they need one); otherwise it selects nothing but that folder's own id (list answers "No snapshots yet").
 */
export async function selectWorkspace(
  store: LineageStore,
  all: readonly SnapshotRecord[],
  given: string,
  strict: boolean,
): Promise<SelectedWorkspace> {
  const links = await loadLineageRecords(store);
  const summaries = await summarize(all, undefined, links);
  const withHistory = (ids: string[]) => [...new Set(ids.flatMap((id) => historyIdsFrom(links, id)))];
  const abs = path.resolve(given);
  const id = await idOfFolder(abs);
  const byFolder = new Set(
    all.filter((s) => s.workspace.id === id || s.workspace.path === abs).map((s) => s.workspace.id),
  );
  if (byFolder.size > 0 || links.some((link) => link.to === id)) {
    const ids = byFolder.size > 0 ? [...byFolder] : [id];
    const main = byFolder.has(id) || byFolder.size === 0 ? id : ids[0];
    return { ids: withHistory(ids), summary: summaries.find((s) => s.id === main) };
  }
  try {
    const summary = resolveWorkspace(summaries, given);
    return { ids: withHistory([summary.id]), summary };
  } catch (error) {
    const looksLikePath =
      given.includes('/') ||
      given.includes(path.sep) ||
      given === '.' ||
      given === '..' ||
      (await nodeFs.stat(abs).then(
        (s) => s.isDirectory(),
        () => false,
      ));
    if (!strict && looksLikePath && isBackupError(error, 'WORKSPACE_UNKNOWN')) return { ids: [id] };
    throw error;
  }
}

/** The snapshots of the workspace `given` names, its whole history (all of them when it is undefined), oldest first. */
export async function workspaceSnapshots(
  store: LineageStore,
  all: SnapshotRecord[],
  given: string | undefined,
): Promise<SnapshotRecord[]> {
  if (given === undefined) return all;
  const { ids } = await selectWorkspace(store, all, given, false);
  return all.filter((s) => ids.includes(s.workspace.id));
}

/**
 * A snapshot reference as restore and ls take it: `latest` and id prefixes among the snapshots of the
 * workspace `given` names (its whole history) when there is one (a full id is always that snapshot), else
 * among the whole store's.
 */
export async function resolveInWorkspace(
  repo: Repository,
  ref: string,
  given: string | undefined,
): Promise<SnapshotRecord> {
  if (given === undefined) return repo.resolveSnapshot(ref);
  const { ids } = await selectWorkspace(repo, await repo.listSnapshots({ onDamaged: () => undefined }), given, true);
  return repo.resolveSnapshot(ref, ids);
}
