// The Snapshots view's filter: by trigger, by label, only the notable moments, or only the snapshots that
// changed a file or folder (core/query/browse.ts history: a snapshot where the path's content differs from
// the one before, its deletion included). The command asks which; the view shows what the filter lets through.

import * as vscode from 'vscode';
import { history } from '../../core/query/browse';
import { applyFilter, triggerPhrase } from '../../core/query/timeline';
import type { TimelineFilter } from '../../core/query/timeline';
import type { Repository } from '../../core/repository/repository';
import type { SnapshotRecord, Trigger } from '../../core/repository/snapshotRecord';

export interface SnapshotFilter extends Omit<TimelineFilter, 'ids'> {
  /** Only snapshots that changed this workspace-relative file or folder. */
  path?: string;
}

/** "changed src/lib", "labelled "release"", "on save or external change": what the view shows, in its title. */
export function describeFilter(filter: SnapshotFilter): string {
  const parts: string[] = [];
  if (filter.path) parts.push(`that changed ${filter.path}`);
  if (filter.label) parts.push(`labelled "${filter.label}"`);
  if (filter.notable) parts.push('labelled or pinned');
  if (filter.triggers?.length) parts.push(filter.triggers.map(triggerPhrase).join(' or '));
  return parts.join(', ') || 'all';
}

/** The snapshots (oldest first) that the filter lets through. */
export async function filterSnapshots(
  repo: Repository,
  _folder: vscode.WorkspaceFolder,
  snapshots: readonly SnapshotRecord[],
  filter: SnapshotFilter,
): Promise<SnapshotRecord[]> {
  const ids = filter.path
    ? new Set((await history(repo, snapshots, filter.path)).map((v) => v.snapshot.id))
    : undefined;
  return applyFilter(snapshots, { ...filter, ...(ids ? { ids } : {}) });
}

export const FILTER_TRIGGERS: readonly Trigger[] = [
  'save',
  'external',
  'pre-restore',
  'restore',
  'manual',
  'schedule',
  'startup',
  'cli',
];
