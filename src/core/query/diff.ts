// Differences between two trees: which files were added, modified or deleted.
// Invariant: subtrees with equal ids are never opened, so comparing a snapshot with its parent costs
// O(what changed), not O(workspace).

import type { Repository } from '../repository/repository';
import type { TreeEntry } from '../repository/tree';
import { MAX_TREE_DEPTH, compareNames, tooDeep } from '../repository/tree';

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
    return (
      a.mode === b.mode && a.content.length === b.content.length && a.content.every((id, i) => id === b.content[i])
    );
  }
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  return false;
}

/**
 * Changes from tree `a` to `b`: files and symlinks added, modified or deleted, and whole folders added or
 * deleted (the folder first, then everything in it).
 * Either side may be undefined, meaning an empty tree.
 */
export async function diffTrees(
  repo: Repository,
  a: string | undefined,
  b: string | undefined,
  prefix = '',
  names: Names = {},
): Promise<Change[]> {
  const changes: Change[] = [];
  await walkDiff(repo, a, b, prefix, changes, { names, depth: prefix ? prefix.split('/').length : 0 });
  return changes;
}

/** How each side is named in a sentence ("Snapshot 1a2b3c4d"); a tree too deep to walk is refused by name. */
export interface Names {
  a?: string;
  b?: string;
}

interface Walk {
  names: Names;
  /** Components in `dir`. */
  depth: number;
}

function refuseDepth(walk: Walk, side: 'a' | 'b', entries: readonly TreeEntry[]): void {
  if (walk.depth >= MAX_TREE_DEPTH && entries.length > 0) throw tooDeep(walk.names[side] ?? 'A snapshot');
}

async function walkDiff(
  repo: Repository,
  a: string | undefined,
  b: string | undefined,
  dir: string,
  out: Change[],
  walk: Walk,
): Promise<void> {
  if (a === b) return;
  const left = a ? (await repo.loadTree(a)).entries : [];
  const right = b ? (await repo.loadTree(b)).entries : [];
  refuseDepth(walk, 'a', left);
  refuseDepth(walk, 'b', right);
  const down = { names: walk.names, depth: walk.depth + 1 };
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const l = left[i];
    const r = right[j];
    const cmp = !l ? 1 : !r ? -1 : compareNames(l.name, r.name);
    if (cmp < 0) {
      await emitSide(repo, l, dir, 'deleted', out, down);
      i++;
    } else if (cmp > 0) {
      await emitSide(repo, r, dir, 'added', out, down);
      j++;
    } else {
      const path = joinPath(dir, l.name);
      if (l.type === 'dir' && r.type === 'dir') await walkDiff(repo, l.tree, r.tree, path, out, down);
      else if (l.type === 'dir' || r.type === 'dir') {
        await emitSide(repo, l, dir, 'deleted', out, down);
        await emitSide(repo, r, dir, 'added', out, down);
      } else if (l.type !== r.type || !sameLeaf(l, r)) out.push({ path, kind: 'modified', before: l, after: r });
      i++;
      j++;
    }
  }
}

/** `walk.depth` counts the components of `path`, the entry's own path. */
async function emitSide(
  repo: Repository,
  entry: TreeEntry,
  dir: string,
  kind: 'added' | 'deleted',
  out: Change[],
  walk: Walk,
): Promise<void> {
  const path = joinPath(dir, entry.name);
  out.push(kind === 'added' ? { path, kind, after: entry } : { path, kind, before: entry });
  if (entry.type !== 'dir') return;
  const { entries } = await repo.loadTree(entry.tree);
  refuseDepth(walk, kind === 'added' ? 'b' : 'a', entries);
  const down = { names: walk.names, depth: walk.depth + 1 };
  for (const child of entries) await emitSide(repo, child, path, kind, out, down);
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
