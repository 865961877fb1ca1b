// History that follows renames and moves (#15): when a file's oldest version is the snapshot where it
// appeared, and in that same snapshot a file disappeared with the same content (or nearly the same: most
// lines in common), the history continues at that file's path. File History and the history of a selection
// use it, and say where the file was called something else.
// Invariant: reads only; a guess needs the same content, or text files sharing at least SIMILAR of their
// lines, so an unrelated file that happened to be deleted at the same time is never taken for the old name.

import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { TreeEntry } from '../repository/tree';
import { history, readWholeFile } from './browse';
import type { Version } from './browse';
import { diffTrees } from './diff';
import { lineDiff, splitLines } from './lineDiff';

export interface TracedVersion extends Version {
  /** The file's path in this version (differs from the asked path before a rename). */
  path: string;
}

/** Share of lines two versions must have in common to be one file renamed and edited. */
export const SIMILAR = 0.6;
const MAX_HOPS = 20;
const MAX_COMPARED_BYTES = 1024 * 1024;
const MAX_CANDIDATES = 50;

function sameContent(a: TreeEntry, b: TreeEntry): boolean {
  return a.type === 'file' && b.type === 'file' && a.size === b.size && a.content.join() === b.content.join();
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The path the file at `path` in `first` had in `prev`, if it was renamed or moved in between. */
async function renamedFrom(
  repo: Repository,
  prev: SnapshotRecord,
  first: SnapshotRecord,
  path: string,
  entry: TreeEntry,
): Promise<string | undefined> {
  if (entry.type !== 'file') return undefined;
  const gone = (await diffTrees(repo, prev.tree, first.tree)).filter(
    (c) => c.kind === 'deleted' && c.before?.type === 'file',
  );
  const exact = gone.filter((c) => sameContent(c.before as TreeEntry, entry));
  if (exact.length) return (exact.find((c) => baseName(c.path) === baseName(path)) ?? exact[0]).path;
  if (entry.size > MAX_COMPARED_BYTES) return undefined;
  const now = splitLines((await readWholeFile(repo, first, path)).toString('utf8'));
  let best: { path: string; score: number } | undefined;
  const candidates = gone.filter(
    (c) =>
      c.before?.type === 'file' &&
      c.before.size <= MAX_COMPARED_BYTES &&
      c.before.size * 2 >= entry.size &&
      c.before.size <= entry.size * 2,
  );
  for (const c of candidates.slice(0, MAX_CANDIDATES)) {
    const old = splitLines((await readWholeFile(repo, prev, c.path)).toString('utf8'));
    const changed = lineDiff(old, now).reduce((sum, h) => sum + (h.aEnd - h.aStart), 0);
    const common = old.length - changed;
    const score = old.length + now.length ? (2 * common) / (old.length + now.length) : 0;
    if (score >= SIMILAR && (!best || score > best.score)) best = { path: c.path, score };
  }
  return best?.path;
}

/** The distinct versions of `path`, newest first, continuing at the file's earlier path across renames. */
export async function historyFollowingRenames(
  repo: Repository,
  snapshots: readonly SnapshotRecord[],
  path: string,
): Promise<TracedVersion[]> {
  const out: TracedVersion[] = [];
  let current = path;
  let upTo = snapshots.length;
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const scope = snapshots.slice(0, upTo);
    const versions = await history(repo, scope, current);
    for (const v of versions) out.push({ ...v, path: current });
    const oldest = versions[versions.length - 1];
    if (!oldest?.entry) break;
    const at = scope.findIndex((s) => s.id === oldest.snapshot.id);
    if (at <= 0) break;
    const from = await renamedFrom(repo, scope[at - 1], oldest.snapshot, current, oldest.entry);
    if (!from || from === current) break;
    current = from;
    upTo = at;
  }
  return out;
}
