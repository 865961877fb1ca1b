// The workspaces a store holds, read from its snapshot records: what "Restore a Project from Backups" and
// `project-backup workspaces` list, and how a name, id or path given by a user picks one of them.
// Invariants: reading only and lockless (like ls and find), so it works on a read-only store, an encrypted
// one and a destination's copy alike; a damaged record is passed over, never fatal.

import * as path from 'node:path';
import * as fs from 'node:fs';
import { BackupError } from '../errors';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import { historyIdsFrom, loadLineageRecords } from '../records/lineageRecords';
import type { LineageRecord, LineageStore } from '../records/lineageRecords';

export interface WorkspaceSummary {
  id: string;
  /** The last folder name the workspace had (basename of `lastPath`). */
  name: string;
  /** Where its latest snapshot was taken. */
  lastPath: string;
  /** Time of its latest snapshot (ISO 8601). */
  lastTime: string;
  snapshots: number;
  /** Total size of the files in the latest snapshot. */
  bytes: number;
  latestSnapshotId: string;
  latestLabel?: string;
  /** Whether `lastPath` is a folder on this machine now. */
  folderExists: boolean;
  git?: { branch?: string; remote?: string; rootCommit?: string };
  /**
   * Workspaces whose history this one continues (a project moved or renamed: see lineage.ts), nearest
   * first; their snapshots are counted here and they are not listed on their own.
   */
  previousIds?: string[];
}

/** What listing needs of a store: its snapshot records (any Backend, plain or encrypted). */
export interface SnapshotSource {
  listSnapshots(options?: {
    reload?: boolean;
    onDamaged?: (key: string, error: BackupError) => void;
  }): Promise<SnapshotRecord[]>;
}

/** A store with its lineage records (a Repository is one). */
export type WorkspaceStore = SnapshotSource & LineageStore;

export interface ListWorkspacesOptions {
  /** Whether a folder exists (default: a folder on this machine's file system). */
  exists?: (path: string) => Promise<boolean>;
  /** Told of each damaged snapshot record passed over. */
  onDamaged?: (key: string, error: BackupError) => void;
}

export async function folderExists(folder: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(folder)).isDirectory();
  } catch {
    return false;
  }
}

/** The last component of a path written on any system (records may come from another machine). */
export function workspaceName(folder: string): string {
  const trimmed = folder.replace(/[\\/]+$/, '');
  const name = trimmed.slice(Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\')) + 1);
  return name || folder;
}

/**
 * Summaries of records already read, newest workspace first. With `links` (lineage records), a workspace
 * that another listed one continues is folded into it: counted there, not listed on its own.
 */
export async function summarize(
  records: readonly SnapshotRecord[],
  exists: (path: string) => Promise<boolean> = folderExists,
  links: readonly LineageRecord[] = [],
): Promise<WorkspaceSummary[]> {
  const byId = new Map<string, { latest: SnapshotRecord; count: number }>();
  for (const record of records) {
    const seen = byId.get(record.workspace.id);
    if (!seen) byId.set(record.workspace.id, { latest: record, count: 1 });
    else {
      seen.count++;
      if (record.time >= seen.latest.time) seen.latest = record;
    }
  }
  const lines = new Map(
    [...byId.keys()].map((id) => [id, historyIdsFrom(links, id).filter((other) => byId.has(other))]),
  );
  // Hidden: continued by another listed workspace that does not itself continue it (a cycle lists both).
  const hidden = new Set<string>();
  for (const [id, line] of lines)
    for (const previous of line.slice(1)) if (!lines.get(previous)?.includes(id)) hidden.add(previous);
  const summaries = await Promise.all(
    [...byId]
      .filter(([id]) => !hidden.has(id))
      .map(async ([id, own]): Promise<WorkspaceSummary> => {
        const line = lines.get(id) ?? [id];
        let latest = own.latest;
        let count = 0;
        for (const member of line) {
          const group = byId.get(member) as { latest: SnapshotRecord; count: number };
          count += group.count;
          if (group.latest.time > latest.time) latest = group.latest;
        }
        const summary: WorkspaceSummary = {
          id,
          name: workspaceName(own.latest.workspace.path),
          lastPath: own.latest.workspace.path,
          lastTime: latest.time,
          snapshots: count,
          bytes: latest.stats.bytes,
          latestSnapshotId: latest.id,
          folderExists: await exists(own.latest.workspace.path).catch(() => false),
        };
        if (latest.label) summary.latestLabel = latest.label;
        const git = latest.git;
        if (git && (git.branch || git.remote || git.rootCommit)) {
          summary.git = {};
          if (git.branch) summary.git.branch = git.branch;
          if (git.remote) summary.git.remote = git.remote;
          if (git.rootCommit) summary.git.rootCommit = git.rootCommit;
        }
        if (line.length > 1) summary.previousIds = line.slice(1);
        return summary;
      }),
  );
  return summaries.sort((a, b) => (a.lastTime < b.lastTime ? 1 : a.lastTime > b.lastTime ? -1 : a.id < b.id ? -1 : 1));
}

/** Every workspace the store holds snapshots of, newest first. Takes no lock and writes nothing. */
export async function listWorkspaces(
  repo: WorkspaceStore,
  opts: ListWorkspacesOptions = {},
): Promise<WorkspaceSummary[]> {
  const onDamaged = opts.onDamaged ?? (() => undefined);
  const records = await repo.listSnapshots({ reload: true, onDamaged });
  return summarize(records, opts.exists, await loadLineageRecords(repo, { onDamaged }));
}

function describe(summary: WorkspaceSummary): string {
  return `${summary.name} (${summary.lastPath}, id ${summary.id.slice(0, 8)})`;
}

/** Paths compared as given and without a trailing separator; case is significant (as on Linux). */
function samePath(a: string, b: string): boolean {
  const clean = (p: string) => (p.length > 1 ? p.replace(/[\\/]+$/, '') : p);
  return clean(a) === clean(b);
}

/**
 * The workspace a user means by `nameOrIdOrPath`: an exact id, then a path (its last path, as given or
 * resolved from the current folder), then a folder name, then a unique id prefix. Unknown or ambiguous is a
 * BackupError (WORKSPACE_UNKNOWN, WORKSPACE_AMBIGUOUS) whose one sentence lists the choices.
 */
export function resolveWorkspace(summaries: readonly WorkspaceSummary[], nameOrIdOrPath: string): WorkspaceSummary {
  const given = nameOrIdOrPath.trim();
  const choices = () => summaries.map(describe).join('; ');
  if (summaries.length === 0) {
    throw new BackupError('WORKSPACE_UNKNOWN', `No workspace "${given}": the store holds no snapshots yet.`, { given });
  }
  const exact = summaries.filter((s) => s.id === given.toLowerCase() || s.previousIds?.includes(given.toLowerCase()));
  if (exact.length === 1) return exact[0];
  const byPath = summaries.filter((s) => samePath(s.lastPath, given) || samePath(s.lastPath, path.resolve(given)));
  if (byPath.length === 1) return byPath[0];
  const pick = (found: WorkspaceSummary[], how: string): WorkspaceSummary | undefined => {
    if (found.length === 1) return found[0];
    if (found.length > 1) {
      throw new BackupError(
        'WORKSPACE_AMBIGUOUS',
        `"${given}" ${how} ${found.length} workspaces: ${found.map(describe).join('; ')}; give its id or its path.`,
        { given, ids: found.map((s) => s.id) },
      );
    }
    return undefined;
  };
  const found =
    pick(byPath, 'is the path of') ??
    pick(
      summaries.filter((s) => s.name === given),
      'names',
    ) ??
    (/^[0-9a-f]+$/i.test(given)
      ? pick(
          summaries.filter((s) => s.id.startsWith(given.toLowerCase())),
          'begins the id of',
        )
      : undefined);
  if (found) return found;
  throw new BackupError(
    'WORKSPACE_UNKNOWN',
    `No workspace in the store is called "${given}"; it holds ${summaries.length === 1 ? 'one' : summaries.length}: ${choices()}.`,
    { given },
  );
}
