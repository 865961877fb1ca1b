// Reading a snapshot back without restoring it: list a folder, read a file, follow one path through
// history. Invariant: read-only, and every object read is verified by the repository.

import { BackupError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { TreeEntry } from '../repository/tree';
import { MAX_TREE_DEPTH, findEntry, tooDeep } from '../repository/tree';
import { splitUserPath } from '../repository/safePath';

/**
 * The entry at `path` in a tree (the root folder itself for an empty path), or undefined. `memo`, shared
 * across calls for the same path, lets snapshots that share a subtree share the lookup.
 */
export async function entryAt(
  repo: Repository,
  rootTree: string,
  path: string,
  memo?: Map<string, TreeEntry | undefined>,
): Promise<TreeEntry | undefined> {
  const parts = splitUserPath(path);
  if (parts.length === 0) return { type: 'dir', name: '', tree: rootTree };
  const resolve = async (tree: string, i: number): Promise<TreeEntry | undefined> => {
    const key = `${i}:${tree}`;
    if (memo?.has(key)) return memo.get(key);
    const next = findEntry(await repo.loadTree(tree), parts[i]);
    const result = i === parts.length - 1 ? next : next?.type === 'dir' ? await resolve(next.tree, i + 1) : undefined;
    memo?.set(key, result);
    return result;
  };
  return resolve(rootTree, 0);
}

export interface ListedEntry {
  path: string;
  entry: TreeEntry;
}

/** Entries under `path` in a snapshot; `recursive` walks the whole subtree, folders before their content. */
export async function listTree(
  repo: Repository,
  snapshot: SnapshotRecord,
  path = '',
  recursive = false,
): Promise<ListedEntry[]> {
  const at = await entryAt(repo, snapshot.tree, path);
  const base = splitUserPath(path).join('/');
  if (!at) throw new BackupError('PATH_NOT_FOUND', `${path} is not in snapshot ${snapshot.id.slice(0, 8)}.`, { path });
  if (at.type !== 'dir') return [{ path: base, entry: at }];
  const out: ListedEntry[] = [];
  const walk = async (tree: string, prefix: string, depth: number) => {
    const { entries } = await repo.loadTree(tree);
    if (depth >= MAX_TREE_DEPTH && entries.length > 0)
      throw tooDeep(`Snapshot ${snapshot.id.slice(0, 8)}`, { snapshot: snapshot.id });
    for (const entry of entries) {
      const p = prefix ? `${prefix}/${entry.name}` : entry.name;
      out.push({ path: p, entry });
      if (recursive && entry.type === 'dir') await walk(entry.tree, p, depth + 1);
    }
  };
  await walk(at.tree, base, base ? base.split('/').length : 0);
  return out;
}

/** The content of a file in a snapshot, chunk by chunk (so large files stream). */
export async function* readFile(repo: Repository, snapshot: SnapshotRecord, path: string): AsyncGenerator<Buffer> {
  const entry = await entryAt(repo, snapshot.tree, path);
  if (!entry)
    throw new BackupError('PATH_NOT_FOUND', `${path} is not in snapshot ${snapshot.id.slice(0, 8)}.`, { path });
  if (entry.type === 'dir')
    throw new BackupError('PATH_NOT_FOUND', `${path} is a folder in snapshot ${snapshot.id.slice(0, 8)}, not a file.`, {
      path,
    });
  if (entry.type === 'symlink') {
    yield Buffer.from(entry.target, 'utf8');
    return;
  }
  for (const id of entry.content) yield await repo.loadBlob(id);
}

export async function readWholeFile(repo: Repository, snapshot: SnapshotRecord, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of readFile(repo, snapshot, path)) parts.push(part);
  return Buffer.concat(parts);
}

export interface Version {
  snapshot: SnapshotRecord;
  /** Undefined when this snapshot is where the path was deleted. */
  entry?: TreeEntry;
}

function signature(entry: TreeEntry | undefined): string {
  if (!entry) return '-';
  switch (entry.type) {
    case 'file':
      return `f:${entry.mode}:${entry.content.join(',')}`;
    case 'symlink':
      return `l:${entry.target}`;
    case 'dir':
      return `d:${entry.tree}`;
  }
}

/**
 * The distinct versions of one path across a workspace's snapshots, newest first: a snapshot appears when
 * the path's content differs from the snapshot before it, including the snapshot where it was deleted.
 */
export async function history(
  repo: Repository,
  snapshots: readonly SnapshotRecord[],
  path: string,
): Promise<Version[]> {
  const memo = new Map<string, TreeEntry | undefined>();
  const versions: Version[] = [];
  let previous = '-';
  for (const snapshot of snapshots) {
    const entry = await entryAt(repo, snapshot.tree, path, memo);
    const sig = signature(entry);
    if (sig !== previous) versions.push(entry ? { snapshot, entry } : { snapshot });
    previous = sig;
  }
  return versions.reverse();
}
