// Labels, pins and removal of snapshot records. Only the record changes (atomically); the data it names is
// untouched, and a removed snapshot's data stays until prune finds nothing else needs it.
// Invariant: each takes a shared lock of its own (#13), so a prune, which holds the store alone, never runs
// while a record it is deciding about is rewritten; callers take none.

import { BackupError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';

const MAX_LABEL = 200;

/** Sets or clears (empty string) a snapshot's label; returns the updated record. */
export async function setLabel(repo: Repository, id: string, label: string): Promise<SnapshotRecord> {
  const trimmed = label.trim();
  if (trimmed.length > MAX_LABEL) throw new BackupError('USAGE', `A label is at most ${MAX_LABEL} characters.`);
  return locked(repo, `labelling snapshot ${id.slice(0, 8)}`, () => relabel(repo, id, trimmed));
}

async function relabel(repo: Repository, id: string, trimmed: string): Promise<SnapshotRecord> {
  const record = await repo.loadSnapshot(id);
  const updated: SnapshotRecord = { ...record };
  if (trimmed) updated.label = trimmed;
  else delete updated.label;
  // A label the user set (or cleared) is theirs: retention keeps it for good, not for the automatic label's time.
  delete updated.autoLabel;
  await repo.saveSnapshot(updated);
  return updated;
}

/**
 * Marks a notable moment with an automatic label ("before switching to main"), unless the snapshot already
 * has a label: a user's label is never replaced, and labels never stack. Returns the record when it was
 * labelled, undefined when it kept its own.
 */
export async function setAutoLabel(repo: Repository, id: string, label: string): Promise<SnapshotRecord | undefined> {
  const trimmed = label.trim().slice(0, MAX_LABEL);
  if (!trimmed) return undefined;
  return locked(repo, `labelling snapshot ${id.slice(0, 8)}`, async () => {
    const record = await repo.loadSnapshot(id);
    if (record.label) return undefined;
    const updated: SnapshotRecord = { ...record, label: trimmed, autoLabel: true };
    await repo.saveSnapshot(updated);
    return updated;
  });
}

/** Pins (retention always keeps it) or unpins a snapshot; returns the updated record. */
export async function setPinned(repo: Repository, id: string, pinned: boolean): Promise<SnapshotRecord> {
  return locked(repo, `${pinned ? 'pinning' : 'unpinning'} snapshot ${id.slice(0, 8)}`, async () => {
    const record = await repo.loadSnapshot(id);
    const updated: SnapshotRecord = { ...record };
    if (pinned) updated.pinned = true;
    else delete updated.pinned;
    await repo.saveSnapshot(updated);
    return updated;
  });
}

/** Removes a snapshot record; pinned snapshots must be unpinned first, so a pin is never lost by a stray click. */
export async function removeSnapshot(repo: Repository, id: string): Promise<void> {
  await locked(repo, `deleting snapshot ${id.slice(0, 8)}`, async () => {
    const record = await repo.loadSnapshot(id);
    if (record.pinned)
      throw new BackupError('USAGE', `Snapshot ${id.slice(0, 8)} is pinned; unpin it before deleting it.`, { id });
    await repo.removeSnapshot(id);
  });
}

/** Runs `task` under a shared lock of its own (prune waits for it; snapshots and other annotations do not). */
async function locked<T>(repo: Repository, purpose: string, task: () => Promise<T>): Promise<T> {
  const lock = await repo.lock(false, purpose);
  try {
    return await task();
  } finally {
    await lock.release();
  }
}

/**
 * The end of the "nothing changed" sentence when a snapshot's label or pin went to the existing snapshot
 * that holds this state (Snapshotter's `annotated`); empty when there was none.
 */
export function annotatedText(
  annotated: { label?: string; previousLabel?: string; pinned?: boolean } | undefined,
): string {
  if (!annotated) return '';
  const what: string[] = [];
  if (annotated.label !== undefined)
    what.push(
      `labelled "${annotated.label}"${annotated.previousLabel ? ` (it was "${annotated.previousLabel}")` : ''}`,
    );
  if (annotated.pinned) what.push('pinned');
  return what.length ? `; that snapshot is now ${what.join(' and ')}` : '';
}
