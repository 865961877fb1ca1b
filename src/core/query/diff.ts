// Differences between two trees: which files were added, modified or deleted.
// Invariant: subtrees with equal ids are never opened, so comparing a snapshot with its parent costs
// O(what changed), not O(workspace).

import type { Repository } from '../repository/repository';
import type { TreeEntry } from '../repository/tree';
import { compareNames } from '../repository/tree';

export type ChangeKind = 'added' | 'modified' | 'deleted';

export interface Change {
  path: string;
  kind: ChangeKind;
  before?: TreeEntry;
  after?: TreeEntry;
}

function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

function sameLeaf(a: TreeEntry, b: TreeEntry): boolean {
  if (a.type === 'file' && b.type === 'file') {
    return a.mode === b.mode && a.content.length === b.content.length && a.content.every((id, i) => id === b.content[i]);
  }
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  return false;
}

/**
 * Changes from tree `a` to `b`: files and symlinks added, modified or deleted, and whole folders added or
 * deleted (the folder first, then everything in it).
 * Either side may be undefined, meaning an empty tree.
 */
export async function diffTrees(repo: Repository, a: string | undefined, b: string | undefined, prefix = ''): Promise<Change[]> {
  const changes: Change[] = [];
  await walkDiff(repo, a, b, prefix, changes);
  return changes;
}

async function walkDiff(repo: Repository, a: string | undefined, b: string | undefined, dir: string, out: Change[]): Promise<void> {
  if (a === b) return;
  const left = a ? (await repo.loadTree(a)).entries : [];
  const right = b ? (await repo.loadTree(b)).entries : [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const l = left[i];
    const r = right[j];
    const cmp = !l ? 1 : !r ? -1 : compareNames(l.name, r.name);
    if (cmp < 0) {
      await emitSide(repo, l, dir, 'deleted', out);
      i++;
    } else if (cmp > 0) {
      await emitSide(repo, r, dir, 'added', out);
      j++;
    } else {
      const path = joinPath(dir, l.name);
      if (l.type === 'dir' && r.type === 'dir') await walkDiff(repo, l.tree, r.tree, path, out);
      else if (l.type === 'dir' || r.type === 'dir') {
        await emitSide(repo, l, dir, 'deleted', out);
        await emitSide(repo, r, dir, 'added', out);
      } else if (l.type !== r.type || !sameLeaf(l, r)) out.push({ path, kind: 'modified', before: l, after: r });
      i++;
      j++;
    }
  }
}

async function emitSide(repo: Repository, entry: TreeEntry, dir: string, kind: 'added' | 'deleted', out: Change[]): Promise<void> {
  const path = joinPath(dir, entry.name);
  out.push(kind === 'added' ? { path, kind, after: entry } : { path, kind, before: entry });
  if (entry.type !== 'dir') return;
  for (const child of (await repo.loadTree(entry.tree)).entries) await emitSide(repo, child, path, kind, out);
}

export interface ChangeCounts {
  filesNew: number;
  filesChanged: number;
  filesDeleted: number;
}

export function countChanges(changes: readonly Change[]): ChangeCounts {
  const counts: ChangeCounts = { filesNew: 0, filesChanged: 0, filesDeleted: 0 };
  for (const change of changes) {
    if ((change.after ?? change.before)?.type === 'dir') continue;
    if (change.kind === 'added') counts.filesNew++;
    else if (change.kind === 'modified') counts.filesChanged++;
    else counts.filesDeleted++;
  }
  return counts;
}
