// History follows the project, not the path (#12). A workspace is its real path's id (workspace.ts); a
// project moved or renamed gets a new id, and a lineage record (lineageRecords.ts) says that the new id
// continues the old one, so listings, file history and `latest` of the new one include the old snapshots,
// and its first snapshot takes the old one's latest as parent. This module finds the likely predecessor of
// a folder without backups, writes the link, and answers which ids make a workspace's history.
// Invariants: finding reads only (no lock); linking takes a shared lock and only adds a record.

import { isBackupError, BackupError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import { MAX_TREE_DEPTH } from '../repository/tree';
import { Rules } from '../scan/rules';
import { Scanner } from '../scan/scanner';
import { GitInfoReader, comparableRemote } from '../workspace/gitInfo';
import { identifyWorkspace } from '../workspace/workspace';
import type { WorkspaceIdentity } from '../workspace/workspace';
import type { FsPort } from '../storage/fsPort';
import { historyIdsFrom, loadLineageRecords, saveLineageRecord } from '../records/lineageRecords';
import type { LineageRecord, LineageStore } from '../records/lineageRecords';
import { summarize } from './workspaces';
import type { WorkspaceSummary } from './workspaces';

/** Share of files (by path and size) a folder and a workspace's latest snapshot must have in common. */
export const SAME_FILES_SHARE = 0.5;

/** The ids whose snapshots are `workspaceId`'s history: itself first, then those it continues, nearest first. */
export async function workspaceHistoryIds(repo: LineageStore, workspaceId: string): Promise<string[]> {
  return historyIdsFrom(await loadLineageRecords(repo), workspaceId);
}

/** The snapshots of a workspace's whole history (see workspaceHistoryIds), oldest first. */
export async function workspaceSnapshots(
  repo: Repository,
  workspaceId: string,
  options: { reload?: boolean; onDamaged?: (key: string, error: BackupError) => void } = {},
): Promise<SnapshotRecord[]> {
  const ids = new Set(await workspaceHistoryIds(repo, workspaceId));
  return (
    await repo.listSnapshots({ reload: options.reload, onDamaged: options.onDamaged ?? (() => undefined) })
  ).filter((s) => ids.has(s.workspace.id));
}

export interface ContinuedHistory {
  from: string;
  to: WorkspaceIdentity;
  /** False when the link was already there (from this or another process). */
  created: boolean;
}

/**
 * Makes the snapshots of workspace `fromWorkspaceId` count as the history of the folder `toFolder` (which
 * must exist): one lineage record, under a shared lock (like a snapshot, it only adds). Idempotent. Throws
 * WORKSPACE_UNKNOWN when the store has no snapshot of `fromWorkspaceId`, USAGE when it is the folder itself,
 * PERMISSION_DENIED / NO_SPACE when the store cannot be written.
 */
export async function continueHistory(
  repo: Repository,
  fromWorkspaceId: string,
  toFolder: string,
  port: FsPort = repo.port,
): Promise<ContinuedHistory> {
  const to = await identifyWorkspace(port, toFolder);
  const from = fromWorkspaceId.toLowerCase();
  if (from === to.id)
    throw new BackupError('USAGE', `${to.path} is that workspace already; its history is its own.`, { path: to.path });
  const all = await repo.listSnapshots({ onDamaged: () => undefined });
  const old = all.filter((s) => s.workspace.id === from).pop();
  if (!old)
    throw new BackupError(
      'WORKSPACE_UNKNOWN',
      `The store at ${repo.location} holds no snapshot of workspace ${from}.`,
      { id: from },
    );
  const lock = await repo.lock(false, `continuing the history of ${old.workspace.path} in ${to.path}`);
  try {
    const before = await loadLineageRecords(repo);
    if (historyIdsFrom(before, to.id).includes(from)) return { from, to, created: false };
    const record: LineageRecord = { v: 1, from, to: to.id, toPath: to.path, time: repo.now().toISOString() };
    await saveLineageRecord(repo, record);
    return { from, to, created: true };
  } finally {
    await lock.release();
  }
}

export interface FindOptions {
  /** Ask git for the folder's remote and root commit (default true; the editor says false in untrusted folders). */
  git?: boolean;
}

/**
 * The workspace a folder without backups most likely was before it moved: among the store's workspaces
 * whose folder no longer exists, one with the same git remote and root commit, else the one whose latest
 * snapshot has the most files identical (same path and size) to the folder, when that is most of them (see
 * SAME_FILES_SHARE). Undefined when the folder has snapshots of its own or already continues a history, or
 * nothing is likely. `reason` is one sentence for the question to the user. Reads only, takes no lock.
 */
export async function findLikelyPredecessor(
  repo: Repository,
  folder: string,
  port: FsPort,
  options: FindOptions = {},
): Promise<{ workspace: WorkspaceSummary; reason: string } | undefined> {
  const me = await identifyWorkspace(port, folder);
  const records = await repo.listSnapshots({ onDamaged: () => undefined });
  if (records.some((s) => s.workspace.id === me.id || s.workspace.path === me.path)) return undefined;
  const links = await loadLineageRecords(repo);
  if (links.some((link) => link.to === me.id)) return undefined;
  const continued = new Set(links.map((link) => link.from));
  const exists = (p: string) =>
    port.stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    );
  const candidates = (await summarize(records, exists, links)).filter((s) => !s.folderExists && !continued.has(s.id));
  if (candidates.length === 0) return undefined;

  if (options.git !== false) {
    const git = await new GitInfoReader(me.path, port).read();
    if (git?.rootCommit) {
      const remote = git.remote ? comparableRemote(git.remote) : undefined;
      const same = candidates.find(
        (c) =>
          c.git?.rootCommit === git.rootCommit &&
          (c.git?.remote ? comparableRemote(c.git.remote) : undefined) === remote,
      );
      if (same) {
        const what = git.remote
          ? `the same git repository (${git.remote}, first commit ${git.rootCommit.slice(0, 8)})`
          : `the same git history (first commit ${git.rootCommit.slice(0, 8)}, no remote)`;
        return { workspace: same, reason: `${me.path} is ${what} as ${same.lastPath}, which no longer exists.` };
      }
    }
  }

  const here = await filesIn(me.path, port);
  if (here.size === 0) return undefined;
  let best: { workspace: WorkspaceSummary; same: number; total: number } | undefined;
  for (const candidate of candidates) {
    const snapshot = records.find((s) => s.id === candidate.latestSnapshotId);
    if (!snapshot) continue;
    const compared = await compareWithSnapshot(repo, snapshot, here);
    if (!compared) continue;
    const total = Math.max(here.size, compared.files);
    if (compared.same / total < SAME_FILES_SHARE) continue;
    if (!best || compared.same / total > best.same / best.total)
      best = { workspace: candidate, same: compared.same, total };
  }
  if (!best) return undefined;
  return {
    workspace: best.workspace,
    reason: `${best.same} of ${best.total} files in ${me.path} are the same (path and size) as in the latest snapshot of ${best.workspace.lastPath}, which no longer exists.`,
  };
}

/** Path -> size of the files a snapshot would take (default excludes; without .git, whose files say nothing of the project). */
async function filesIn(root: string, port: FsPort): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  const scanner = new Scanner(root, { rules: new Rules() }, port);
  for await (const entry of scanner.walk())
    if (entry.kind === 'file' && entry.stat) files.set(entry.relPath, entry.stat.size);
  return files;
}

/**
 * How many files of `snapshot` (outside .git) have a path and size in `here`, and how many it has; undefined
 * as soon as it has so many more files than `here` that most cannot be the same, or when it cannot be read.
 */
async function compareWithSnapshot(
  repo: Repository,
  snapshot: SnapshotRecord,
  here: ReadonlyMap<string, number>,
): Promise<{ same: number; files: number } | undefined> {
  const limit = Math.ceil(here.size / SAME_FILES_SHARE);
  let same = 0;
  let files = 0;
  const walk = async (tree: string, prefix: string, depth: number): Promise<boolean> => {
    if (depth > MAX_TREE_DEPTH) return false;
    for (const entry of (await repo.loadTree(tree)).entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (rel === '.git') continue;
      if (entry.type === 'dir') {
        if (!(await walk(entry.tree, rel, depth + 1))) return false;
      } else if (entry.type === 'file') {
        if (++files > limit) return false;
        if (here.get(rel) === entry.size) same++;
      }
    }
    return true;
  };
  try {
    return (await walk(snapshot.tree, '', 0)) ? { same, files } : undefined;
  } catch (error) {
    if (isBackupError(error, 'OBJECT_MISSING') || isBackupError(error, 'OBJECT_DAMAGED')) return undefined;
    throw error;
  }
}
