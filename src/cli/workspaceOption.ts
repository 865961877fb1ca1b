// `--workspace <name|id|path>`: which workspace of the store a command means. A folder path keeps its old
// meaning (its snapshots, found even when the folder is gone); a name or an id picks one of the workspaces
// the store holds, so a project can be reached from anywhere after its folder was lost.

import * as path from 'node:path';
import { BackupError, isBackupError } from '../core/errors';
import { resolveWorkspace, summarize } from '../core/query/workspaces';
import type { WorkspaceSummary } from '../core/query/workspaces';
import type { Repository } from '../core/repository/repository';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import { identifyWorkspace, workspaceIdFor } from '../core/snapshot/workspace';
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
 * The workspace `given` names among `all` (every snapshot record). `strict` refuses a folder path that has
 * no snapshots (restore, ls: they need one); otherwise it selects nothing (list answers "No snapshots yet").
 */
export async function selectWorkspace(all: readonly SnapshotRecord[], given: string, strict: boolean): Promise<SelectedWorkspace> {
  const summaries = await summarize(all);
  const abs = path.resolve(given);
  const id = await idOfFolder(abs);
  const byFolder = new Set(all.filter((s) => s.workspace.id === id || s.workspace.path === abs).map((s) => s.workspace.id));
  if (byFolder.size > 0) {
    const ids = [...byFolder];
    return { ids, summary: summaries.find((s) => s.id === (byFolder.has(id) ? id : ids[0])) };
  }
  try {
    const summary = resolveWorkspace(summaries, given);
    return { ids: [summary.id], summary };
  } catch (error) {
    const looksLikePath = given.includes('/') || given.includes(path.sep) || given === '.' || given === '..' || (await nodeFs.stat(abs).then((s) => s.isDirectory(), () => false));
    if (!strict && looksLikePath && isBackupError(error, 'WORKSPACE_UNKNOWN')) return { ids: [id] };
    throw error;
  }
}

/** The snapshots of the workspace `given` names (all of them when it is undefined), oldest first. */
export async function workspaceSnapshots(all: SnapshotRecord[], given: string | undefined): Promise<SnapshotRecord[]> {
  if (given === undefined) return all;
  const { ids } = await selectWorkspace(all, given, false);
  return all.filter((s) => ids.includes(s.workspace.id));
}

/**
 * A snapshot reference as restore and ls take it: `latest` and id prefixes among the snapshots of the
 * workspace `given` names when there is one (a full id is always that snapshot), else among the whole store's.
 */
export async function resolveInWorkspace(repo: Repository, ref: string, given: string | undefined): Promise<SnapshotRecord> {
  if (given === undefined) return repo.resolveSnapshot(ref);
  const { ids } = await selectWorkspace(await repo.listSnapshots({ onDamaged: () => undefined }), given, true);
  return repo.resolveSnapshot(ref, ids);
}
