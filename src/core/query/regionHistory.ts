// The history of a region of a file (#15, "Show History for Selection"): the versions in which the selected
// lines changed, newest first, each with where the region was in it. The region is followed back through the
// edits above and around it (a line-range history, as `git log -L` does), so a selection keeps meaning the
// same code when lines were added above it. Works from the store alone, without git.
// Invariant: reads only; binary files and files over MAX_BYTES have no region history (an empty list).

import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import { readWholeFile } from './browse';
import { historyFollowingRenames } from './renames';
import { lineDiff, mapRangeBack, splitLines } from './lineDiff';

export interface RegionVersion {
  snapshot: SnapshotRecord;
  /** The file's path in this version (an earlier name, before a rename). */
  path: string;
  /** Where the region was in this version (0-based lines, [start, end)). */
  start: number;
  end: number;
  /** The region's text in this version. */
  text: string;
}

const MAX_BYTES = 4 * 1024 * 1024;
/** Versions read at most: a long history stops here (the oldest are the least often wanted). */
const MAX_VERSIONS = 500;

function isText(data: Buffer): boolean {
  return !data.subarray(0, 8000).includes(0);
}

/**
 * The versions of `path` (in `snapshots`, oldest first: a workspace's history) in which lines [start, end)
 * of `current` (the file as it is now) were different from the next newer state, newest first. The walk
 * stops where the region did not exist yet.
 */
export async function regionHistory(
  repo: Repository,
  snapshots: readonly SnapshotRecord[],
  path: string,
  current: string,
  start: number,
  end: number,
): Promise<RegionVersion[]> {
  let refLines = splitLines(current);
  let range = { start, end: Math.max(start, end) };
  let refText = refLines.slice(range.start, range.end).join('\n');
  const found: RegionVersion[] = [];
  // Across renames and moves: an older version is read at the path it had then.
  const versions = (await historyFollowingRenames(repo, snapshots, path)).slice(0, MAX_VERSIONS);
  for (const version of versions) {
    if (!version.entry || version.entry.type !== 'file') continue; // deleted there: the next older one holds it
    if (version.entry.size > MAX_BYTES) break;
    const data = await readWholeFile(repo, version.snapshot, version.path);
    if (!isText(data)) break;
    const lines = splitLines(data.toString('utf8'));
    const mapped = mapRangeBack(lineDiff(lines, refLines), range.start, range.end);
    if (mapped.end <= mapped.start && range.end > range.start) break; // the region did not exist yet
    const text = lines.slice(mapped.start, mapped.end).join('\n');
    if (text !== refText)
      found.push({ snapshot: version.snapshot, path: version.path, start: mapped.start, end: mapped.end, text });
    refLines = lines;
    range = mapped;
    refText = text;
  }
  return found;
}
